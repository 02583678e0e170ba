#include "broker/queue_journal.h"

#include <algorithm>

#include "base/logger.h"
#include "storage/record_batch.h"

namespace tern::broker {
namespace {

constexpr uint8_t kEntry = 1;
constexpr uint8_t kSnapshot = 2;
// A journal record is small; this bounds what one may claim before it is believed.
constexpr uint64_t kMaxItems = 1u << 26;

bytes::buffer as_batch(bytes::buffer value, int64_t now_ms) {
  storage::record rec;
  rec.value = std::move(value);
  rec.timestamp = now_ms;
  return storage::build_batch({rec});
}

void write_returns(bytes::byte_writer& w, auto const& returns) {
  w.uvarint(returns.size());
  for (auto& [offset, count] : returns) {
    w.varlong(offset);
    w.uvarint(count);
  }
}

bool read_returns(bytes::byte_reader& in, journal_state& state) {
  uint64_t n = in.uvarint();
  if (!in.ok() || n > kMaxItems || n > in.remaining()) return false;
  for (uint64_t i = 0; i < n && in.ok(); ++i) {
    int64_t offset = in.varlong();
    uint64_t count = in.uvarint();
    if (in.ok()) state.return_counts[offset] = uint32_t(std::min<uint64_t>(count, UINT32_MAX));
  }
  return in.ok();
}

}  // namespace

bytes::buffer encode_journal_entry(journal_entry& e, int64_t now_ms) {
  std::sort(e.removed.begin(), e.removed.end());
  bytes::buffer v;
  bytes::byte_writer w(v);
  w.u8(kEntry);
  w.uvarint(e.removed.size());
  int64_t prev = 0;
  for (int64_t o : e.removed) {
    w.uvarint(uint64_t(o - prev));
    prev = o;
  }
  write_returns(w, e.returns);
  w.varlong(e.delivered_mark);
  return as_batch(std::move(v), now_ms);
}

bytes::buffer encode_journal_snapshot(const journal_snapshot& s, int64_t now_ms) {
  bytes::buffer v;
  bytes::byte_writer w(v);
  w.u8(kSnapshot);
  w.varlong(s.log_start);
  w.uvarint(s.removed->range_count());
  int64_t prev_end = s.log_start;
  for (auto& [begin, end] : s.removed->ranges()) {
    // Ranges below the log start were trimmed by the caller; clamp in case.
    int64_t b = std::max(begin, prev_end);
    w.uvarint(uint64_t(b - prev_end));
    w.uvarint(uint64_t(std::max<int64_t>(end - b, 0)));
    prev_end = std::max(end, prev_end);
  }
  w.varlong(s.delivered_mark);
  write_returns(w, *s.return_counts);
  return as_batch(std::move(v), now_ms);
}

bool apply_journal_value(bytes::byte_view value, journal_state& state) {
  bytes::byte_reader in(value);
  uint8_t kind = in.u8();
  if (!in.ok()) return false;
  if (kind == kEntry) {
    uint64_t n = in.uvarint();
    if (!in.ok() || n > kMaxItems || n > in.remaining()) return false;
    int64_t offset = 0;
    for (uint64_t i = 0; i < n && in.ok(); ++i) {
      offset += int64_t(in.uvarint());
      if (in.ok()) {
        state.removed.add(offset);
        state.return_counts.erase(offset);
      }
    }
    if (!read_returns(in, state)) return false;
    int64_t mark = in.varlong();
    if (!in.ok()) return false;
    if (mark > state.delivered_mark) state.delivered_mark = mark;
    return true;
  }
  if (kind == kSnapshot) {
    journal_state fresh;
    int64_t start = in.varlong();
    uint64_t r = in.uvarint();
    if (!in.ok() || r > kMaxItems || r > in.remaining()) return false;
    int64_t prev_end = start;
    for (uint64_t i = 0; i < r && in.ok(); ++i) {
      int64_t begin = prev_end + int64_t(in.uvarint());
      int64_t end = begin + int64_t(in.uvarint());
      if (in.ok()) fresh.removed.add_range(begin, end);
      prev_end = end;
    }
    fresh.delivered_mark = in.varlong();
    if (!in.ok() || !read_returns(in, fresh)) return false;
    state = std::move(fresh);
    return true;
  }
  return false;
}

result<void> replay_journal(storage::log& journal, journal_state& state) {
  int64_t offset = journal.log_start_offset();
  const int64_t end = journal.log_end_offset();
  size_t skipped = 0;
  while (offset < end) {
    auto r = journal.read(offset, end, 1u << 20, true);
    if (!r) return r.error();
    if (r->ranges.empty()) break;
    auto data = storage::copy_to_memory(*r);
    if (!data) return data.error();
    bytes::byte_view rest(*data);
    int64_t next = offset;
    while (rest.size() >= storage::batch_layout::header_size) {
      auto h = storage::parse_batch_header(rest);
      if (!h || h->size() > rest.size()) break;
      auto walked =
          storage::for_each_record(rest.first(h->size()), 1u << 26, [&](auto& rec) {
            if (rec.offset >= offset && (!rec.value || !apply_journal_value(*rec.value, state)))
              ++skipped;
            return true;
          });
      if (!walked) return walked.error();
      next = h->last_offset() + 1;
      rest = rest.subspan(h->size());
    }
    if (next <= offset) break;
    offset = next;
  }
  if (skipped) module_logger("queue").warn("journal {}: skipped {} bad entries",
                                           journal.dir().string(), skipped);
  return {};
}

}  // namespace tern::broker
