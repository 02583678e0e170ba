#include "storage/segment.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "bytes/crc32c.h"

namespace tern::storage {
namespace fs = std::filesystem;
namespace bl = batch_layout;
using bytes::byte_view;

namespace {

constexpr std::string_view kLog = ".log";
constexpr std::string_view kIndex = ".index";
constexpr std::string_view kTimeIndex = ".timeindex";
constexpr uint64_t kMaxRelative = std::numeric_limits<uint32_t>::max();
// Recovery reads segments through a window of this size: one pread per MiB, not per batch.
constexpr size_t kScanWindow = 1u << 20;

// A forward-only view of a file through a window buffer.
class window_reader {
 public:
  window_reader(file& f, uint64_t file_size) : _file(f), _file_size(file_size) {}

  // The bytes [pos, pos + n), n <= kScanWindow, inside the file. Valid until the next call.
  result<byte_view> view(uint64_t pos, size_t n) {
    if (pos < _start || pos + n > _start + _len) {
      _buf.resize(kScanWindow);
      size_t want = size_t(std::min<uint64_t>(kScanWindow, _file_size - pos));
      auto got = _file.pread(std::span(_buf.data(), want), pos);
      if (!got) return to_storage_error(got.error());
      _start = pos;
      _len = *got;
      if (_len < n) return errc::io_error;  // the file shrank under us
    }
    return byte_view(_buf.data() + (pos - _start), n);
  }

 private:
  file& _file;
  uint64_t _file_size;
  bytes::buffer _buf;
  uint64_t _start = 0;
  size_t _len = 0;
};

result<bytes::buffer> read_whole(file& f) {
  auto size = f.size();
  if (!size) return size.error();
  bytes::buffer buf(*size);
  auto got = f.pread(buf, 0);
  if (!got) return got.error();
  buf.resize(*got);
  return buf;
}

}  // namespace

fs::path segment_file(const fs::path& dir, int64_t base_offset, std::string_view extension) {
  return dir / fmt::format("{:020d}{}", base_offset, extension);
}

std::optional<int64_t> parse_segment_name(std::string_view name, std::string_view extension) {
  if (name.size() != 20 + extension.size() || name.substr(20) != extension) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + 20, v);
  if (ec != std::errc() || end != name.data() + 20 || v < 0) return std::nullopt;
  return v;
}

result<std::unique_ptr<segment>> segment::create(file_system& fs, const fs::path& dir,
                                                 int64_t base_offset, int64_t now_ms,
                                                 std::string_view suffix) {
  auto name = [&](std::string_view ext) {
    return segment_file(dir, base_offset, std::string(ext) + std::string(suffix));
  };
  auto f = fs.open(name(kLog), open_mode::create_truncate);
  if (!f) return f.error();
  // Stale index files of that name would be overwritten before being trusted, but removing
  // them keeps the directory honest after a crash.
  (void)fs.remove(name(kIndex));
  (void)fs.remove(name(kTimeIndex));
  return std::unique_ptr<segment>(new segment(base_offset, std::move(*f), now_ms));
}

result<std::pair<std::unique_ptr<segment>, load_outcome>> segment::load(
    file_system& fs, const fs::path& dir, int64_t base_offset, int64_t min_offset,
    bool trust_indexes, uint32_t index_interval_bytes, int64_t now_ms) {
  auto f = fs.open(segment_file(dir, base_offset, kLog), open_mode::existing);
  if (!f) return f.error();
  auto file_size = (*f)->size();
  if (!file_size) return file_size.error();
  std::unique_ptr<segment> seg(new segment(base_offset, std::move(*f), now_ms));
  load_outcome out;

  bool full = true;
  uint64_t start = 0;
  if (trust_indexes) {
    auto loaded = seg->load_index_files(fs, dir, *file_size);
    if (!loaded) return loaded.error();
    if (*loaded && !seg->_offset_index.empty()) {
      // Resume after the last indexed batch, if it really is where the index says.
      const offset_entry last = seg->_offset_index.back();
      seg->_size = *file_size;  // header_at() checks against it
      auto h = seg->header_at(last.position);
      if (h && *h && (*h)->base_offset == base_offset + int64_t(last.relative_offset)) {
        full = false;
        start = last.position;
        seg->_next_offset = (*h)->base_offset;
        seg->_max_timestamp = seg->_time_index.empty() ? -1 : seg->_time_index.back().timestamp;
      }
    } else if (*loaded) {
      full = false;  // an empty index is only valid for an empty file (load_index_files)
    }
  }
  if (full) {
    seg->reset_indexes();
    out.index_rebuilt = true;
  }
  seg->_size = start;
  int64_t first = full ? std::max(min_offset, base_offset) : seg->_next_offset;
  auto scanned = seg->scan(start, *file_size, first, index_interval_bytes);
  if (!scanned) return scanned.error();
  out.valid_bytes = scanned->first;
  out.dropped_bytes = *file_size - scanned->first;
  out.problem = std::move(scanned->second);
  if (out.dropped_bytes > 0) {
    auto t = seg->_file->truncate(out.valid_bytes);
    if (!t) return t.error();
  }
  // What was trusted was synced before; what was just checked may sit in the page cache only.
  seg->_synced_size = trust_indexes && !full && out.dropped_bytes == 0 ? seg->_size : 0;
  return std::make_pair(std::move(seg), std::move(out));
}

void segment::reset_indexes() {
  _offset_index.clear();
  _time_index.clear();
  _size = 0;
  _next_offset = _base_offset;
  _max_timestamp = -1;
  _bytes_since_index = 0;
}

result<bool> segment::load_index_files(file_system& fs, const fs::path& dir, uint64_t file_size) {
  // A valid index has at most one entry per batch: anything larger is garbage, unread.
  const uint64_t max_entries = file_size / bl::header_size + 1;
  auto read = [&](std::string_view ext, size_t entry_size) -> result<std::optional<bytes::buffer>> {
    auto f = fs.open(segment_file(dir, _base_offset, ext), open_mode::existing);
    if (!f) {
      if (f.error() == std::errc::no_such_file_or_directory) return std::optional<bytes::buffer>();
      return f.error();
    }
    auto size = (*f)->size();
    if (!size) return size.error();
    if (*size > max_entries * entry_size) return std::optional<bytes::buffer>();
    auto data = read_whole(**f);
    if (!data) return data.error();
    return std::optional<bytes::buffer>(std::move(*data));
  };
  auto idx_data = read(kIndex, offset_index::entry_size);
  if (!idx_data) return idx_data.error();
  auto time_data = read(kTimeIndex, time_index::entry_size);
  if (!time_data) return time_data.error();
  if (!*idx_data || !*time_data) return false;

  auto idx = offset_index::parse(**idx_data, file_size);
  if (!idx) return false;
  uint32_t max_rel = idx->empty() ? 0 : idx->back().relative_offset;
  auto tidx = time_index::parse(**time_data, max_rel);
  if (!tidx) return false;
  // The shape index_batch() always produces: the first batch indexed at position 0, and from
  // the second offset entry on, a time entry at the last offset entry.
  if (idx->empty() != (file_size == 0)) return false;
  if (!idx->empty() && idx->entries().front().position != 0) return false;
  if ((idx->size() >= 2) == tidx->empty()) return false;
  if (!tidx->empty() && tidx->back().relative_offset != idx->back().relative_offset) return false;
  _offset_index = std::move(*idx);
  _time_index = std::move(*tidx);
  return true;
}

result<std::pair<uint64_t, std::string>> segment::scan(uint64_t position, uint64_t file_size,
                                                       int64_t min_offset,
                                                       uint32_t index_interval_bytes) {
  window_reader reader(*_file, file_size);
  uint64_t pos = position;
  while (pos < file_size) {
    auto bad = [&](std::string why) {
      return std::make_pair(pos, fmt::format("{} at file position {}", why, pos));
    };
    if (file_size - pos < bl::header_size) return bad("truncated batch header");
    auto hv = reader.view(pos, bl::header_size);
    if (!hv) return hv.error();
    auto h = parse_batch_header(*hv);
    if (!h) return bad(fmt::format("bad batch header ({})", h.error().message()));
    if (h->size() > file_size - pos)
      return bad(fmt::format("batch of {} bytes cut short", h->size()));
    if (h->base_offset < min_offset)
      return bad(fmt::format("offset {} not after {}", h->base_offset, min_offset - 1));
    if (h->last_offset_delta < 0 || h->base_offset < _base_offset ||
        uint64_t(h->base_offset - _base_offset) + uint64_t(h->last_offset_delta) > kMaxRelative ||
        pos > kMaxRelative)
      return bad(fmt::format("offset {} outside the segment's range", h->base_offset));
    // CRC over attributes..end, streamed through the window.
    uint32_t crc = 0;
    for (uint64_t at = pos + bl::attributes, end = pos + h->size(); at < end;) {
      size_t n = size_t(std::min<uint64_t>(kScanWindow, end - at));
      auto v = reader.view(at, n);
      if (!v) return v.error();
      crc = bytes::crc32c_extend(crc, v->data(), n);
      at += n;
    }
    if (crc != h->crc)
      return bad(fmt::format("CRC mismatch in batch at offset {}", h->base_offset));
    index_batch(*h, pos, index_interval_bytes);
    min_offset = h->last_offset() + 1;
    pos += h->size();
  }
  return std::make_pair(pos, std::string());
}

void segment::index_batch(const batch_header& h, uint64_t position, uint32_t index_interval_bytes) {
  uint32_t rel = uint32_t(h.base_offset - _base_offset);
  // The `rel >` test skips the batch an index entry already names (resuming after a load).
  if (_offset_index.empty() ||
      (_bytes_since_index >= index_interval_bytes && rel > _offset_index.back().relative_offset)) {
    _offset_index.append(rel, uint32_t(position));
    // Everything before this batch is at most _max_timestamp.
    if (position > 0) _time_index.append(_max_timestamp, rel);
    _bytes_since_index = 0;
  }
  _bytes_since_index += h.size();
  _max_timestamp = std::max(_max_timestamp, h.max_timestamp);
  _next_offset = h.last_offset() + 1;
  _size = position + h.size();
}

result<void> segment::append(byte_view batch, const batch_header& h, uint32_t index_interval_bytes,
                             bool* truncate_failed) {
  const uint64_t pos = _size;
  auto w = _file->pwrite(batch, pos);
  if (!w) {
    // A partial write must not stay: the next append would land after garbage.
    if (!_file->truncate(pos)) *truncate_failed = true;
    return w.error();
  }
  index_batch(h, pos, index_interval_bytes);
  return ok();
}

result<std::optional<batch_header>> segment::header_at(uint64_t position) const {
  if (position >= _size) return std::optional<batch_header>();
  if (_size - position < bl::header_size) return errc::corrupt_batch;
  uint8_t buf[bl::header_size];
  auto got = _file->pread(buf, position);
  if (!got) return to_storage_error(got.error());
  if (*got != bl::header_size) return errc::corrupt_batch;
  auto h = parse_batch_header(buf);
  if (!h || h->size() > _size - position) return errc::corrupt_batch;
  return std::optional<batch_header>(*h);
}

result<std::optional<batch_ref>> segment::find_batch(int64_t offset) const {
  if (offset >= _next_offset) return std::optional<batch_ref>();
  uint64_t rel =
      offset <= _base_offset ? 0 : std::min<uint64_t>(offset - _base_offset, kMaxRelative);
  uint64_t pos = _offset_index.lookup(uint32_t(rel));
  while (true) {
    auto h = header_at(pos);
    if (!h) return h.error();
    if (!*h) return std::optional<batch_ref>();
    if ((*h)->last_offset() >= offset) return std::optional<batch_ref>(batch_ref{pos, **h});
    pos += (*h)->size();
  }
}

result<std::optional<std::pair<int64_t, int64_t>>> segment::find_timestamp(
    int64_t ts, int64_t min_offset, size_t max_decompressed) const {
  using found = std::optional<std::pair<int64_t, int64_t>>;
  auto from = _time_index.last_before(ts);
  uint64_t pos = from ? _offset_index.lookup(from->relative_offset) : 0;
  bytes::buffer batch;
  while (true) {
    auto h = header_at(pos);
    if (!h) return h.error();
    if (!*h) return found();
    const batch_header& hdr = **h;
    if (hdr.max_timestamp >= ts && hdr.last_offset() >= min_offset) {
      batch.resize(hdr.size());
      auto got = _file->pread(batch, pos);
      if (!got) return to_storage_error(got.error());
      if (*got != batch.size()) return errc::corrupt_batch;
      found hit;
      auto walked = for_each_record(batch, max_decompressed, [&](const record_view& r) {
        if (r.offset < min_offset || r.timestamp < ts) return true;
        hit.emplace(r.offset, r.timestamp);
        return false;
      });
      if (!walked) return walked.error();
      if (hit) return hit;
    }
    pos += hdr.size();
  }
}

result<void> segment::write_indexes(file_system& fs, const fs::path& dir, std::string_view suffix) {
  // Handles from an earlier call name the same files, now superseded: syncing the new ones
  // covers them.
  _unsynced_index_files.clear();
  auto write = [&](std::string_view ext, const bytes::buffer& data) -> result<void> {
    auto f = fs.open(segment_file(dir, _base_offset, std::string(ext) + std::string(suffix)),
                     open_mode::create_truncate);
    if (!f) return f.error();
    if (!data.empty()) TERN_TRY((*f)->pwrite(data, 0));
    _unsynced_index_files.push_back(std::move(*f));
    return ok();
  };
  TERN_TRY(write(kIndex, _offset_index.serialize()));
  return write(kTimeIndex, _time_index.serialize());
}

result<void> segment::remove_files(file_system& fs, const fs::path& dir, int64_t base_offset,
                                   std::string_view suffix) {
  std::error_code first;
  for (auto ext : {kLog, kIndex, kTimeIndex}) {
    auto r = fs.remove(segment_file(dir, base_offset, std::string(ext) + std::string(suffix)));
    if (!r && !first) first = r.error();
  }
  return first;
}

}  // namespace tern::storage
