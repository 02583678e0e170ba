#pragma once
// Kafka RecordBatch v2 (magic 2): the unit Tern validates, stores and serves. A batch is kept
// byte-for-byte as the producer sent it (only baseOffset, partitionLeaderEpoch and, for
// LogAppendTime topics, attributes/maxTimestamp are patched), so fetches are file ranges.
//
//  pos  field                 type    CRC-32C covers
//    0  baseOffset            i64     no
//    8  batchLength           i32     no    (bytes after this field: total size - 12)
//   12  partitionLeaderEpoch  i32     no
//   16  magic                 i8      no    (= 2)
//   17  crc                   u32     no
//   21  attributes            i16     yes   bits 0-2 codec, 3 LogAppendTime, 4 txn, 5 control,
//                                             6 delete horizon (KIP-534, set by compaction)
//   23  lastOffsetDelta       i32     yes
//   27  baseTimestamp         i64     yes   (the delete horizon when bit 6 is set)
//   35  maxTimestamp          i64     yes
//   43  producerId            i64     yes
//   51  producerEpoch         i16     yes
//   53  baseSequence          i32     yes
//   57  recordCount           i32     yes
//   61  records...                    yes   (compressed as a whole when codec != 0)
//
// Record: length varint, attributes i8, timestampDelta varlong, offsetDelta varint,
// keyLength varint (-1 = null), key, valueLength varint (-1 = null), value, headerCount
// varint, then per header: keyLength varint, key, valueLength varint (-1 = null), value.
//
// Every function here is safe on arbitrary input (it is fuzzed): lengths and counts are
// checked against the bytes present before anything is allocated for them, and
// decompression is bounded.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "bytes/buffer.h"
#include "bytes/compression.h"
#include "storage/errc.h"

namespace tern::storage {

// Byte positions of the header fields (see the table above).
namespace batch_layout {
constexpr size_t base_offset = 0;
constexpr size_t batch_length = 8;
constexpr size_t leader_epoch = 12;
constexpr size_t magic = 16;
constexpr size_t crc = 17;
constexpr size_t attributes = 21;
constexpr size_t last_offset_delta = 23;
constexpr size_t base_timestamp = 27;
constexpr size_t max_timestamp = 35;
constexpr size_t producer_id = 43;
constexpr size_t producer_epoch = 51;
constexpr size_t base_sequence = 53;
constexpr size_t record_count = 57;
constexpr size_t header_size = 61;
// baseOffset + batchLength: the part of a batch that batchLength does not count.
constexpr size_t log_overhead = 12;
constexpr int32_t min_batch_length = int32_t(header_size - log_overhead);  // 49
}  // namespace batch_layout

constexpr int8_t kMagicV2 = 2;
constexpr int16_t kAttrCompressionMask = 0x07;
constexpr int16_t kAttrLogAppendTime = 0x08;
constexpr int16_t kAttrTransactional = 0x10;
constexpr int16_t kAttrControl = 0x20;
// Set by log compaction on a batch that keeps tombstones: its baseTimestamp then holds the
// time (ms) after which a later compaction may remove them, and the records' timestamp
// deltas are relative to it (Kafka's KIP-534 layout, so clients read timestamps unchanged).
constexpr int16_t kAttrDeleteHorizon = 0x40;

enum class timestamp_type : uint8_t { create_time = 0, log_append_time = 1 };

struct batch_header {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = -1;
  int64_t max_timestamp = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  // The codec bits as-is; values 5..7 are not codecs (validate_batch rejects them).
  bytes::compression compression() const {
    return static_cast<bytes::compression>(attributes & kAttrCompressionMask);
  }
  storage::timestamp_type timestamp_type() const {
    return (attributes & kAttrLogAppendTime) ? storage::timestamp_type::log_append_time
                                             : storage::timestamp_type::create_time;
  }
  bool is_transactional() const { return attributes & kAttrTransactional; }
  bool is_control() const { return attributes & kAttrControl; }
  bool has_delete_horizon() const { return attributes & kAttrDeleteHorizon; }
  // Wraps rather than overflows on hostile input (callers check ranges where it matters).
  int64_t last_offset() const {
    return int64_t(uint64_t(base_offset) + uint64_t(int64_t(last_offset_delta)));
  }
  // Whole batch on the wire / on disk, including baseOffset and batchLength.
  size_t size() const { return size_t(batch_length) + batch_layout::log_overhead; }
};

// Parses the 61-byte header at the start of `data` (which may hold more bytes). Checks only
// what the header alone can tell: enough bytes (corrupt_batch), magic 2 (unsupported_magic)
// and batchLength >= 49 (corrupt_batch). Not the CRC, nor that the whole batch is present.
result<batch_header> parse_batch_header(bytes::byte_view data);

// Splits the records blob of a produce request into whole batches (views into `records`).
// An empty blob gives an empty vector. Errors: unsupported_magic for magic != 2,
// corrupt_batch for a trailing partial batch, a batchLength < 49 or one past the data.
result<std::vector<bytes::byte_view>> split_batches(bytes::byte_view records);

struct batch_limits {
  size_t max_batch_bytes = 1048588;           // whole batch, as sent
  size_t max_decompressed_bytes = 64u << 20;  // records after decompression
  // Kafka's message.timestamp.difference.max.ms for CreateTime batches; -1 = not checked.
  int64_t max_timestamp_skew_ms = -1;
  int64_t now_ms = 0;  // the broker's clock, for the skew check
  // Compacted topics: a record without a key is refused with null_key.
  bool require_keys = false;
};

struct batch_info {
  batch_header header;
  int32_t record_count = 0;
  int64_t max_timestamp = -1;  // largest record timestamp (-1 when none is set)
  size_t records_bytes = 0;    // size of the records after decompression
};

// Full produce-time validation of exactly one batch (the whole of `batch`): length, magic,
// size limit, CRC, a known codec, then every record (decompressed within the limit):
// recordCount == records present (record_count_mismatch), offset deltas 0..n-1 and
// lastOffsetDelta == n-1 (invalid_record), record and header lengths consistent with the
// bytes present (corrupt_batch). An empty batch is invalid_record. With `require_keys`, a
// record without a key is null_key (checked after everything else). Uncompressed batches are
// walked in place with no allocation.
result<batch_info> validate_batch(bytes::byte_view batch, const batch_limits& limits);

// Patches the broker-assigned fields of a validated batch in place. The CRC does not cover
// baseOffset and partitionLeaderEpoch, so it is recomputed only when LogAppendTime changes the
// attributes or maxTimestamp. Does nothing to a span shorter than a header.
void assign_offsets(std::span<uint8_t> batch, int64_t base_offset, int32_t leader_epoch,
                    std::optional<int64_t> log_append_time_ms);

// --- Building and reading records (tests, Tern's internal logs, other protocols) ---------

struct record {
  std::optional<bytes::buffer> key;
  std::optional<bytes::buffer> value;
  std::vector<std::pair<std::string, std::optional<bytes::buffer>>> headers;
  int64_t timestamp = -1;

  bool operator==(const record&) const = default;
};

struct record_with_offset : record {
  int64_t offset = 0;
};

struct build_options {
  bytes::compression compression = bytes::compression::none;
  int64_t base_offset = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool transactional = false;
  bool control = false;
  int32_t partition_leader_epoch = -1;
  bool log_append_time = false;  // sets the LogAppendTime attribute bit
};

// Encodes `records` as one v2 batch with offset deltas 0..n-1; baseTimestamp is the first
// record's timestamp and maxTimestamp the largest. If the codec library fails, the batch is
// written uncompressed (and a warning logged) rather than failing. An empty vector gives a
// batch with recordCount 0, which validate_batch rejects.
bytes::buffer build_batch(const std::vector<record>& records, const build_options& options = {});

// A record inside a batch, as views valid only during the callback of for_each_record.
struct record_view {
  int64_t offset = 0;
  int64_t timestamp = -1;  // for LogAppendTime batches: the batch's maxTimestamp
  std::optional<bytes::byte_view> key;
  std::optional<bytes::byte_view> value;
  int32_t header_count = 0;
  bytes::byte_view headers;  // the encoded headers (header_count of them)
  // The whole encoded record, from its length varint to its last header byte; its
  // timestampDelta is relative to the batch's baseTimestamp (compaction copies it).
  bytes::byte_view raw;
};

// Checks the batch (length, magic, CRC, codec), decompresses within `max_decompressed` and
// calls `fn` for each record in order until it returns false. Lenient about offset deltas
// (increasing, within lastOffsetDelta) so it also reads compacted batches.
result<void> for_each_record(bytes::byte_view batch, size_t max_decompressed,
                             const std::function<bool(const record_view&)>& fn);

// Decodes every record of one batch into owned records with absolute offsets.
result<std::vector<record_with_offset>> decode_records(bytes::byte_view batch,
                                                       size_t max_decompressed);

}  // namespace tern::storage
