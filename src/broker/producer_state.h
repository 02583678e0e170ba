#pragma once
// Idempotent-producer state of one partition (KIP-98 idempotence, no transactions), as Kafka's
// ProducerStateManager keeps it: for every producer id its current epoch and the metadata of
// its last 5 batches, so that the broker can reject gaps and fenced epochs and answer a
// retried batch with the offsets it got the first time instead of appending it again.
//
// Sans I/O: the table is plain memory. Snapshot files (docs/formats/producer-state.md) are
// encoded and decoded here too, and read and written through storage::file_system.
//
// Lifetime and shard affinity: one table per partition, created when the partition is opened
// (from a snapshot plus a scan of the log after it), owned by the partition and used only on
// its owner shard. Not thread safe, no locks.
//
// Produce path, for the batches of one partition in one request (all on the shard, with no
// co_await between the check and the last record(), so nothing interleaves):
//
//   std::vector<producer_batch> pb;  for (auto& h : headers) pb.push_back(producer_batch::of(h));
//   auto c = table.check(pb);           // batch k is checked as if batches 0..k-1 were appended
//   switch (c.outcome) {
//     case check_outcome::append:     break;
//     case check_outcome::duplicate:  after a flush (the original may not be durable yet),
//                                     answer success with c.original's offsets; return
//     default:                        answer the error for the whole partition; return
//   }
//   for (k...) { auto r = log.append(batch[k]); if (!r) break;   // 0..k-1 stay recorded
//                table.record(pb[k], offset{r->base_offset}, offset{r->last_offset},
//                             r->log_append_time != -1 ? r->log_append_time : max_ts[k], now); }
//
// Transactional batches are not handled: the table ignores the attribute, so the produce path
// must refuse them before check().

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/named_type.h"
#include "base/result.h"
#include "bytes/buffer.h"
#include "storage/file.h"
#include "storage/record_batch.h"

namespace tern::broker {

// Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: a producer has at most 5 requests in
// flight per partition, so a retry is always of one of its last 5 batches.
constexpr size_t kProducerBatchesKept = 5;

// Sequences wrap from INT32_MAX to 0 (Kafka's DefaultRecordBatch.incrementSequence).
// `seq` and `delta` must be >= 0.
int32_t increment_sequence(int32_t seq, int32_t delta);

// The producer fields of one batch header.
struct producer_batch {
  producer_id id{-1};
  producer_epoch epoch{-1};
  int32_t first_seq = -1;  // baseSequence
  int32_t last_seq = -1;   // baseSequence + lastOffsetDelta, wrapping

  // From a header that passed storage::validate_batch (lastOffsetDelta >= 0).
  static producer_batch of(const storage::batch_header& h);
  // Batches with producerId -1 carry no producer state and are never checked.
  bool idempotent() const { return id() >= 0; }
};

// What the table remembers of an appended batch; also the answer to a duplicate.
struct batch_metadata {
  int32_t first_seq = 0;
  int32_t last_seq = 0;
  offset first_offset{0};
  offset last_offset{0};
  // The batch's maxTimestamp as stored (for LogAppendTime topics: the broker's append time,
  // which Kafka returns as logAppendTime when it answers a duplicate).
  int64_t max_timestamp = -1;

  bool operator==(const batch_metadata&) const = default;
};

struct producer_entry {
  producer_epoch epoch{0};
  // Broker time of the last record() or rebuild(): the producer's idleness is measured from it.
  int64_t last_update_ms = 0;
  // Oldest first, 1..kProducerBatchesKept of them, all of `epoch`, offsets increasing.
  std::vector<batch_metadata> batches;

  const batch_metadata& last() const { return batches.back(); }
  bool operator==(const producer_entry&) const = default;
};

// The decision for a produce request's batches; the Kafka error each one maps to.
enum class check_outcome {
  append,                  // in sequence (or not idempotent): append and record()
  duplicate,               // a retry of a batch in the log: answer success with its offsets
  out_of_order_sequence,   // OUT_OF_ORDER_SEQUENCE_NUMBER (45): gap, overlap, too-old retry,
                           //   or a new epoch that does not start at sequence 0
  invalid_producer_epoch,  // INVALID_PRODUCER_EPOCH (47): epoch below the current one (fenced)
  unknown_producer_id,     // UNKNOWN_PRODUCER_ID (59): only with strict_unknown_producer
  invalid_record,          // INVALID_RECORD (87): producerId >= 0 with a negative epoch or
                           //   sequence (Kafka's LogValidator rejects these too)
};

struct check_result {
  check_outcome outcome = check_outcome::append;
  size_t batch_index = 0;   // the batch that decided any other outcome than append
  batch_metadata original;  // for duplicate: the batch already in the log
};

struct producer_state_config {
  // Kafka's producer.id.expiration.ms: a producer idle this long is forgotten by expire().
  int64_t producer_id_expiration_ms = 86'400'000;
  // What to do with a batch of a producer the table does not know whose sequence is not 0.
  // false (Kafka >= 2.5, KIP-360): append it. The state may have been lost to retention,
  // DeleteRecords or expiry, and a client told UNKNOWN_PRODUCER_ID would reset its sequence
  // and resend, which is what idempotence exists to prevent. true: the 0.11-2.4 behaviour,
  // unknown_producer_id.
  bool strict_unknown_producer = false;
};

class producer_state_table {
 public:
  using map = std::unordered_map<producer_id, producer_entry>;

  explicit producer_state_table(producer_state_config config = {}) : _config(config) {}

  // Checks the batches of one produce request in order, batch k as if batches 0..k-1 had
  // been appended and recorded. Records nothing (the table is unchanged whatever the answer);
  // the first batch that fails decides for the whole request (its index is returned).
  // Rules, for the producer's current epoch E and last sequence S (the table's, or those of
  // the last earlier batch of this request):
  //   same epoch as the table, sequences equal to a kept batch's -> duplicate (that batch)
  //   unknown producer                              -> append (see strict_unknown_producer)
  //   epoch < E                                     -> invalid_producer_epoch
  //   epoch > E                                     -> append iff first_seq == 0
  //   epoch == E                                    -> append iff first_seq == S + 1, wrapping
  // A request is a duplicate only if all its batches are; then nothing is appended and
  // `original` is the first one's. Duplicates mixed with new batches are
  // out_of_order_sequence: Kafka answers the whole request as a duplicate, which would drop
  // the new batches of a retried request whose first batches were appended before a failed
  // write (Tern appends batch by batch; Kafka clients send one batch per partition anyway).
  check_result check(std::span<const producer_batch> batches) const;
  check_result check(const producer_batch& b) const { return check(std::span(&b, 1)); }

  // After a successful log append of a batch `check` accepted: remembers it (a new epoch
  // forgets the old epoch's batches; the oldest of 6 is dropped). No checks; ignores
  // batches with producerId -1. Offsets must grow from one record() to the next.
  void record(const producer_batch& b, offset first_offset, offset last_offset,
              int64_t max_timestamp, int64_t now_ms);

  // Log recovery: the same as record() for a batch read back from the log, skipping batches
  // without a producer id, control batches and batches the table already covers (last
  // offset <= the producer's last kept offset), so re-reading an overlapping range is safe.
  // The producer counts as active at `now_ms`: the log does not say when the batch was
  // appended (CreateTime timestamps are the client's), and expiring late only costs memory
  // while expiring early would let a retry in as a new batch.
  void rebuild(const storage::batch_header& h, int64_t now_ms);

  // The log start moved (retention, DeleteRecords): forgets producers whose last batch is
  // wholly below `log_start`, as Kafka does. Returns how many were removed.
  size_t remove_before(offset log_start);

  // Forgets producers idle for producer_id_expiration_ms or longer. Returns how many.
  // Call it periodically (Kafka: every producer.id.expiration.check.interval.ms, 10 min).
  size_t expire(int64_t now_ms);

  void clear() { _producers.clear(); }

  const producer_entry* find(producer_id id) const;
  const map& entries() const { return _producers; }
  size_t size() const { return _producers.size(); }
  const producer_state_config& config() const { return _config; }

 private:
  friend std::optional<producer_state_table> decode_producer_snapshot(bytes::byte_view, offset,
                                                                      const producer_state_config&,
                                                                      std::string*);

  producer_state_config _config;
  map _producers;
};

// --- Snapshot files: <dir>/<20-digit offset>.snapshot (docs/formats/producer-state.md) -----

constexpr uint32_t kProducerSnapshotMagic = 0x54524e50;  // "TRNP"
constexpr uint16_t kProducerSnapshotVersion = 1;
constexpr size_t kProducerSnapshotHeaderSize = 24;
constexpr size_t kProducerSnapshotEntrySize = 19;  // plus 32 per kept batch
constexpr size_t kProducerSnapshotBatchSize = 32;
// Neither written nor read beyond this (about 1.5 million producers with 5 batches each).
constexpr size_t kMaxProducerSnapshotBytes = 256u << 20;
// Snapshots kept in a partition directory after each write: the newest and one fallback.
constexpr size_t kProducerSnapshotsKept = 2;

std::filesystem::path producer_snapshot_file(const std::filesystem::path& dir, offset at);

// A table encoded as of log offset `at`: it reflects every batch below `at`, and none above.
struct producer_snapshot {
  offset at{0};
  bytes::buffer bytes;
};

// Encodes on the owner shard (cheap: memory only); the result may be written on any thread.
producer_snapshot encode_producer_snapshot(const producer_state_table& table, offset at);

// Decodes a snapshot file's bytes, which must say they were taken at `at` (the file name).
// nullopt for anything invalid (size, magic, CRC, version, lengths, values), with the reason
// in `*problem` when given. Safe on arbitrary input: counts are bounded by the bytes present.
std::optional<producer_state_table> decode_producer_snapshot(bytes::byte_view data, offset at,
                                                             const producer_state_config& config,
                                                             std::string* problem = nullptr);

// Durably writes the snapshot (temporary file, fdatasync, rename, fsync of the directory),
// then removes all but the newest kProducerSnapshotsKept snapshots (a failed removal is only
// logged). Blocks on two syncs: call it off the event loop, one at a time per directory.
// Errors: storage::errc::io_error or disk_full; std::errc::file_too_large over the size cap.
result<void> write_producer_snapshot(storage::file_system& fs, const std::filesystem::path& dir,
                                     const producer_snapshot& snapshot);

struct loaded_producer_state {
  producer_state_table table;
  offset at{0};  // scan the log from here (or from the log start, if that is higher)
};

// Partition open: loads the newest valid snapshot at or below `log_end` (nullopt if none).
// Snapshots above `log_end` describe batches a crash took away, so they are removed first,
// durably: later appends will reuse those offsets. Invalid snapshots are skipped with a
// warning, and removed. Errors only for I/O (storage::errc).
result<std::optional<loaded_producer_state>> load_producer_snapshot(
    storage::file_system& fs, const std::filesystem::path& dir, offset log_end,
    const producer_state_config& config);

}  // namespace tern::broker
