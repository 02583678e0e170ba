#include "storage/flusher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/tests/test_util.h"

namespace tern::storage {
namespace {

TEST(Flusher, WorkRunsOffThreadAndDoneRunsThroughPoster) {
  test::queue_poster q;
  flusher fl(2);
  const std::thread::id test_thread = std::this_thread::get_id();
  std::thread::id worker, completion;
  std::error_code got;
  bool done = false;
  fl.submit(
      [&] {
        worker = std::this_thread::get_id();
        return std::make_error_code(std::errc::io_error);
      },
      q.get(),
      [&](std::error_code ec) {
        completion = std::this_thread::get_id();
        got = ec;
        done = true;
      });
  ASSERT_TRUE(q.run_until([&] { return done; }));
  EXPECT_NE(worker, test_thread);
  EXPECT_EQ(completion, test_thread);  // queue_poster runs callbacks on the draining thread
  EXPECT_EQ(got, std::errc::io_error);
}

TEST(Flusher, ZeroThreadsRunsInlineButStillPosts) {
  test::queue_poster q;
  flusher fl(0);
  bool ran = false, done = false;
  fl.submit(
      [&] {
        ran = true;
        return std::error_code();
      },
      q.get(), [&](std::error_code) { done = true; });
  EXPECT_TRUE(ran);
  EXPECT_FALSE(done);  // the completion waits for the "shard" to run it
  EXPECT_EQ(q.drain(), 1u);
  EXPECT_TRUE(done);
}

TEST(Flusher, DestructorFinishesQueuedJobs) {
  std::atomic<int> ran{0};
  {
    flusher fl(1);
    for (int i = 0; i < 100; ++i) fl.submit([&] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 100);
}

}  // namespace
}  // namespace tern::storage
