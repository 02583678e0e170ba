#include "net/budget.h"

#include <chrono>

namespace tern::net {

awaitable<int64_t> acquire_budget(int64_t& connection_available, int64_t connection_capacity,
                                  global_budget& global, int64_t n) {
  auto start = std::chrono::steady_clock::now();
  auto delay = std::chrono::microseconds(200);
  while (true) {
    bool fits_connection =
        connection_available >= n || connection_available == connection_capacity;
    if (fits_connection && global.try_acquire(n)) {
      connection_available -= n;
      break;
    }
    asio::steady_timer t(co_await asio::this_coro::executor, delay);
    co_await t.async_wait(use_nothrow);
    delay = std::min(delay * 2, std::chrono::microseconds(10'000));
  }
  co_return std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace tern::net
