#pragma once
// CRC-32C (Castagnoli), as used by Kafka record batches v2. Uses the SSE4.2 crc32 instruction
// when the CPU has it, a table otherwise; both give identical results.

#include <cstddef>
#include <cstdint>
#include <span>

namespace tern::bytes {

// Extends `crc` (0 for a fresh checksum) over `len` bytes at `data`.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t len);

inline uint32_t crc32c(const void* data, size_t len) { return crc32c_extend(0, data, len); }
inline uint32_t crc32c(std::span<const uint8_t> s) { return crc32c(s.data(), s.size()); }

}  // namespace tern::bytes
