#pragma once
// Small checkpoint files beside a log's segments (recovery point, log start offset). Each is
// 16 bytes: magic "TRNC" (u32), value (i64), CRC-32C of the first 12 bytes (u32), big-endian.
// They are replaced atomically (write <name>.tmp, fdatasync, rename, fsync the directory), and
// a reader treats a missing, short or corrupt file as absent: every value has a safe fallback
// (docs/formats/log-segments.md).

#include <cstdint>
#include <filesystem>
#include <optional>

#include "base/result.h"
#include "storage/file.h"

namespace tern::storage {

constexpr uint32_t kCheckpointMagic = 0x54524e43;  // "TRNC"
constexpr size_t kCheckpointSize = 16;

// The stored value; nullopt when the file is missing or not a valid checkpoint. Errors only
// for I/O failures.
result<std::optional<int64_t>> read_checkpoint(file_system& fs, const std::filesystem::path& p);

// Durably replaces the checkpoint at `p` with `value`. Blocks on two syncs.
result<void> write_checkpoint(file_system& fs, const std::filesystem::path& p, int64_t value);

}  // namespace tern::storage
