#pragma once
// Thread-per-core shards (shared/DESIGN.md, "Runtime").
//
// A shard is one thread running one io_context. Every partition and queue belongs to exactly
// one shard and only that shard's thread touches it, so the data path takes no locks. Work on
// another shard's object is a message to that shard, awaited as a coroutine:
//
//   int64_t end = co_await shards.invoke_on(owner, [&]() -> int64_t { return log.end(); });
//
// The caller is resumed on its own shard. References captured by the function stay valid
// because the caller is suspended until the function has finished on the other shard.
//
// Lifecycle: construct (no threads yet) -> start() spawns threads for shards 1..n-1 ->
// run() runs shard 0 in the calling thread until stop() -> join().

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#include "base/check.h"
#include "net/asio.h"

namespace tern::net {

class shard_set {
 public:
  explicit shard_set(unsigned count);
  ~shard_set();
  shard_set(const shard_set&) = delete;
  shard_set& operator=(const shard_set&) = delete;

  unsigned count() const { return unsigned(_contexts.size()); }
  asio::io_context& context(unsigned shard) { return *_contexts[shard]; }
  asio::any_io_executor executor(unsigned shard) { return _contexts[shard]->get_executor(); }

  // The shard whose thread is calling; TERN_CHECKs that it is a shard thread.
  static unsigned current();
  static bool on_shard_thread();

  void start();  // threads for shards 1..n-1
  void run();    // shard 0 in the calling thread; returns after stop()
  void stop();   // asks every shard's loop to return
  void join();

  // Runs `fn` on `shard` and resumes the caller on its own shard with the result. `fn` may
  // return a value, void, or an awaitable (which then runs to completion on `shard`).
  template <class F>
  auto invoke_on(unsigned shard, F fn) {
    // `fn` is moved into the frame of a coroutine created here, so it lives until the work
    // is done. Handing the callable itself to co_spawn(..., use_awaitable) is not safe: that
    // awaitable starts lazily, after this function's temporaries are gone.
    return asio::co_spawn(executor(shard), call(std::move(fn)), asio::use_awaitable);
  }

  // Posts `fn` to run on `shard` without waiting for it.
  template <class F>
  void post_to(unsigned shard, F fn) {
    asio::post(context(shard), std::move(fn));
  }

 private:
  template <class T>
  struct is_awaitable : std::false_type {};
  template <class T, class E>
  struct is_awaitable<awaitable<T, E>> : std::true_type {};
  template <class T>
  struct value_of {
    using type = T;
  };
  template <class T, class E>
  struct value_of<awaitable<T, E>> {
    using type = T;
  };

  // A coroutine owning `fn` in its frame; runs it (awaiting it if it is a coroutine).
  template <class F, class R = typename value_of<std::invoke_result_t<F&>>::type>
  static awaitable<R> call(F fn) {
    if constexpr (is_awaitable<std::invoke_result_t<F&>>::value) {
      co_return co_await fn();
    } else if constexpr (std::is_void_v<R>) {
      fn();
      co_return;
    } else {
      co_return fn();
    }
  }

  std::vector<std::unique_ptr<asio::io_context>> _contexts;
  std::vector<std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>>> _work;
  std::vector<std::thread> _threads;
};

}  // namespace tern::net
