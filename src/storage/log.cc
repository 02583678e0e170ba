// The running log: append, group commit, reads, retention. Opening, recovery and close are in
// log_open.cc.

#include "storage/log.h"

#include <unistd.h>

#include <algorithm>
#include <limits>

#include "base/logger.h"
#include "storage/checkpoint.h"
#include "storage/log_internal.h"

namespace tern::storage {
namespace fs = std::filesystem;

log::log(file_system& fs, flusher& fl, poster post, fs::path dir, log_config config, clock_fn now)
    : _fs(fs),
      _flusher(fl),
      _post(std::move(post)),
      _dir(std::move(dir)),
      _config(config),
      _now(now),
      _jobs(std::make_shared<job_tracker>()) {}

log::~log() {
  if (_closed) return;
  if (_cancel_compaction) _cancel_compaction->store(true);
  _jobs->wait_idle();
  for (auto* list : {&_waiting, &_next})
    for (auto& done : std::exchange(*list, {}))
      _post([done = std::move(done)] { done(errc::log_closed); });
}

int64_t log::high_watermark() const {
  return _config.flush == flush_policy::always ? _durable_end : log_end_offset();
}

std::vector<int64_t> log::segment_bases() const {
  std::vector<int64_t> out;
  for (auto& s : _segments) out.push_back(s->base_offset());
  return out;
}

void log::fail(std::error_code ec, const char* what) {
  if (!_failed) {
    module_logger("storage").error("log {}: {}: {}; the log refuses writes until reopened",
                                   _dir.string(), what, ec.message());
    _failed = errc::io_error;
  }
}

// --- append ------------------------------------------------------------------------------

result<log::append_result> log::append(std::span<uint8_t> batch) {
  if (_closed) return errc::log_closed;
  if (_failed) return _failed;
  auto parsed = parse_batch_header(batch);
  if (!parsed) return parsed.error();
  batch_header h = *parsed;
  if (h.size() != batch.size()) return errc::corrupt_batch;
  if (batch.size() > _config.max_message_bytes) return errc::batch_too_large;
  if (h.last_offset_delta < 0) return errc::invalid_record;

  const int64_t now = _now();
  TERN_TRY(maybe_roll(batch.size(), h.last_offset_delta, now));

  const int64_t base = log_end_offset();
  std::optional<int64_t> append_time;
  if (_config.log_append_time) append_time = now;
  assign_offsets(batch, base, _leader_epoch, append_time);
  h.base_offset = base;
  h.partition_leader_epoch = _leader_epoch;
  if (append_time) {
    h.attributes |= kAttrLogAppendTime;
    h.max_timestamp = *append_time;
  }

  bool truncate_failed = false;
  auto w = active().append(batch, h, _config.index_interval_bytes, &truncate_failed);
  if (!w) {
    std::error_code e = to_storage_error(w.error());
    module_logger("storage").warn("log {}: append of {} bytes at offset {} failed: {}",
                                  _dir.string(), batch.size(), base, w.error().message());
    if (truncate_failed) fail(w.error(), "cannot truncate a failed write");
    return e;
  }
  _size_bytes += batch.size();
  return append_result{base, h.last_offset(), append_time.value_or(-1)};
}

result<void> log::maybe_roll(size_t batch_size, int32_t last_offset_delta, int64_t now) {
  segment& seg = active();
  if (seg.empty()) return ok();
  const uint64_t rel_last =
      uint64_t(seg.next_offset() - seg.base_offset()) + uint64_t(last_offset_delta);
  bool full = seg.size() + batch_size > _config.segment_bytes;
  bool old = now - seg.created_ms() >= _config.segment_ms;
  // Index entries hold 32-bit relative offsets and positions.
  bool unindexable = rel_last > std::numeric_limits<uint32_t>::max() ||
                     seg.size() + batch_size > std::numeric_limits<uint32_t>::max();
  if (!full && !old && !unindexable) return ok();
  return roll(now);
}

result<void> log::roll(int64_t now) {
  segment& old = active();
  auto w = old.write_indexes(_fs, _dir);
  if (!w) return to_storage_error(w.error());
  auto seg = segment::create(_fs, _dir, log_end_offset(), now);
  if (!seg) {
    module_logger("storage").warn("log {}: cannot create segment {}: {}", _dir.string(),
                                  log_end_offset(), seg.error().message());
    return to_storage_error(seg.error());
  }
  _segments.push_back(std::move(*seg));
  _dir_dirty = true;
  // Make the rolled segment durable in the background, whatever the policy, so that the
  // recovery point advances and a restart checks only the newest segment.
  if (!_sync_in_flight && !_failed) start_sync();
  return ok();
}

// --- group commit --------------------------------------------------------------------------

void log::flush(done_fn done) {
  std::error_code now_ec;
  if (_closed)
    now_ec = errc::log_closed;
  else if (_failed)
    now_ec = _failed;
  if (now_ec || _config.flush == flush_policy::never) {
    _post([done = std::move(done), now_ec] { done(now_ec); });
    return;
  }
  if (_sync_in_flight) {
    (_sync_target >= log_end_offset() ? _waiting : _next).push_back(std::move(done));
    return;
  }
  if (_durable_end >= log_end_offset()) {
    _post([done = std::move(done)] { done({}); });
    return;
  }
  _waiting.push_back(std::move(done));
  start_sync();
}

void log::maybe_flush_interval(int64_t now_ms) {
  if (_config.flush != flush_policy::interval || _closed || _failed) return;
  if (now_ms - _last_flush_ms < _config.flush_interval_ms) return;
  if (!_sync_in_flight && _durable_end < log_end_offset()) start_sync();  // sets _last_flush_ms
}

void log::start_sync() {
  _sync_in_flight = true;
  _sync_target = log_end_offset();
  _last_flush_ms = _now();
  sync_plan plan = plan_sync(_segments);
  const bool sync_dir = std::exchange(_dir_dirty, false);
  // Every segment below the active one is in this sync or an earlier successful one (a
  // failed sync fails the log), so the active segment's base becomes the recovery point.
  const int64_t rp = active().base_offset();
  const bool write_rp = rp != _recovery_point;
  _jobs->add();
  auto work = [files = std::move(plan.files), sync_dir, write_rp, rp, &fs = _fs, dir = _dir,
               jobs = _jobs]() -> std::error_code {
    std::error_code ec = run_syncs(fs, dir, files, sync_dir);
    if (!ec && write_rp) ec = write_checkpoint(fs, dir / kRecoveryPointFile, rp).error();
    if (ec) jobs->record_error(ec);
    jobs->done();
    return ec;
  };
  auto done = [this, alive = std::weak_ptr<int>(_alive), target = _sync_target,
               synced = std::move(plan.synced), rp](std::error_code ec) {
    if (alive.expired()) return;
    on_sync_done(ec, target, synced, rp);
  };
  _flusher.submit(std::move(work), _post, std::move(done));
}

void log::on_sync_done(std::error_code ec, int64_t target,
                       const std::vector<std::pair<int64_t, uint64_t>>& synced, int64_t rp) {
  _sync_in_flight = false;
  if (_closed) return;  // close() synced everything and completed the waiters itself
  if (ec) fail(ec, "fdatasync failed");
  std::vector<done_fn> done = std::exchange(_waiting, {});
  std::error_code result = _failed;
  if (!_failed) {
    _durable_end = std::max(_durable_end, target);
    _recovery_point = rp;
    mark_synced(_segments, synced);
    if (!_next.empty()) {
      _waiting = std::exchange(_next, {});
      start_sync();
    }
  } else {
    for (auto& d : std::exchange(_next, {})) done.push_back(std::move(d));
  }
  // Last: a callback may append, flush, or even destroy this log.
  for (auto& d : done) d(result);
}

// --- reads -----------------------------------------------------------------------------------

result<log::read_result> log::read(int64_t offset, int64_t max_offset_exclusive, size_t max_bytes,
                                   bool min_one_batch) {
  if (offset < _log_start || offset > log_end_offset()) return errc::offset_out_of_range;
  read_result out;
  if (offset >= max_offset_exclusive || offset == log_end_offset()) return out;

  // The last segment starting at or before `offset`; later ones if it ends before it.
  auto it = std::upper_bound(_segments.begin(), _segments.end(), offset,
                             [](int64_t o, const auto& s) { return o < s->base_offset(); });
  if (it != _segments.begin()) --it;
  std::optional<batch_ref> found;
  for (; it != _segments.end(); ++it) {
    auto f = (*it)->find_batch(offset);
    if (!f) return f.error();
    if ((found = *f)) break;
  }
  if (!found) return out;

  const segment& seg = **it;
  uint64_t pos = found->position;
  batch_header h = found->header;
  while (true) {
    if (h.last_offset() >= max_offset_exclusive) break;
    if (out.bytes + h.size() > max_bytes && !(out.ranges.empty() && min_one_batch)) break;
    auto& ranges = out.ranges;
    // Adjacent batches share one range: fewer chunks for the socket writer.
    if (!ranges.empty() && ranges.back().offset + ranges.back().length == pos &&
        uint64_t(ranges.back().length) + h.size() <= std::numeric_limits<uint32_t>::max()) {
      ranges.back().length += uint32_t(h.size());
    } else {
      ranges.push_back({seg.log_file(), seg.log_file()->fd(), pos, uint32_t(h.size())});
    }
    out.bytes += h.size();
    pos += h.size();
    auto next = seg.header_at(pos);
    if (!next) return next.error();
    if (!*next) break;  // end of the segment
    h = **next;
  }
  return out;
}

result<std::optional<std::pair<int64_t, int64_t>>> log::offset_for_timestamp(int64_t ts) {
  for (auto& seg : _segments) {
    if (seg->max_timestamp() < ts || seg->next_offset() <= _log_start) continue;
    auto r = seg->find_timestamp(ts, _log_start, _config.max_decompressed_bytes);
    if (!r || *r) return r;
  }
  return std::optional<std::pair<int64_t, int64_t>>();
}

// --- deletion ------------------------------------------------------------------------------

result<void> log::delete_records_before(int64_t offset) {
  if (_closed) return errc::log_closed;
  if (offset > high_watermark()) return errc::offset_out_of_range;
  if (offset <= _log_start) return ok();
  auto w = write_checkpoint(_fs, _dir / kLogStartFile, offset);
  if (!w) return to_storage_error(w.error());
  _log_start = offset;
  // Everything in the active segment is gone: roll so that it can be deleted too.
  if (!active().empty() && active().next_offset() <= offset && !_failed) (void)roll(_now());
  // A compaction in flight is rewriting the oldest segments: it deletes them when it ends.
  if (!_compacting) delete_segments_below_start();
  return ok();
}

void log::delete_segments_below_start() {
  // A segment stands for the offsets up to the next one's base, not only up to its last
  // batch: compaction may have removed its last records, and the log start must not jump.
  while (_segments.size() > 1 && _segments[1]->base_offset() <= _log_start) delete_oldest_segment();
}

void log::apply_retention() {
  if (_closed || _compacting || !_config.cleanup_delete) return;
  const int64_t now = _now();
  if (_config.retention_bytes >= 0) {
    while (_segments.size() > 1 &&
           _size_bytes - _segments.front()->size() >= uint64_t(_config.retention_bytes))
      delete_oldest_segment();
  }
  if (_config.retention_ms >= 0) {
    while (_segments.size() > 1) {
      const segment& s = *_segments.front();
      int64_t t = s.max_timestamp() >= 0 ? s.max_timestamp() : s.created_ms();
      if (now - t <= _config.retention_ms) break;
      delete_oldest_segment();
    }
  }
}

void log::delete_oldest_segment() {
  std::unique_ptr<segment> seg = std::move(_segments.front());
  _segments.pop_front();
  _size_bytes -= seg->size();
  _log_start = std::max(_log_start, _segments.front()->base_offset());
  module_logger("storage").info("log {}: deleting segment {} ({} bytes, offsets {}..{})",
                                _dir.string(), seg->base_offset(), seg->size(), seg->base_offset(),
                                seg->next_offset() - 1);
  // Unlinking a large file can take a while: off the shard. Readers holding file_ranges keep
  // the open file. If the removal is lost in a crash, open() deletes the segment again
  // because it lies below the log start offset (or retention does).
  _jobs->add();
  _flusher.submit([&fs = _fs, dir = _dir, base = seg->base_offset(), jobs = _jobs] {
    auto r = segment::remove_files(fs, dir, base);
    if (!r)
      module_logger("storage").warn("log {}: removing segment {}: {}", dir.string(), base,
                                    r.error().message());
    jobs->done();
  });
}

result<bytes::buffer> copy_to_memory(const log::read_result& r) {
  bytes::buffer data(r.bytes);
  size_t at = 0;
  for (auto& range : r.ranges) {
    size_t done = 0;
    while (done < range.length) {
      ssize_t n = ::pread(range.fd, data.data() + at + done, range.length - done,
                          off_t(range.offset + done));
      if (n <= 0) return errc::io_error;
      done += size_t(n);
    }
    at += range.length;
  }
  return data;
}

}  // namespace tern::storage
