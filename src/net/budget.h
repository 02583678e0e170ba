#pragma once
// Memory budgets for in-flight request bytes (back pressure, shared/DESIGN.md "Runtime").
// A connection acquires the size of each request from its own budget and from the broker-wide
// one before reading the request's body, and releases it once the response has been written.
// When either is exhausted the connection stops reading from its socket until bytes are
// released, so a fast producer is slowed down by TCP instead of growing the broker's memory.

#include <atomic>
#include <cstdint>

#include "net/asio.h"

namespace tern::net {

// Broker-wide budget, shared by every shard; lock-free.
class global_budget {
 public:
  explicit global_budget(int64_t bytes) : _available(bytes), _capacity(bytes) {}
  bool try_acquire(int64_t n) {
    int64_t cur = _available.load(std::memory_order_relaxed);
    while (true) {
      // A single request larger than the whole budget is let through alone (when nothing else
      // is in flight) so it cannot wait forever.
      if (cur < n && !(cur == _capacity)) return false;
      if (_available.compare_exchange_weak(cur, cur - n, std::memory_order_acq_rel)) return true;
    }
  }
  void release(int64_t n) { _available.fetch_add(n, std::memory_order_acq_rel); }
  int64_t available() const { return _available.load(std::memory_order_relaxed); }
  int64_t capacity() const { return _capacity; }

 private:
  std::atomic<int64_t> _available;
  const int64_t _capacity;
};

// Waits (polling with a short back-off; contention here means the broker is saturated) until
// `n` bytes fit both in the connection's budget and the global one, then takes them.
// Returns how long it waited, in milliseconds, for throttle_time_ms-style reporting.
awaitable<int64_t> acquire_budget(int64_t& connection_available, int64_t connection_capacity,
                                  global_budget& global, int64_t n);

}  // namespace tern::net
