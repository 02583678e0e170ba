#pragma once
// Errors of the storage module. Protocols map them to wire codes in one place (for Kafka:
// corrupt_batch/crc_mismatch -> CORRUPT_MESSAGE, invalid_record -> INVALID_RECORD,
// batch_too_large -> MESSAGE_TOO_LARGE / RECORD_LIST_TOO_LARGE, null_key -> INVALID_RECORD,
// ...).
//
// The file layer (file.h) returns plain errno codes (std::generic_category); the log maps them
// to io_error or disk_full at its interface and logs the original.

#include <system_error>

namespace tern::storage {

enum class errc {
  corrupt_batch = 1,        // a batch or record whose encoding is broken (lengths, varints)
  crc_mismatch,             // the CRC-32C of a batch does not match its bytes
  record_count_mismatch,    // the header's recordCount disagrees with the records present
  unsupported_magic,        // not a RecordBatch v2 (magic 0/1 message sets are not accepted)
  batch_too_large,          // over max_batch_bytes, or decompresses past the limit
  invalid_timestamp,        // a timestamp that overflows or is outside the allowed skew
  compression_error,        // the compressed records could not be decompressed
  unsupported_compression,  // codec bits 5..7
  invalid_record,           // well-formed but illegal: offset deltas, empty batch, null header key
  offset_out_of_range,      // read/seek outside [log start, log end]
  io_error,                 // the disk said no (EIO, failed fsync, ...): see the log line
  disk_full,                // ENOSPC/EDQUOT on write
  log_closed,               // the log was closed, or is failed after an fsync error
  null_key,                 // a record without a key for a compacted topic
  compaction_canceled,      // a compaction stopped because its log is closing
};

const std::error_category& storage_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), storage_category()}; }

// Maps an error from the file layer to io_error / disk_full (storage errors pass through).
std::error_code to_storage_error(std::error_code ec);

}  // namespace tern::storage

template <>
struct std::is_error_code_enum<tern::storage::errc> : true_type {};
