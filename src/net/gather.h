#pragma once
// Runs several awaitables concurrently on the caller's shard and waits for all of them.
//
// Each task is started in order on the caller's io_context. Tasks that hop to
// another shard (shard_set::invoke_on) therefore post their work there in task order, and
// because each io_context runs posted work first-in first-out, two requests read from one
// connection reach a partition's shard in the order they were read. The Kafka produce path
// relies on this to keep batches from one connection in order.

#include <memory>
#include <optional>
#include <vector>

#include "net/asio.h"

namespace tern::net {

template <class T>
awaitable<std::vector<T>> gather(std::vector<awaitable<T>> tasks) {
  struct state {
    explicit state(asio::any_io_executor ex, size_t n) : done(ex), results(n), pending(n) {}
    asio::steady_timer done;
    std::vector<std::optional<T>> results;
    size_t pending;
  };
  auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<state>(ex, tasks.size());
  st->done.expires_at(asio::steady_timer::time_point::max());
  for (size_t i = 0; i < tasks.size(); ++i) {
    asio::co_spawn(ex, std::move(tasks[i]),
                   asio::bind_executor(ex, [st, i](std::exception_ptr e, T value) {
                     if (e) std::rethrow_exception(e);  // a bug in a task: do not hide it
                     st->results[i] = std::move(value);
                     if (--st->pending == 0) st->done.cancel();
                   }));
  }
  if (st->pending > 0) co_await st->done.async_wait(use_nothrow);
  std::vector<T> out;
  out.reserve(st->results.size());
  for (auto& r : st->results) out.push_back(std::move(*r));
  co_return out;
}

}  // namespace tern::net
