#include "storage/index.h"

#include <algorithm>

namespace tern::storage {
using bytes::load_be;
using bytes::store_be;

std::optional<offset_entry> offset_index::floor(uint32_t relative_offset) const {
  auto it =
      std::upper_bound(_entries.begin(), _entries.end(), relative_offset,
                       [](uint32_t rel, const offset_entry& e) { return rel < e.relative_offset; });
  if (it == _entries.begin()) return std::nullopt;
  return *std::prev(it);
}

bytes::buffer offset_index::serialize() const {
  bytes::buffer out(_entries.size() * entry_size);
  uint8_t* p = out.data();
  for (const auto& e : _entries) {
    store_be<uint32_t>(p, e.relative_offset);
    store_be<uint32_t>(p + 4, e.position);
    p += entry_size;
  }
  return out;
}

std::optional<offset_index> offset_index::parse(bytes::byte_view data, uint64_t log_size) {
  if (data.size() % entry_size != 0) return std::nullopt;
  offset_index idx;
  idx._entries.reserve(data.size() / entry_size);
  for (size_t at = 0; at < data.size(); at += entry_size) {
    offset_entry e{load_be<uint32_t>(data.data() + at), load_be<uint32_t>(data.data() + at + 4)};
    if (e.position >= log_size) return std::nullopt;
    if (!idx._entries.empty() &&
        (e.relative_offset <= idx.back().relative_offset || e.position <= idx.back().position))
      return std::nullopt;
    idx._entries.push_back(e);
  }
  return idx;
}

void time_index::append(int64_t timestamp, uint32_t relative_offset) {
  if (!_entries.empty()) {
    time_entry& last = _entries.back();
    if (relative_offset <= last.relative_offset || timestamp < last.timestamp) return;
    if (timestamp == last.timestamp) {
      last.relative_offset = relative_offset;
      return;
    }
  }
  _entries.push_back({timestamp, relative_offset});
}

std::optional<time_entry> time_index::last_before(int64_t ts) const {
  auto it = std::lower_bound(_entries.begin(), _entries.end(), ts,
                             [](const time_entry& e, int64_t t) { return e.timestamp < t; });
  if (it == _entries.begin()) return std::nullopt;
  return *std::prev(it);
}

bytes::buffer time_index::serialize() const {
  bytes::buffer out(_entries.size() * entry_size);
  uint8_t* p = out.data();
  for (const auto& e : _entries) {
    store_be<int64_t>(p, e.timestamp);
    store_be<uint32_t>(p + 8, e.relative_offset);
    p += entry_size;
  }
  return out;
}

std::optional<time_index> time_index::parse(bytes::byte_view data, uint32_t max_relative_offset) {
  if (data.size() % entry_size != 0) return std::nullopt;
  time_index idx;
  idx._entries.reserve(data.size() / entry_size);
  for (size_t at = 0; at < data.size(); at += entry_size) {
    time_entry e{load_be<int64_t>(data.data() + at), load_be<uint32_t>(data.data() + at + 8)};
    if (e.relative_offset > max_relative_offset) return std::nullopt;
    if (!idx._entries.empty() &&
        (e.timestamp <= idx.back().timestamp || e.relative_offset <= idx.back().relative_offset))
      return std::nullopt;
    idx._entries.push_back(e);
  }
  return idx;
}

}  // namespace tern::storage
