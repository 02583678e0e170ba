#pragma once
// A set of log offsets kept as disjoint half-open ranges [begin, end): the messages of a queue
// that were removed (acked, expired, dead-lettered). Queues are mostly consumed in order, so
// acks merge into a few ranges however many messages pass. Not thread safe.

#include <cstdint>
#include <iterator>
#include <map>

namespace tern::broker {

class offset_ranges {
 public:
  void add(int64_t offset) { add_range(offset, offset + 1); }

  void add_range(int64_t begin, int64_t end) {
    if (begin >= end) return;
    // Merge with a range that ends at or after `begin` and starts at or before `end`.
    auto it = _ranges.upper_bound(begin);
    if (it != _ranges.begin()) {
      auto prev = std::prev(it);
      if (prev->second >= begin) {
        begin = prev->first;
        if (prev->second > end) end = prev->second;
        it = _ranges.erase(prev);
      }
    }
    while (it != _ranges.end() && it->first <= end) {
      if (it->second > end) end = it->second;
      it = _ranges.erase(it);
    }
    _ranges.emplace(begin, end);
  }

  bool contains(int64_t offset) const {
    auto it = _ranges.upper_bound(offset);
    if (it == _ranges.begin()) return false;
    return std::prev(it)->second > offset;
  }

  // Forgets everything below `offset` (the log no longer has it).
  void trim_below(int64_t offset) {
    while (!_ranges.empty() && _ranges.begin()->second <= offset) _ranges.erase(_ranges.begin());
    if (!_ranges.empty() && _ranges.begin()->first < offset) {
      int64_t end = _ranges.begin()->second;
      _ranges.erase(_ranges.begin());
      _ranges.emplace(offset, end);
    }
  }

  bool empty() const { return _ranges.empty(); }
  size_t range_count() const { return _ranges.size(); }
  const std::map<int64_t, int64_t>& ranges() const { return _ranges; }
  void clear() { _ranges.clear(); }

 private:
  std::map<int64_t, int64_t> _ranges;  // begin -> end
};

}  // namespace tern::broker
