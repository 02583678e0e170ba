#pragma once
// Pieces shared by log.cc (running log) and log_open.cc (open, recovery, close). Not part of
// the module's interface.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/log.h"

namespace tern::storage {

inline constexpr std::string_view kRecoveryPointFile = "recovery-point.checkpoint";
inline constexpr std::string_view kLogStartFile = "log-start-offset.checkpoint";
inline constexpr std::string_view kCleanShutdownFile = "clean-shutdown";

// Counts a log's jobs queued in or running on the flusher, so that close() and the destructor
// can wait until no flusher thread still works on the log's directory.
struct log::job_tracker {
  std::mutex mutex;
  std::condition_variable idle;
  int running = 0;
  std::error_code first_error;  // of a sync whose completion a closing log will not see

  void record_error(std::error_code ec) {
    std::lock_guard lock(mutex);
    if (!first_error) first_error = ec;
  }
  std::error_code error() {
    std::lock_guard lock(mutex);
    return first_error;
  }

  void add() {
    std::lock_guard lock(mutex);
    ++running;
  }
  void done() {
    std::lock_guard lock(mutex);
    if (--running == 0) idle.notify_all();
  }
  void wait_idle() {
    std::unique_lock lock(mutex);
    idle.wait(lock, [this] { return running == 0; });
  }
};

// The files one sync must fdatasync, and the segment sizes it makes durable (by base offset:
// a segment may be deleted before the sync completes).
struct sync_plan {
  std::vector<std::shared_ptr<file>> files;
  std::vector<std::pair<int64_t, uint64_t>> synced;
};

inline sync_plan plan_sync(std::deque<std::unique_ptr<segment>>& segments) {
  sync_plan plan;
  for (auto& s : segments) {
    if (s->size() > s->synced_size()) {
      plan.files.push_back(s->log_file());
      plan.synced.emplace_back(s->base_offset(), s->size());
    }
    for (auto& f : s->take_unsynced_index_files()) plan.files.push_back(std::move(f));
  }
  return plan;
}

inline void mark_synced(std::deque<std::unique_ptr<segment>>& segments,
                        const std::vector<std::pair<int64_t, uint64_t>>& synced) {
  for (auto& [base, size] : synced)
    for (auto& s : segments)
      if (s->base_offset() == base) s->set_synced_size(size);
}

// fdatasyncs `files`, then the directory when asked; the first error wins.
inline std::error_code run_syncs(file_system& fs, const std::filesystem::path& dir,
                                 const std::vector<std::shared_ptr<file>>& files, bool sync_dir) {
  for (auto& f : files)
    if (auto r = f->fdatasync(); !r) return r.error();
  if (sync_dir)
    if (auto r = fs.fsync_dir(dir); !r) return r.error();
  return {};
}

}  // namespace tern::storage
