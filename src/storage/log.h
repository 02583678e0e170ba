#pragma once
// One partition's (or queue's) log: a directory of segments (segment.h) plus small checkpoint
// files. Formats and recovery rules: docs/formats/log-segments.md.
//
//   dir/00000000000000000000.log         batches [0, 1234)
//   dir/00000000000000000000.index       its sparse offset index
//   dir/00000000000000000000.timeindex   its time index
//   dir/00000000000000001234.log ...     the active segment: appends go here
//   dir/recovery-point.checkpoint        segments wholly below it are known durable
//   dir/log-start-offset.checkpoint      raised by DeleteRecords
//   dir/cleaner-offset.checkpoint        compaction: offsets below are compacted
//   dir/clean-shutdown                   present only while the log is closed cleanly
//   dir/*.cleaned, dir/compaction.swap   only while a compaction swaps segments
//
// Shard affinity: a log is owned by exactly one shard thread and every call must come from
// it; there is no internal locking. The only other threads involved are the flusher's, which
// fdatasync files and write the recovery-point checkpoint; their outcomes come back through
// the `poster`, which runs callbacks on the owning shard.
//
// Durability: append() writes into the page cache; flush() is group commit (one fdatasync for
// every append before it, shared by all callers waiting meanwhile). Under flush_policy::always
// consumers see only what is durable (high_watermark()). A failed fdatasync is final for the
// log object: the kernel may have dropped the dirty pages, so every later append and flush
// fails with io_error until the log is reopened (and recovered).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "bytes/chunked_buffer.h"
#include "storage/compaction.h"
#include "storage/file.h"
#include "storage/flusher.h"
#include "storage/segment.h"

namespace tern::storage {

enum class flush_policy { always, interval, never };

struct log_config {
  uint64_t segment_bytes = 1ull << 30;
  int64_t segment_ms = 7 * 24 * 3600 * 1000ll;
  int64_t retention_ms = 7 * 24 * 3600 * 1000ll;  // -1 = forever
  int64_t retention_bytes = -1;                   // -1 = unlimited
  uint32_t index_interval_bytes = 4096;
  flush_policy flush = flush_policy::always;
  int64_t flush_interval_ms = 1000;
  bool log_append_time = false;  // message.timestamp.type = LogAppendTime
  uint32_t max_message_bytes = 1048588;
  // Bound on decompressing a stored batch (offset_for_timestamp, compaction); stored batches
  // passed validate_batch under the broker's own, smaller limit.
  size_t max_decompressed_bytes = 256u << 20;

  // cleanup.policy: `delete` applies retention_ms/retention_bytes (apply_retention);
  // `compact` keeps only the last record of each key (compact()). Both may be on.
  bool cleanup_delete = true;
  bool cleanup_compact = false;
  // Compaction starts when the bytes not compacted yet are more than this fraction of the
  // compactable ones (min.cleanable.dirty.ratio).
  double min_cleanable_dirty_ratio = 0.5;
  // How long a tombstone stays after the pass that first kept it (delete.retention.ms).
  int64_t delete_retention_ms = 24 * 3600 * 1000ll;
  // Segments holding records younger than this are not compacted (min.compaction.lag.ms).
  int64_t min_compaction_lag_ms = 0;
  // Memory bound of one pass's key map (log.cleaner.dedupe.buffer.size).
  size_t compaction_map_bytes = 128u << 20;
};

// What open() found and did, for logs, metrics and tests.
struct recovery_report {
  bool clean_shutdown = false;
  size_t segments_checked = 0;  // segments whose batches were all checked
  size_t indexes_rebuilt = 0;
  uint64_t bytes_truncated = 0;  // torn or corrupt tails cut off
  size_t segments_dropped = 0;   // whole segments removed after a corrupt one
};

class log {
 public:
  using done_fn = std::function<void(std::error_code)>;

  // Opens (creating if needed) the log in `dir`, recovering it if it was not closed cleanly.
  // `fs` and `fl` must outlive the log. Blocks on disk I/O: call at startup or topic creation.
  static result<std::unique_ptr<log>> open(file_system& fs, flusher& fl, poster post,
                                           std::filesystem::path dir, log_config config,
                                           clock_fn now = system_now_ms);
  // Without close(): waits for its flusher jobs, fails pending flushes with log_closed, and
  // leaves no clean-shutdown marker (the next open recovers).
  ~log();
  log(const log&) = delete;
  log& operator=(const log&) = delete;

  struct append_result {
    int64_t base_offset = 0;
    int64_t last_offset = 0;
    int64_t log_append_time = -1;  // -1 when the topic uses CreateTime
  };
  // Appends one batch that passed validate_batch: assigns its offsets in place (base = log
  // end offset), writes it with one pwrite, indexes it, rolling the segment first when it is
  // full or old. A failed write (disk full, torn) is truncated away and returned (disk_full /
  // io_error); the log stays readable and consistent and later appends may succeed.
  result<append_result> append(std::span<uint8_t> batch);

  // Group commit: `done` runs (through the poster) once every byte appended before this call
  // is fdatasync'ed, or with the error. Calls made while a sync is in flight share the next
  // one. Under flush_policy::never it completes at once.
  void flush(done_fn done);
  // Under flush_policy::interval: starts a background sync if flush_interval_ms passed since
  // the last one. The broker calls it periodically; a no-op under other policies.
  void maybe_flush_interval(int64_t now_ms);

  int64_t log_start_offset() const { return _log_start; }
  int64_t log_end_offset() const { return _segments.back()->next_offset(); }
  // What consumers may read: the durable end under `always`, the log end otherwise.
  int64_t high_watermark() const;

  struct read_result {
    std::vector<bytes::file_range> ranges;
    size_t bytes = 0;
  };
  // Whole batches from the one containing `offset`, stopping before the first batch that
  // reaches `max_offset_exclusive`, before `max_bytes` would be exceeded (but taking at least
  // one batch, however large, when `min_one_batch`: KIP-74), and at the end of a segment.
  // `offset` == log end gives nothing; outside [log start, log end] is offset_out_of_range.
  // The ranges keep the segment file open even if it is deleted meanwhile.
  result<read_result> read(int64_t offset, int64_t max_offset_exclusive, size_t max_bytes,
                           bool min_one_batch);

  // ListOffsets by time: the first record at or after the log start whose timestamp >= `ts`,
  // as {offset, timestamp}; nullopt if none. Searches everything appended: the caller limits
  // the answer to the high watermark or last stable offset.
  result<std::optional<std::pair<int64_t, int64_t>>> offset_for_timestamp(int64_t ts);

  // DeleteRecords: raises the log start offset to `offset` (<= high watermark, else
  // offset_out_of_range; lower than the current start is a no-op), persists it durably (the
  // one synchronous sync outside open/close: DeleteRecords is a rare admin call) and deletes
  // the segments wholly below it (when a compaction pass in flight ends, if there is one).
  result<void> delete_records_before(int64_t offset);

  // Deletes the oldest segments past retention_ms (by their largest timestamp) or beyond
  // retention_bytes. Never the active segment. Does nothing unless cleanup_delete, nor while
  // a compaction is in flight (the next call catches up).
  void apply_retention();

  // --- Compaction (compaction.h) ---------------------------------------------------------
  // Only closed segments are compacted, from the first one to the first one with records
  // younger than min_compaction_lag_ms; offsets below cleaned_upto() were compacted before.
  //
  // Fraction of the compactable bytes in segments not wholly compacted yet (0 when none).
  double dirty_ratio() const;
  // cleanup_compact is on, no pass is in flight, and either dirty_ratio() is over
  // min_cleanable_dirty_ratio or a kept tombstone's delete horizon has passed.
  bool needs_compaction() const;

  struct compaction_request {
    bool force = false;  // run even below min_cleanable_dirty_ratio (tests, admin)
    // The last offset of each producer id the partition still tracks (its producer state),
    // so that their last batches are kept; see compaction_params.
    std::optional<std::unordered_map<int64_t, int64_t>> producer_last_offsets;
    std::function<bool(int)> crash_before_step;  // tests: compaction_params
  };
  using compaction_done_fn = std::function<void(result<compaction_stats>)>;
  // Starts a pass on `pool` (a flusher used as a cleaner pool: passes are long, and must not
  // delay the syncs of the log's own flusher). Returns false, without calling `done`, when
  // there is nothing to do: closed or failed log, a pass in flight, no closed segment to
  // compact, or (without force) needs_compaction() is false. Otherwise `done` runs through
  // the poster when the pass ends, once the new segments have replaced the old ones here;
  // readers holding file ranges of old segments keep reading them. While a pass is in
  // flight, retention and DeleteRecords defer deleting segments until it ends. An error
  // after the on-disk swap began fails the log (it refuses writes until reopened, and
  // open() finishes the swap); any earlier error leaves the log as it was.
  bool compact(flusher& pool, compaction_request request, compaction_done_fn done);
  bool compaction_in_flight() const { return _compacting; }
  int64_t cleaned_upto() const { return std::max(_cleaned_upto, _log_start); }
  const std::optional<compaction_stats>& last_compaction() const { return _last_compaction; }

  void update_config(const log_config& config) { _config = config; }
  const log_config& config() const { return _config; }
  // The partitionLeaderEpoch stamped on appended batches (0 until set).
  void set_leader_epoch(int32_t epoch) { _leader_epoch = epoch; }

  uint64_t size_bytes() const { return _size_bytes; }
  size_t segment_count() const { return _segments.size(); }
  std::vector<int64_t> segment_bases() const;
  const recovery_report& recovery() const { return _report; }
  const std::filesystem::path& dir() const { return _dir; }

  // Waits for the log's flusher jobs, fdatasyncs everything, writes the indexes, checkpoints
  // and the clean-shutdown marker. Pending flushes complete (through the poster). Afterwards
  // appends and flushes fail with log_closed; reads still work.
  result<void> close();

  // Deletes a closed log's directory and everything in it.
  static result<void> remove(file_system& fs, const std::filesystem::path& dir);

 private:
  struct job_tracker;
  log(file_system& fs, flusher& fl, poster post, std::filesystem::path dir, log_config config,
      clock_fn now);

  result<void> recover();
  result<void> sync_now();  // synchronous: open after recovery, close
  result<void> maybe_roll(size_t batch_size, int32_t last_offset_delta, int64_t now);
  result<void> roll(int64_t now);
  void start_sync();
  void on_sync_done(std::error_code ec, int64_t target,
                    const std::vector<std::pair<int64_t, uint64_t>>& synced, int64_t rp);
  void delete_oldest_segment();
  // Deletes the segments whose offsets are all below the log start (never the active one).
  void delete_segments_below_start();
  // The closed segments a compaction may rewrite now: [first, last) indexes in _segments.
  std::pair<size_t, size_t> compactable_range(int64_t now) const;
  void finish_compaction(std::error_code ec, compaction_output& out, compaction_done_fn& done);
  void fail(std::error_code ec, const char* what);
  segment& active() { return *_segments.back(); }

  file_system& _fs;
  flusher& _flusher;
  poster _post;
  std::filesystem::path _dir;
  log_config _config;
  clock_fn _now;

  std::deque<std::unique_ptr<segment>> _segments;  // by base offset; never empty once open
  int64_t _log_start = 0;
  int64_t _durable_end = 0;      // every offset below is fdatasync'ed
  int64_t _recovery_point = -1;  // value in the checkpoint file
  int32_t _leader_epoch = 0;
  uint64_t _size_bytes = 0;
  bool _dir_dirty = false;  // files created since the directory was last synced

  // Group commit: `_waiting` are covered by the sync in flight (up to `_sync_target`),
  // `_next` need the one after it.
  bool _sync_in_flight = false;
  int64_t _sync_target = 0;
  std::vector<done_fn> _waiting;
  std::vector<done_fn> _next;
  int64_t _last_flush_ms = 0;

  // Compaction: at most one pass in flight; offsets below _cleaned_upto were compacted
  // (-1: none known); _tombstone_horizon is the earliest delete horizon the last pass kept.
  bool _compacting = false;
  std::shared_ptr<std::atomic<bool>> _cancel_compaction;
  int64_t _cleaned_upto = -1;
  int64_t _tombstone_horizon = -1;
  std::optional<compaction_stats> _last_compaction;

  std::error_code _failed;  // set by a failed fsync or an untruncatable write: final
  bool _closed = false;
  std::shared_ptr<job_tracker> _jobs;
  std::shared_ptr<int> _alive = std::make_shared<int>(0);  // posted completions hold a weak_ptr
  recovery_report _report;
};

// Copies the batches of a read into memory (pread of each range, in order). For readers
// inside the broker — producer-state recovery, the internal offsets topic — not for fetches,
// which send the ranges as they are.
result<bytes::buffer> copy_to_memory(const log::read_result& r);

}  // namespace tern::storage
