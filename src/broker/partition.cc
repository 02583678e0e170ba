#include "broker/partition.h"

namespace tern::broker {

void partition::add_waiter(int64_t offset, std::weak_ptr<void> alive, std::function<void()> wake) {
  if (_log->high_watermark() > offset) {
    wake();
    return;
  }
  // Drop waiters whose fetch already finished, so an idle partition's list stays bounded.
  std::erase_if(_waiters, [](const waiter& w) { return w.alive.expired(); });
  _waiters.push_back({offset, std::move(alive), std::move(wake)});
}

void partition::notify_waiters() {
  if (_waiters.empty()) return;
  int64_t hw = _log->high_watermark();
  std::vector<waiter> keep;
  std::vector<std::function<void()>> ready;
  for (auto& w : _waiters) {
    if (w.alive.expired()) continue;
    if (hw > w.offset)
      ready.push_back(std::move(w.wake));
    else
      keep.push_back(std::move(w));
  }
  _waiters = std::move(keep);
  for (auto& f : ready) f();
}

void partition::flush(std::function<void(std::error_code)> done) {
  _log->flush([self = shared_from_this(), done = std::move(done)](std::error_code ec) {
    self->notify_waiters();
    if (done) done(ec);
  });
}

net::awaitable<std::error_code> partition::flush_awaitable() {
  return net::asio::async_initiate<decltype(net::asio::use_awaitable), void(std::error_code)>(
      [self = shared_from_this()](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        self->flush([h](std::error_code ec) { (*h)(ec); });
      },
      net::asio::use_awaitable);
}

}  // namespace tern::broker
