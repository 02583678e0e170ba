#pragma once
// One segment of a log: `<base>.log` (batches back to back, exactly as produced, offsets
// assigned) with its sparse `.index` and `.timeindex` (index.h). `base` is the offset of its
// first batch, written as 20 digits so that names sort like offsets. Layouts and the recovery
// rules: docs/formats/log-segments.md.
//
// Lifecycle: created empty by a roll (or at a new log's first offset), appended to while it is
// the active (last) segment, immutable once rolled, deleted whole by retention or replaced
// whole by a compacted copy (compaction.h), which is written by a cleaner thread and then
// handed to the owning shard. Owned by one
// log, so used by one shard; only its file is shared (file_ranges handed to fetches keep the
// file open after the segment is deleted, and flusher threads fdatasync it).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "storage/file.h"
#include "storage/index.h"
#include "storage/record_batch.h"

namespace tern::storage {

std::filesystem::path segment_file(const std::filesystem::path& dir, int64_t base_offset,
                                   std::string_view extension /* ".log", ".index", ... */);
// The base offset in a name like "00000000000000001234.log" with the given extension.
std::optional<int64_t> parse_segment_name(std::string_view name, std::string_view extension);

// A batch found in a segment file.
struct batch_ref {
  uint64_t position = 0;
  batch_header header;
};

// What loading a segment found. `problem` is empty when every byte was valid; otherwise it
// says what was wrong at `valid_bytes`, where the segment was truncated.
struct load_outcome {
  uint64_t valid_bytes = 0;
  uint64_t dropped_bytes = 0;
  std::string problem;
  bool index_rebuilt = false;
};

class segment {
 public:
  // A new, empty segment (an existing file of that name is emptied). A `suffix` is appended
  // to the file names (compaction writes "<base>.log.cleaned"); the open file stays valid when
  // it is later renamed to its final name.
  static result<std::unique_ptr<segment>> create(file_system& fs, const std::filesystem::path& dir,
                                                 int64_t base_offset, int64_t now_ms,
                                                 std::string_view suffix = "");

  // Opens an existing segment file and makes it usable. With `trust_indexes` (clean shutdown,
  // or the segment is below the recovery point) the index files are loaded when they are
  // valid and only the batches after the last index entry are checked; otherwise, or when an
  // index is missing or invalid, every batch is checked (length, magic, CRC, offsets
  // increasing from `min_offset`) and the indexes are rebuilt. Either way the file is
  // truncated at the first bad batch. I/O failures are errors; corruption is an outcome.
  static result<std::pair<std::unique_ptr<segment>, load_outcome>> load(
      file_system& fs, const std::filesystem::path& dir, int64_t base_offset, int64_t min_offset,
      bool trust_indexes, uint32_t index_interval_bytes, int64_t now_ms);

  // Writes one batch (offsets already assigned, base offset >= next_offset()) at the end with
  // one pwrite and indexes it. On a failed write the file is truncated back; if even that
  // fails the error is returned with `*truncate_failed` set, and the segment must not be
  // written again.
  result<void> append(bytes::byte_view batch, const batch_header& h, uint32_t index_interval_bytes,
                      bool* truncate_failed);

  // The first batch whose last offset is >= `offset` (nullopt past the end of the segment).
  result<std::optional<batch_ref>> find_batch(int64_t offset) const;
  // The header of the batch at `position`, checked against the file size (nullopt at the
  // end). Data that does not parse is corrupt_batch: the file changed under us.
  result<std::optional<batch_header>> header_at(uint64_t position) const;
  // The first record with timestamp >= `ts` and offset >= `min_offset`: {offset, timestamp}.
  result<std::optional<std::pair<int64_t, int64_t>>> find_timestamp(int64_t ts, int64_t min_offset,
                                                                    size_t max_decompressed) const;

  // Writes the in-memory indexes to `.index` and `.timeindex` (+ `suffix`, replacing them);
  // the files are kept open until take_unsynced_index_files() hands them to a sync.
  result<void> write_indexes(file_system& fs, const std::filesystem::path& dir,
                             std::string_view suffix = "");
  std::vector<std::shared_ptr<file>> take_unsynced_index_files() {
    return std::exchange(_unsynced_index_files, {});
  }
  bool has_unsynced_index_files() const { return !_unsynced_index_files.empty(); }

  // Removes the three files of a segment (+ `suffix`; missing files are fine).
  static result<void> remove_files(file_system& fs, const std::filesystem::path& dir,
                                   int64_t base_offset, std::string_view suffix = "");

  int64_t base_offset() const { return _base_offset; }
  int64_t next_offset() const { return _next_offset; }  // base_offset() while empty
  uint64_t size() const { return _size; }
  bool empty() const { return _size == 0; }
  // Largest batch maxTimestamp in the segment, -1 if none.
  int64_t max_timestamp() const { return _max_timestamp; }
  // When this object was created or loaded: the age used for time-based rolls, and for
  // retention of a segment whose records carry no timestamp.
  int64_t created_ms() const { return _created_ms; }
  const std::shared_ptr<file>& log_file() const { return _file; }
  const offset_index& index() const { return _offset_index; }
  const time_index& timeindex() const { return _time_index; }

  // Bytes known to be on disk (fdatasync'ed); the log's flush bookkeeping.
  uint64_t synced_size() const { return _synced_size; }
  void set_synced_size(uint64_t s) { _synced_size = std::max(_synced_size, s); }

 private:
  segment(int64_t base_offset, std::shared_ptr<file> f, int64_t now_ms)
      : _base_offset(base_offset),
        _next_offset(base_offset),
        _created_ms(now_ms),
        _file(std::move(f)) {}

  // Updates indexes and counters for a batch written (or found) at `position`.
  void index_batch(const batch_header& h, uint64_t position, uint32_t index_interval_bytes);
  // Loads and checks the two index files; false when either is missing or invalid.
  result<bool> load_index_files(file_system& fs, const std::filesystem::path& dir,
                                uint64_t file_size);
  // Checks batches from `position` to the end of the file, indexing each valid one. Returns
  // the end of the valid prefix and, if it is not the end of the file, why.
  result<std::pair<uint64_t, std::string>> scan(uint64_t position, uint64_t file_size,
                                                int64_t min_offset, uint32_t index_interval_bytes);
  void reset_indexes();

  int64_t _base_offset;
  int64_t _next_offset;
  int64_t _created_ms;
  uint64_t _size = 0;
  uint64_t _synced_size = 0;
  int64_t _max_timestamp = -1;
  uint64_t _bytes_since_index = 0;
  std::shared_ptr<file> _file;
  offset_index _offset_index;
  time_index _time_index;
  std::vector<std::shared_ptr<file>> _unsynced_index_files;
};

}  // namespace tern::storage
