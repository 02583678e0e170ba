// Opening a log (with recovery after a crash), closing it, removing it. The rules are in
// docs/formats/log-segments.md, "Recovery".

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "base/logger.h"
#include "storage/checkpoint.h"
#include "storage/log.h"
#include "storage/log_internal.h"

namespace tern::storage {
namespace fs = std::filesystem;

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

result<std::unique_ptr<log>> log::open(file_system& fs, flusher& fl, poster post, fs::path dir,
                                       log_config config, clock_fn now) {
  if (auto r = fs.create_directories(dir); !r) return to_storage_error(r.error());
  std::unique_ptr<log> l(new log(fs, fl, std::move(post), std::move(dir), config, now));
  auto r = l->recover();
  if (!r) {
    module_logger("storage").error("log {}: cannot open: {}", l->_dir.string(),
                                   r.error().message());
    l->_closed = true;  // nothing to flush or mark on the way out
    return to_storage_error(r.error());
  }
  return l;
}

result<void> log::recover() {
  auto& logger = module_logger("storage");
  // First finish or roll back a compaction's swap: it decides which segment files exist.
  TERN_TRY(recover_compaction(_fs, _dir));
  auto names = _fs.list_dir(_dir);
  if (!names) return names.error();
  std::vector<int64_t> bases;
  for (auto& n : *names)
    if (auto b = parse_segment_name(n, ".log")) bases.push_back(*b);
  std::sort(bases.begin(), bases.end());
  const std::set<int64_t> base_set(bases.begin(), bases.end());
  for (auto& n : *names) {
    // Leftovers: a checkpoint write cut short, indexes whose segment is gone.
    auto idx = parse_segment_name(n, ".index");
    auto tidx = parse_segment_name(n, ".timeindex");
    bool orphan = (idx && !base_set.count(*idx)) || (tidx && !base_set.count(*tidx));
    if (ends_with(n, ".tmp") || orphan) TERN_TRY(_fs.remove(_dir / n));
  }

  auto clean = _fs.exists(_dir / kCleanShutdownFile);
  if (!clean) return clean.error();
  auto rp = read_checkpoint(_fs, _dir / kRecoveryPointFile);
  if (!rp) return rp.error();
  auto start = read_checkpoint(_fs, _dir / kLogStartFile);
  if (!start) return start.error();
  auto cleaned = read_checkpoint(_fs, _dir / kCleanerCheckpointFile);
  if (!cleaned) return cleaned.error();
  _cleaned_upto = cleaned->value_or(-1);
  _report.clean_shutdown = *clean;
  _recovery_point = rp->value_or(-1);
  if (*clean) {
    // From here on a crash must look unclean: the removal has to be durable before any
    // append.
    TERN_TRY(_fs.remove(_dir / kCleanShutdownFile));
    TERN_TRY(_fs.fsync_dir(_dir));
  }

  const int64_t now = _now();
  std::vector<int64_t> rebuilt;  // segments whose index files on disk are stale
  int64_t min_offset = 0;
  for (size_t i = 0; i < bases.size(); ++i) {
    const int64_t base = bases[i];
    auto drop_from = [&](size_t first, const std::string& why) -> result<void> {
      logger.warn("log {}: {}; removing {} later segment(s) from {}", _dir.string(), why,
                  bases.size() - first, bases[first]);
      for (size_t j = first; j < bases.size(); ++j)
        TERN_TRY(segment::remove_files(_fs, _dir, bases[j]));
      _report.segments_dropped += bases.size() - first;
      return ok();
    };
    if (base < min_offset) {
      TERN_TRY(drop_from(
          i, fmt::format("segment {} overlaps the previous one (ends at {})", base, min_offset)));
      break;
    }
    // A segment wholly below the recovery point was fdatasync'ed with its indexes.
    const bool trust = *clean || (i + 1 < bases.size() && bases[i + 1] <= _recovery_point);
    auto loaded =
        segment::load(_fs, _dir, base, min_offset, trust, _config.index_interval_bytes, now);
    if (!loaded) return loaded.error();
    auto& [seg, outcome] = *loaded;
    if (!trust) ++_report.segments_checked;
    if (outcome.index_rebuilt) {
      ++_report.indexes_rebuilt;
      rebuilt.push_back(base);
    }
    min_offset = seg->next_offset();
    _size_bytes += seg->size();
    _segments.push_back(std::move(seg));
    if (outcome.dropped_bytes > 0) {
      _report.bytes_truncated += outcome.dropped_bytes;
      logger.warn("log {}: segment {}: {}; truncated {} bytes, log now ends at offset {}",
                  _dir.string(), base, outcome.problem, outcome.dropped_bytes, min_offset);
      if (i + 1 < bases.size()) {
        TERN_TRY(drop_from(i + 1, "offsets must stay contiguous after a truncated segment"));
        break;
      }
    }
  }

  if (_segments.empty()) {
    // A new log, or one whose segments were all lost: offsets never go back below the start.
    auto seg = segment::create(_fs, _dir, std::max<int64_t>(start->value_or(0), 0), now);
    if (!seg) return seg.error();
    _segments.push_back(std::move(*seg));
    _dir_dirty = true;
  }
  _log_start = std::max(start->value_or(0), _segments.front()->base_offset());
  if (_log_start > log_end_offset()) {
    logger.warn("log {}: log start offset {} is past the recovered end {}; lowering it",
                _dir.string(), _log_start, log_end_offset());
    _log_start = log_end_offset();
  }
  // A truncation may have cut below what was compacted.
  if (_cleaned_upto > log_end_offset()) _cleaned_upto = -1;
  // Segments below the log start whose deletion a crash interrupted (a segment stands for
  // the offsets up to the next one's base: compaction may leave gaps).
  while (_segments.size() > 1 && _segments[1]->base_offset() <= _log_start) {
    TERN_TRY(segment::remove_files(_fs, _dir, _segments.front()->base_offset()));
    _size_bytes -= _segments.front()->size();
    _segments.pop_front();
  }
  // Immutable segments keep their index files: rewrite the ones rebuilt. The active one's are
  // written when it rolls or the log closes.
  for (auto& s : _segments)
    if (s.get() != &active() && std::count(rebuilt.begin(), rebuilt.end(), s->base_offset()))
      TERN_TRY(s->write_indexes(_fs, _dir));
  // What recovery checked may be in the page cache only: make it durable before anyone
  // treats it as such.
  TERN_TRY(sync_now());
  if (!*clean && !bases.empty())
    logger.info(
        "log {}: recovered after unclean shutdown: {} segment(s) checked, {} bytes "
        "truncated, offsets [{}, {})",
        _dir.string(), _report.segments_checked, _report.bytes_truncated, _log_start,
        log_end_offset());
  return ok();
}

result<void> log::sync_now() {
  sync_plan plan = plan_sync(_segments);
  std::error_code ec = run_syncs(_fs, _dir, plan.files, std::exchange(_dir_dirty, false));
  if (ec) return ec;
  mark_synced(_segments, plan.synced);
  const int64_t rp = active().base_offset();
  if (rp != _recovery_point) {
    TERN_TRY(write_checkpoint(_fs, _dir / kRecoveryPointFile, rp));
    _recovery_point = rp;
  }
  _durable_end = log_end_offset();
  return ok();
}

result<void> log::close() {
  if (_closed) return ok();
  _closed = true;
  if (_cancel_compaction) _cancel_compaction->store(true);
  _jobs->wait_idle();
  // A sync that failed while we waited: its completion will not be processed any more.
  if (auto e = _jobs->error(); e) fail(e, "fdatasync failed");
  std::error_code ec = _failed;
  if (!ec) {
    auto r = [&]() -> result<void> {
      TERN_TRY(active().write_indexes(_fs, _dir));
      TERN_TRY(sync_now());
      auto marker = _fs.open(_dir / kCleanShutdownFile, open_mode::create_truncate);
      if (!marker) return marker.error();
      return _fs.fsync_dir(_dir);
    }();
    if (!r) {
      module_logger("storage").error("log {}: close failed: {}", _dir.string(),
                                     r.error().message());
      ec = to_storage_error(r.error());
    }
  }
  for (auto* list : {&_waiting, &_next})
    for (auto& done : std::exchange(*list, {})) _post([done = std::move(done), ec] { done(ec); });
  return ec;
}

result<void> log::remove(file_system& fs, const fs::path& dir) {
  auto names = fs.list_dir(dir);
  if (!names) {
    if (names.error() == std::errc::no_such_file_or_directory) return ok();
    return to_storage_error(names.error());
  }
  for (auto& n : *names)
    if (auto r = fs.remove(dir / n); !r) return to_storage_error(r.error());
  if (auto r = fs.remove(dir); !r) return to_storage_error(r.error());
  return ok();
}

}  // namespace tern::storage
