#include "net/listener.h"

#include <gtest/gtest.h>

#include "net/shard.h"

namespace tern::net {
namespace {

// Two listeners on one port would share it silently through SO_REUSEPORT (the kernel would
// split the clients between them); the second must fail instead.
TEST(Listener, SecondListenerOnABusyPortFails) {
  shard_set shards(1);
  std::optional<result<std::shared_ptr<listener>>> first, second;
  auto handler = [](tcp::socket) -> awaitable<void> { co_return; };
  asio::co_spawn(shards.context(0), [&]() -> awaitable<void> {
    auto at = parse_endpoint("127.0.0.1:0");
    first = co_await listener::start(shards, *at, "first", handler);
    if (*first) {
      auto busy = (**first)->local_endpoint();
      second = co_await listener::start(shards, busy, "second", handler);
      co_await (**first)->close();
    }
    shards.stop();
  }, asio::detached);
  shards.run();
  ASSERT_TRUE(first && *first);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(*second);
  EXPECT_TRUE(second->error() == std::errc::address_in_use) << second->error().message();
}

}  // namespace
}  // namespace tern::net
