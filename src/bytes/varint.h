#pragma once
// Varints as Kafka uses them: unsigned LEB128 (compact lengths in flexible versions) and
// zig-zag signed varints (record fields). Decoders are bounded: they never read past `end`
// and reject encodings longer than the type allows.

#include <cstddef>
#include <cstdint>
#include <optional>

namespace tern::bytes {

constexpr size_t kMaxVarint32Bytes = 5;
constexpr size_t kMaxVarint64Bytes = 10;

inline uint32_t zigzag_encode32(int32_t v) { return (uint32_t(v) << 1) ^ uint32_t(v >> 31); }
inline uint64_t zigzag_encode64(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }
inline int32_t zigzag_decode32(uint32_t v) { return int32_t(v >> 1) ^ -int32_t(v & 1); }
inline int64_t zigzag_decode64(uint64_t v) { return int64_t(v >> 1) ^ -int64_t(v & 1); }

// Writes `v` at `out` (room for kMaxVarint64Bytes), returns the number of bytes written.
inline size_t put_uvarint(uint8_t* out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = uint8_t(v) | 0x80;
    v >>= 7;
  }
  out[n++] = uint8_t(v);
  return n;
}

inline size_t uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Reads an unsigned varint of at most `max_bytes` from [p, end); advances p. nullopt when the
// input ends first or the encoding is too long.
inline std::optional<uint64_t> get_uvarint(const uint8_t*& p, const uint8_t* end,
                                           size_t max_bytes = kMaxVarint64Bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < max_bytes; ++i) {
    if (p == end) return std::nullopt;
    uint8_t b = *p++;
    v |= uint64_t(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) return v;
  }
  return std::nullopt;
}

inline std::optional<int32_t> get_varint32(const uint8_t*& p, const uint8_t* end) {
  auto v = get_uvarint(p, end, kMaxVarint32Bytes);
  if (!v || *v > 0xffffffffull) return std::nullopt;
  return zigzag_decode32(uint32_t(*v));
}

inline std::optional<int64_t> get_varint64(const uint8_t*& p, const uint8_t* end) {
  auto v = get_uvarint(p, end, kMaxVarint64Bytes);
  if (!v) return std::nullopt;
  return zigzag_decode64(*v);
}

}  // namespace tern::bytes
