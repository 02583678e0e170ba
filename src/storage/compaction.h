#pragma once
// Log compaction (cleanup.policy=compact): rewrites the closed segments of one log keeping,
// for every key, only the record with the highest offset. The disk work runs on a cleaner
// thread (run_compaction); the log (log.h, log_compaction.cc) plans it on its shard and swaps
// the new segments in when it completes. Formats, rules and the crash-safe swap protocol:
// docs/formats/log-segments.md, "Compaction".
//
// What a pass keeps, for the records of the segments it rewrites (offsets never change):
//   - a record with a key, unless a later record of the same key was seen by the key map;
//   - a tombstone (key, null value) likewise, until its batch's delete horizon has passed:
//     the first pass that keeps it stamps the batch with horizon = now + delete.retention.ms
//     (KIP-534: attribute bit 6, the horizon in baseTimestamp); a later pass drops it;
//   - never a record without a key (Kafka's cleaner drops them too; produce refuses them);
//   - control batches unchanged;
//   - an idempotent producer's last batch even when none of its records is left, as a
//     header-only batch (recordCount 0) with its offsets and sequences, so that the producer
//     state rebuilt from the log still knows the producer's last sequence.
// The kept batches are written, in order, to new segments of at most segment_bytes each (so
// small segments merge), the first named after the first old segment, each later one after
// its first batch.
// A batch that keeps some records is rebuilt: same baseOffset, lastOffsetDelta, producer
// fields and leader epoch (so offsets and sequences are unchanged), the kept records byte for
// byte (only their timestamp deltas are re-encoded when baseTimestamp changes), maxTimestamp
// recomputed, recompressed with its own codec (uncompressed if the codec fails), new CRC.
//
// Threads: run_compaction only touches what `compaction_params` holds (open files of closed
// segments, which no one writes any more, and the paths of new files) and returns new segment
// objects that the log adopts on its shard. recover_compaction runs in log::open.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "storage/file.h"
#include "storage/segment.h"

namespace tern::storage {

// New segments are written as "<base>.log.cleaned" (and .index.cleaned, .timeindex.cleaned).
inline constexpr std::string_view kCleanedSuffix = ".cleaned";
// The commit point of a swap: which old segments each new segment replaces.
inline constexpr std::string_view kSwapManifestFile = "compaction.swap";
// Offsets below this were compacted by an earlier pass (advisory: absent means "none").
inline constexpr std::string_view kCleanerCheckpointFile = "cleaner-offset.checkpoint";

// One closed segment given to a compaction.
struct compaction_input {
  int64_t base_offset = 0;
  int64_t end_offset = 0;  // the next segment's base: this segment stands for [base, end)
  uint64_t size = 0;
  int64_t created_ms = 0;
  std::shared_ptr<file> log_file;
};

struct compaction_params {
  std::filesystem::path dir;
  std::vector<compaction_input> inputs;  // contiguous, oldest first
  int64_t first_dirty = 0;               // the key map is built from here to the end of the inputs
  int64_t now_ms = 0;
  int64_t delete_retention_ms = 24 * 3600 * 1000ll;
  uint64_t segment_bytes = 1ull << 30;  // merged segments stay at or under this
  uint32_t index_interval_bytes = 4096;
  size_t max_decompressed_bytes = 256u << 20;
  // Bound on the key map (key bytes + ~64 bytes per key). When it fills, the pass still
  // rewrites everything but only deduplicates up to where the map stopped.
  size_t map_bytes = 128u << 20;
  // Last offset of every producer the partition still tracks (its producer state table).
  // Without it, the last batch of each producer id within the inputs is kept.
  std::optional<std::unordered_map<int64_t, int64_t>> producer_last_offsets;
  // Tests: called with a step number before each file-system change; returning true stops
  // the pass there, leaving the files as a crash would.
  std::function<bool(int)> crash_before_step;
  // Set by the log when it closes: the pass stops (and cleans up) at the next batch, unless
  // the swap was already committed, which it then finishes.
  std::shared_ptr<std::atomic<bool>> cancel;
};

struct compaction_stats {
  size_t segments_in = 0;   // segments read
  size_t segments_out = 0;  // new segments swapped in (0: nothing changed)
  uint64_t bytes_in = 0;    // size of the inputs
  uint64_t bytes_out = 0;   // size of the inputs after the pass
  uint64_t records_removed = 0;
  uint64_t tombstones_removed = 0;
  uint64_t keyless_removed = 0;
  uint64_t batches_removed = 0;
  size_t keys = 0;           // distinct keys in the map
  int64_t cleaned_upto = 0;  // offsets below are now compacted
};

struct compaction_output {
  // The old segments (base offsets) replaced by the new ones, unless nothing changed (both
  // empty then). The new segments are synced, their indexes written; the first has the
  // first old one's base, so together they stand for the same offsets.
  std::vector<int64_t> replaced;
  std::vector<std::unique_ptr<segment>> segments;
  int64_t cleaned_upto = 0;
  int64_t next_horizon = -1;  // earliest delete horizon of a tombstone kept; -1 if none
  // The manifest was renamed into place: an error after this leaves the directory between
  // the old and the new segments, which only recovery (log::open) may finish.
  bool committed = false;
  bool crashed = false;  // stopped by crash_before_step
  compaction_stats stats;
};

// Runs one pass (key map, rewrite, swap on disk) on the calling thread. On success the old
// segment files are gone and `out.replaced` holds the new segments; on an error before the
// commit the new files are removed and the old ones untouched.
result<void> run_compaction(file_system& fs, const compaction_params& p, compaction_output& out);

// log::open, before segments are loaded: finishes a swap whose manifest is in `dir` (roll
// forward) and removes every other "*.cleaned" file (roll back). Returns whether it changed
// anything.
result<bool> recover_compaction(file_system& fs, const std::filesystem::path& dir);

}  // namespace tern::storage
