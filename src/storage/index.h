#pragma once
// The two sparse indexes of a segment, held in memory while the segment is open and written
// out whole when it rolls or the log closes (so an append never costs an extra write; an
// index lost in a crash is rebuilt from the segment). Layouts: docs/formats/log-segments.md.
//
//  .index      entries of 8 bytes:  relative offset u32 | file position u32
//              one per batch that starts index_interval_bytes or more after the previous
//              entry (and one for the first batch): "the batch at `position` starts at
//              base + relative offset".
//  .timeindex  entries of 12 bytes: timestamp i64 | relative offset u32
//              "every record before base + relative offset has a timestamp <= timestamp".
//              Both columns strictly increase; a lookup for time t starts at the offset of
//              the last entry with timestamp < t.
//
// Owned by one segment, so by one shard; no locking.

#include <cstdint>
#include <optional>
#include <vector>

#include "bytes/buffer.h"

namespace tern::storage {

struct offset_entry {
  uint32_t relative_offset = 0;
  uint32_t position = 0;
};

struct time_entry {
  int64_t timestamp = 0;
  uint32_t relative_offset = 0;
};

class offset_index {
 public:
  static constexpr size_t entry_size = 8;

  // Entries must strictly increase in both columns.
  void append(uint32_t relative_offset, uint32_t position) {
    _entries.push_back({relative_offset, position});
  }
  // The last entry whose relative offset is <= `relative_offset`, if any.
  std::optional<offset_entry> floor(uint32_t relative_offset) const;
  // The file position to start scanning at for a batch containing `relative_offset`.
  uint32_t lookup(uint32_t relative_offset) const {
    auto e = floor(relative_offset);
    return e ? e->position : 0;
  }

  bool empty() const { return _entries.empty(); }
  size_t size() const { return _entries.size(); }
  const offset_entry& back() const { return _entries.back(); }
  const std::vector<offset_entry>& entries() const { return _entries; }
  void clear() { _entries.clear(); }

  bytes::buffer serialize() const;
  // A stored index, or nullopt unless: its size is a multiple of 8, both columns strictly
  // increase, and every position is inside a log file of `log_size` bytes.
  static std::optional<offset_index> parse(bytes::byte_view data, uint64_t log_size);

 private:
  std::vector<offset_entry> _entries;
};

class time_index {
 public:
  static constexpr size_t entry_size = 12;

  // Records "everything before `relative_offset` has a timestamp <= `timestamp`". An entry
  // with the same timestamp as the last one moves that entry forward instead of adding one;
  // an older timestamp, or an offset that does not increase, is ignored (never happens for a
  // running maximum, but keeps the invariants whatever the caller does).
  void append(int64_t timestamp, uint32_t relative_offset);
  // The last entry with timestamp < `ts`: the search for the first record at or after `ts`
  // may start at its offset. nullopt: start at the beginning of the segment.
  std::optional<time_entry> last_before(int64_t ts) const;

  bool empty() const { return _entries.empty(); }
  const time_entry& back() const { return _entries.back(); }
  const std::vector<time_entry>& entries() const { return _entries; }
  void clear() { _entries.clear(); }

  bytes::buffer serialize() const;
  // A stored index, or nullopt unless: its size is a multiple of 12, both columns strictly
  // increase, and no offset is beyond `max_relative_offset`.
  static std::optional<time_index> parse(bytes::byte_view data, uint32_t max_relative_offset);

 private:
  std::vector<time_entry> _entries;
};

}  // namespace tern::storage
