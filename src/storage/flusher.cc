#include "storage/flusher.h"

namespace tern::storage {

flusher::flusher(size_t threads) {
  _threads.reserve(threads);
  for (size_t i = 0; i < threads; ++i) _threads.emplace_back([this] { run(); });
}

flusher::~flusher() {
  {
    std::lock_guard lock(_mutex);
    _stopping = true;
  }
  _cv.notify_all();
  for (auto& t : _threads) t.join();
}

void flusher::submit(std::function<std::error_code()> work, poster post,
                     std::function<void(std::error_code)> done) {
  submit([work = std::move(work), post = std::move(post), done = std::move(done)]() mutable {
    std::error_code ec = work();
    post([done = std::move(done), ec] { done(ec); });
  });
}

void flusher::submit(std::function<void()> work) {
  if (_threads.empty()) {
    work();
    return;
  }
  {
    std::lock_guard lock(_mutex);
    _queue.push_back(std::move(work));
  }
  _cv.notify_one();
}

void flusher::run() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lock(_mutex);
      _cv.wait(lock, [this] { return _stopping || !_queue.empty(); });
      if (_queue.empty()) return;  // stopping, and everything queued has run
      job = std::move(_queue.front());
      _queue.pop_front();
      ++_running;
    }
    job();
    {
      std::lock_guard lock(_mutex);
      --_running;
    }
    _idle_cv.notify_all();
  }
}

void flusher::wait_idle() {
  std::unique_lock lock(_mutex);
  _idle_cv.wait(lock, [this] { return _queue.empty() && _running == 0; });
}

}  // namespace tern::storage
