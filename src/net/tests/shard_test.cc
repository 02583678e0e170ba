#include <gtest/gtest.h>

#include <thread>

#include "net/budget.h"
#include "net/listener.h"
#include "net/shard.h"
#include "net/socket_writer.h"

using namespace tern::net;

TEST(ShardSet, InvokeOnRunsOnTargetAndResumesOnCaller) {
  shard_set shards(3);
  shards.start();
  std::vector<unsigned> seen;
  bool done = false;
  asio::co_spawn(shards.context(0), [&]() -> awaitable<void> {
    for (unsigned s = 0; s < 3; ++s) {
      unsigned ran_on = co_await shards.invoke_on(s, [] { return shard_set::current(); });
      seen.push_back(ran_on);
      EXPECT_EQ(shard_set::current(), 0u);
    }
    co_await shards.invoke_on(2, []() -> awaitable<void> { co_return; });
    done = true;
    shards.stop();
  }, asio::detached);
  shards.run();
  shards.join();
  EXPECT_TRUE(done);
  EXPECT_EQ(seen, (std::vector<unsigned>{0, 1, 2}));
}

TEST(GlobalBudget, LargerThanCapacityPassesAloneOnly) {
  global_budget b(100);
  EXPECT_TRUE(b.try_acquire(60));
  EXPECT_FALSE(b.try_acquire(50));
  b.release(60);
  EXPECT_TRUE(b.try_acquire(500));  // alone: let through
  EXPECT_FALSE(b.try_acquire(1));
  b.release(500);
  EXPECT_EQ(b.available(), 100);
}

TEST(ParseEndpoint, HostPortForms) {
  auto a = parse_endpoint("127.0.0.1:9092");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port(), 9092);
  EXPECT_FALSE(parse_endpoint("127.0.0.1"));
  EXPECT_FALSE(parse_endpoint("127.0.0.1:"));
  auto v6 = parse_endpoint("[::1]:1");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->address().is_v6());
}

TEST(Listener, AcceptsOnEveryShardWithPortZeroAndWritesFileRanges) {
  shard_set shards(2);
  shards.start();
  char path[] = "/tmp/tern-net-test-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "0123456789", 10), 10);
  std::string received;
  asio::co_spawn(shards.context(0), [&]() -> awaitable<void> {
    auto l = co_await listener::start(
        shards, *parse_endpoint("127.0.0.1:0"), "test", [&](tcp::socket s) -> awaitable<void> {
          tern::bytes::chunked_buffer out;
          out.append_bytes(tern::bytes::as_bytes("<"));
          out.append_file({nullptr, fd, 2, 5});
          out.append_bytes(tern::bytes::as_bytes(">"));
          co_await write_chunks(s, out);
        });
    EXPECT_TRUE(l);
    tcp::socket c(co_await asio::this_coro::executor);
    co_await c.async_connect((*l)->local_endpoint(), use_nothrow);
    char buf[16];
    auto [ec, n] = co_await asio::async_read(c, asio::buffer(buf, 7), use_nothrow);
    received.assign(buf, n);
    co_await (*l)->close();
    shards.stop();
  }, asio::detached);
  shards.run();
  shards.join();
  ::close(fd);
  ::unlink(path);
  EXPECT_EQ(received, "<23456>");
}
