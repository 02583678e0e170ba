// The log's side of compaction: deciding when, planning a pass on the shard, and adopting its
// new segments when the cleaner thread is done. The pass itself is in compaction.cc.

#include <unordered_set>

#include "base/logger.h"
#include "storage/log.h"
#include "storage/log_internal.h"

namespace tern::storage {

std::pair<size_t, size_t> log::compactable_range(int64_t now) const {
  // Closed segments only: the last one is active. Segments wholly below the log start (their
  // deletion deferred by a pass in flight) are not worth rewriting.
  size_t first = 0;
  while (first + 1 < _segments.size() && _segments[first + 1]->base_offset() <= _log_start) ++first;
  size_t last = first;
  for (; last + 1 < _segments.size(); ++last) {
    if (_config.min_compaction_lag_ms <= 0) continue;
    const segment& s = *_segments[last];
    int64_t newest = s.max_timestamp() >= 0 ? s.max_timestamp() : s.created_ms();
    if (newest > now - _config.min_compaction_lag_ms) break;
  }
  return {first, last};
}

double log::dirty_ratio() const {
  auto [first, last] = compactable_range(_now());
  const int64_t clean_end = cleaned_upto();
  uint64_t clean = 0, dirty = 0;
  for (size_t i = first; i < last; ++i) {
    // Segment i stands for [its base, the next base).
    if (_segments[i + 1]->base_offset() <= clean_end)
      clean += _segments[i]->size();
    else
      dirty += _segments[i]->size();
  }
  return clean + dirty == 0 ? 0.0 : double(dirty) / double(clean + dirty);
}

bool log::needs_compaction() const {
  if (!_config.cleanup_compact || _compacting || _closed || _failed) return false;
  auto [first, last] = compactable_range(_now());
  if (first == last) return false;
  if (dirty_ratio() > _config.min_cleanable_dirty_ratio) return true;
  return _tombstone_horizon >= 0 && _now() >= _tombstone_horizon;
}

bool log::compact(flusher& pool, compaction_request request, compaction_done_fn done) {
  if (_closed || _failed || _compacting) return false;
  if (!request.force && !needs_compaction()) return false;
  const int64_t now = _now();
  auto [first, last] = compactable_range(now);
  if (first == last) return false;

  compaction_params p;
  p.dir = _dir;
  for (size_t i = first; i < last; ++i) {
    const segment& s = *_segments[i];
    p.inputs.push_back(
        {s.base_offset(), _segments[i + 1]->base_offset(), s.size(), s.created_ms(), s.log_file()});
  }
  p.first_dirty =
      std::clamp(cleaned_upto(), p.inputs.front().base_offset, p.inputs.back().end_offset);
  p.now_ms = now;
  p.delete_retention_ms = _config.delete_retention_ms;
  p.segment_bytes = _config.segment_bytes;
  p.index_interval_bytes = _config.index_interval_bytes;
  p.max_decompressed_bytes = _config.max_decompressed_bytes;
  p.map_bytes = _config.compaction_map_bytes;
  p.producer_last_offsets = std::move(request.producer_last_offsets);
  p.crash_before_step = std::move(request.crash_before_step);
  p.cancel = _cancel_compaction = std::make_shared<std::atomic<bool>>(false);
  _compacting = true;

  module_logger("storage").debug("log {}: compacting {} segment(s) [{}, {}), dirty from {}",
                                 _dir.string(), p.inputs.size(), p.inputs.front().base_offset,
                                 p.inputs.back().end_offset, p.first_dirty);
  auto out = std::make_shared<compaction_output>();
  _jobs->add();
  auto work = [&fs = _fs, p = std::move(p), out, jobs = _jobs]() -> std::error_code {
    auto r = run_compaction(fs, p, *out);
    jobs->done();
    return r ? std::error_code() : r.error();
  };
  auto finish = [this, alive = std::weak_ptr<int>(_alive), out,
                 done = std::move(done)](std::error_code ec) mutable {
    if (alive.expired()) {
      if (done) done(errc::log_closed);
      return;
    }
    finish_compaction(ec, *out, done);
  };
  pool.submit(std::move(work), _post, std::move(finish));
  return true;
}

void log::finish_compaction(std::error_code ec, compaction_output& out, compaction_done_fn& done) {
  _compacting = false;
  _cancel_compaction.reset();
  auto& logger = module_logger("storage");
  if (_closed) {
    // close() waited for the pass: on disk it finished or was undone; these objects are done.
    if (done) done(errc::log_closed);
    return;
  }
  if (ec) {
    if (out.committed) {
      // The directory is between the old and the new segments: only open() may finish it.
      fail(ec, "compaction swap failed");
    } else if (ec != errc::compaction_canceled) {
      logger.warn("log {}: compaction failed: {}; the log is unchanged", _dir.string(),
                  ec.message());
    }
    delete_segments_below_start();
    if (done) done(ec);
    return;
  }

  // Adopt the new segments. The old objects go away here; fetches holding file ranges of
  // their files keep the files open.
  if (!out.replaced.empty()) {
    const std::unordered_set<int64_t> old(out.replaced.begin(), out.replaced.end());
    std::deque<std::unique_ptr<segment>> next;
    for (auto& s : _segments) {
      if (!old.count(s->base_offset())) {
        next.push_back(std::move(s));
        continue;
      }
      _size_bytes -= s->size();
      if (s->base_offset() == out.replaced.front()) {
        for (auto& n : out.segments) {
          _size_bytes += n->size();
          next.push_back(std::move(n));
        }
      }
    }
    _segments = std::move(next);
  }
  _cleaned_upto = std::max(_cleaned_upto, out.cleaned_upto);
  _tombstone_horizon = out.next_horizon;
  _last_compaction = out.stats;
  const compaction_stats& st = out.stats;
  logger.info(
      "log {}: compacted {} segment(s), {} -> {} bytes, {} records removed ({} tombstones), "
      "{} segment(s) replaced, compacted up to offset {}",
      _dir.string(), st.segments_in, st.bytes_in, st.bytes_out, st.records_removed,
      st.tombstones_removed, st.segments_out, st.cleaned_upto);
  delete_segments_below_start();
  if (done) done(st);
}

}  // namespace tern::storage
