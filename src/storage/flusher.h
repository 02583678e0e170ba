#pragma once
// The flusher: a small pool of threads that run the blocking parts of durability (fdatasync,
// checkpoint writes, unlinking deleted segments) so that no shard's event loop ever waits on
// the disk (shared/DESIGN.md, "Runtime"). Group commit itself is per log (log.h); the flusher
// only runs jobs and hands their outcome back to the shard that asked.
//
// Lifetime: one per broker, created before and destroyed after every log. The destructor
// finishes the jobs already queued, then joins.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace tern::storage {

// Schedules a callback on the thread of the shard that owns a log. It must not run the
// callback inline: a log calls it while in the middle of its own bookkeeping. Unit tests pass
// one that queues into a vector they drain.
using poster = std::function<void(std::function<void()>)>;

class flusher {
 public:
  // `threads` workers; 0 runs every job inline in submit() (deterministic tests). The
  // completion still goes through the poster.
  explicit flusher(size_t threads = 1);
  ~flusher();
  flusher(const flusher&) = delete;
  flusher& operator=(const flusher&) = delete;

  // Runs `work` on a worker thread, then `post(done(ec))` with its result. `work` must only
  // touch what it captured (files, paths), never the log that submitted it.
  void submit(std::function<std::error_code()> work, poster post,
              std::function<void(std::error_code)> done);

  // Runs `work` on a worker thread with no completion (background file removal).
  void submit(std::function<void()> work);

  // Blocks until every job submitted so far has run (their completions have been posted).
  // For shutdown: after it, no job can post into an event loop that is about to go away.
  void wait_idle();

 private:
  void run();

  std::mutex _mutex;
  std::condition_variable _cv;
  std::condition_variable _idle_cv;
  size_t _running = 0;  // jobs taken off the queue and not finished
  std::deque<std::function<void()>> _queue;
  bool _stopping = false;
  std::vector<std::thread> _threads;
};

}  // namespace tern::storage
