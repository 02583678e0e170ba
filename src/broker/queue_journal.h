#pragma once
// The queue journal (queue.h): records in a storage::log saying which messages left the queue.
// Each record's value is one entry:
//
//   u8 kind = 1 (entry):    uvarint n, n removed offsets (ascending, delta-encoded uvarints),
//                           uvarint m, m × (varlong offset, uvarint return count),
//                           varlong delivered mark (-1 = unchanged)
//   u8 kind = 2 (snapshot): varlong log start, uvarint r, r × (uvarint begin − previous end,
//                           uvarint length) removed ranges, varlong delivered mark,
//                           uvarint m, m × (varlong offset, uvarint return count)
//
// Replay applies the entries in order; a snapshot replaces everything before it (the queue
// writes one at open and when the journal grows, then deletes the journal before it).

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/result.h"
#include "broker/offset_ranges.h"
#include "bytes/buffer.h"
#include "storage/log.h"

namespace tern::broker {

struct journal_entry {
  std::vector<int64_t> removed;
  std::vector<std::pair<int64_t, uint32_t>> returns;
  int64_t delivered_mark = -1;
};

struct journal_snapshot {
  int64_t log_start = 0;
  const offset_ranges* removed = nullptr;
  int64_t delivered_mark = -1;
  const std::unordered_map<int64_t, uint32_t>* return_counts = nullptr;
};

// What a replay rebuilds.
struct journal_state {
  offset_ranges removed;
  int64_t delivered_mark = -1;
  std::unordered_map<int64_t, uint32_t> return_counts;
};

bytes::buffer encode_journal_entry(journal_entry& e, int64_t now_ms);  // sorts e.removed
bytes::buffer encode_journal_snapshot(const journal_snapshot& s, int64_t now_ms);
// Applies one record value; false when it is not a valid entry (the record is skipped).
bool apply_journal_value(bytes::byte_view value, journal_state& state);
// Reads the whole journal log and applies every entry.
result<void> replay_journal(storage::log& journal, journal_state& state);

}  // namespace tern::broker
