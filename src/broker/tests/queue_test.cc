// The queue over its log and journal: publish, deliver, settle, and what a restart keeps.
#include "broker/queue.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "broker/queue_journal.h"

namespace tern::broker {
namespace {

int64_t fake_now = 1'000'000;
int64_t test_clock() { return fake_now; }

// Records deliveries; credit is a plain counter (-1 = unlimited).
struct recording_sink : consumer_sink {
  int64_t credit = -1;
  std::vector<delivered_message> got;
  bool was_cancelled = false;
  bool try_acquire() override {
    if (credit == 0) return false;
    if (credit > 0) --credit;
    return true;
  }
  void deliver(delivered_message m) override { got.push_back(std::move(m)); }
  void cancelled() override { was_cancelled = true; }
};

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tmpl = (std::filesystem::temp_directory_path() / "tern-queue-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
    fake_now = 1'000'000;
  }
  void TearDown() override {
    if (q) (void)q->close(false);
    q.reset();
    io.poll();
    std::filesystem::remove_all(dir);
  }

  queue_env env() {
    queue_env e;
    e.fs = &fs;
    e.flusher = &fl;
    e.post = [this](std::function<void()> fn) { net::asio::post(io, std::move(fn)); };
    e.executor = io.get_executor();
    e.now = test_clock;
    return e;
  }

  void open(queue_settings s = {}) {
    auto r = queue::open(env(), "q", dir / "q", s);
    ASSERT_TRUE(r) << r.error().message();
    q = *r;
  }
  void reopen(queue_settings s = {}) {
    ASSERT_TRUE(q->close(false));
    q.reset();
    io.poll();
    io.restart();
    open(s);
  }

  queue::publish_status publish(std::string body, bool persistent = true, uint8_t prio = 0,
                                int64_t ttl = -1) {
    auto m = std::make_shared<queue_message>();
    m->exchange = "ex";
    m->routing_key = "rk";
    m->properties = {1, 2, 3};
    m->body.assign(body.begin(), body.end());
    m->persistent = persistent;
    m->priority = prio;
    m->ttl_ms = ttl;
    m->timestamp_ms = fake_now;
    std::optional<queue::publish_status> status;
    q->publish(m, [&](queue::publish_status s) { status = s; });
    for (int i = 0; i < 1000 && !status; ++i) {
      io.poll();
      io.restart();
    }
    EXPECT_TRUE(status.has_value());
    return status.value_or(queue::publish_status::failed);
  }

  static std::string body_of(const delivered_message& d) {
    return std::string(d.message->body.begin(), d.message->body.end());
  }

  std::filesystem::path dir;
  net::asio::io_context io;
  storage::posix_file_system fs;
  storage::flusher fl{0};
  std::shared_ptr<queue> q;
};

TEST_F(QueueTest, PublishThenConsumeKeepsEverything) {
  open();
  EXPECT_EQ(publish("a"), queue::publish_status::ok);
  EXPECT_EQ(publish("b"), queue::publish_status::ok);
  auto sink = std::make_shared<recording_sink>();
  ASSERT_TRUE(q->add_consumer(1, 10, sink, false, false));
  ASSERT_EQ(sink->got.size(), 2u);
  EXPECT_EQ(body_of(sink->got[0]), "a");
  EXPECT_EQ(sink->got[0].message->exchange, "ex");
  EXPECT_EQ(sink->got[0].message->routing_key, "rk");
  EXPECT_EQ(sink->got[0].message->properties, (bytes::buffer{1, 2, 3}));
  EXPECT_FALSE(sink->got[0].redelivered);
  EXPECT_EQ(q->stats().unacked, 2u);
}

TEST_F(QueueTest, PrefetchCreditLimitsDeliveries) {
  open();
  for (int i = 0; i < 5; ++i) publish(std::to_string(i));
  auto sink = std::make_shared<recording_sink>();
  sink->credit = 2;
  q->add_consumer(1, 10, sink, false, false);
  EXPECT_EQ(sink->got.size(), 2u);
  int64_t acked[] = {sink->got[0].offset};
  q->ack(10, acked);
  sink->credit = 1;
  q->dispatch();
  EXPECT_EQ(sink->got.size(), 3u);
  EXPECT_EQ(body_of(sink->got[2]), "2");
}

TEST_F(QueueTest, RestartRedeliversExactlyTheUnacked) {
  open();
  for (int i = 0; i < 6; ++i) publish("m" + std::to_string(i));
  auto sink = std::make_shared<recording_sink>();
  q->add_consumer(1, 10, sink, false, false);
  ASSERT_EQ(sink->got.size(), 6u);
  std::vector<int64_t> acked = {sink->got[0].offset, sink->got[2].offset, sink->got[5].offset};
  q->ack(10, acked);
  io.poll();  // the journal is written at the end of the loop's turn
  io.restart();
  reopen();
  EXPECT_EQ(q->stats().ready, 3u);
  auto again = std::make_shared<recording_sink>();
  q->add_consumer(2, 20, again, false, false);
  ASSERT_EQ(again->got.size(), 3u);
  EXPECT_EQ(body_of(again->got[0]), "m1");
  EXPECT_EQ(body_of(again->got[1]), "m3");
  EXPECT_EQ(body_of(again->got[2]), "m4");
  EXPECT_TRUE(again->got[0].redelivered) << "delivered before the restart";
}

TEST_F(QueueTest, AcksJournaledInTheSameTurnSurviveAnUncleanStop) {
  open();
  for (int i = 0; i < 3; ++i) publish(std::to_string(i));
  auto sink = std::make_shared<recording_sink>();
  q->add_consumer(1, 10, sink, false, false);
  int64_t first[] = {sink->got[0].offset};
  q->ack(10, first);
  io.poll();
  io.restart();
  // No close(): the logs are dropped as after a crash of the process.
  q.reset();
  io.poll();
  io.restart();
  open();
  EXPECT_EQ(q->stats().ready, 2u);
}

TEST_F(QueueTest, TransientMessagesDoNotSurviveARestart) {
  open();
  publish("durable", true);
  publish("transient", false);
  reopen();
  auto sink = std::make_shared<recording_sink>();
  q->add_consumer(1, 10, sink, false, false);
  ASSERT_EQ(sink->got.size(), 1u);
  EXPECT_EQ(body_of(sink->got[0]), "durable");
}

TEST_F(QueueTest, NonDurableQueueStartsEmpty) {
  queue_settings s;
  s.durable = false;
  open(s);
  publish("x", true);
  reopen(s);
  EXPECT_EQ(q->stats().ready, 0u);
}

TEST_F(QueueTest, NackRequeueCountsReturnsAcrossRestart) {
  queue_settings s;
  s.limits.delivery_limit = 1;
  s.dead_letter_exchange = "dlx";
  open(s);
  std::vector<std::pair<std::string, removal_reason>> dead;
  q->set_dead_letter_hook([&](const queue&, message_ptr m, removal_reason why) {
    dead.emplace_back(std::string(m->body.begin(), m->body.end()), why);
  });
  publish("poison");
  auto sink = std::make_shared<recording_sink>();
  q->add_consumer(1, 10, sink, false, false);
  ASSERT_EQ(sink->got.size(), 1u);
  int64_t o[] = {sink->got[0].offset};
  q->nack(10, o, true);  // first return: allowed
  ASSERT_EQ(sink->got.size(), 2u);
  EXPECT_EQ(sink->got[1].delivery_count, 1u);
  io.poll();
  io.restart();
  reopen(s);
  q->set_dead_letter_hook([&](const queue&, message_ptr m, removal_reason why) {
    dead.emplace_back(std::string(m->body.begin(), m->body.end()), why);
  });
  auto again = std::make_shared<recording_sink>();
  q->add_consumer(2, 20, again, false, false);
  ASSERT_EQ(again->got.size(), 1u);
  EXPECT_EQ(again->got[0].delivery_count, 1u);
  int64_t o2[] = {again->got[0].offset};
  q->nack(20, o2, true);  // second return: past the limit
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].first, "poison");
  EXPECT_EQ(dead[0].second, removal_reason::delivery_limit);
  EXPECT_EQ(q->stats().ready, 0u);
}

TEST_F(QueueTest, RejectPublishOverflowRefusesWithoutWriting) {
  queue_settings s;
  s.limits.max_length = 1;
  s.limits.overflow = overflow_policy::reject_publish;
  open(s);
  EXPECT_EQ(publish("a"), queue::publish_status::ok);
  EXPECT_EQ(publish("b"), queue::publish_status::rejected);
  EXPECT_EQ(q->stats().ready, 1u);
}

TEST_F(QueueTest, MessageTtlExpiresAndDeadLetters) {
  queue_settings s;
  s.message_ttl_ms = 100;
  s.dead_letter_exchange = "";
  open(s);
  std::vector<removal_reason> dead;
  q->set_dead_letter_hook([&](const queue&, message_ptr, removal_reason why) {
    dead.push_back(why);
  });
  publish("old");
  publish("young", true, 0, 10);  // per-message TTL shorter than the queue's
  fake_now += 50;
  q->housekeeping();
  ASSERT_EQ(dead.size(), 0u) << "the head (old) has not expired, so young waits behind it";
  fake_now += 100;
  q->housekeeping();
  EXPECT_EQ(dead.size(), 2u);
  EXPECT_EQ(q->stats().ready, 0u);
}

TEST_F(QueueTest, TtlMessageWithoutConsumersExpiresOnItsTimer) {
  // No consumer and no housekeeping: the publish itself must arm the expiry timer, so the
  // message is dead-lettered when it expires rather than at the next housekeeping pass.
  queue_settings s;
  s.dead_letter_exchange = "";
  open(s);
  std::vector<removal_reason> dead;
  q->set_dead_letter_hook([&](const queue&, message_ptr, removal_reason why) {
    dead.push_back(why);
  });
  publish("short-lived", true, 0, 20);
  ASSERT_EQ(q->stats().ready, 1u);
  fake_now += 50;  // the timer waits ~21 ms of real time, then expires by the (fake) clock
  io.restart();
  io.run_for(std::chrono::milliseconds(300));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0], removal_reason::expired);
  EXPECT_EQ(q->stats().ready, 0u);
}

TEST_F(QueueTest, GetAndReleaseReturnMessages) {
  open();
  publish("a");
  publish("b");
  auto g = q->get(7, false);
  ASSERT_TRUE(g.message);
  EXPECT_EQ(body_of(*g.message), "a");
  EXPECT_EQ(g.remaining, 1u);
  q->release(7);
  auto again = q->get(8, true);
  ASSERT_TRUE(again.message);
  EXPECT_EQ(body_of(*again.message), "a");
  EXPECT_TRUE(again.message->redelivered);
}

TEST_F(QueueTest, ExclusiveConsumerKeepsOthersOut) {
  open();
  auto a = std::make_shared<recording_sink>();
  auto b = std::make_shared<recording_sink>();
  EXPECT_TRUE(q->add_consumer(1, 10, a, false, true));
  EXPECT_FALSE(q->add_consumer(2, 20, b, false, false));
  q->cancel_consumer(1);
  EXPECT_TRUE(q->add_consumer(2, 20, b, false, false));
}

TEST_F(QueueTest, DeleteCancelsConsumersAndRemovesFiles) {
  open();
  auto a = std::make_shared<recording_sink>();
  q->add_consumer(1, 10, a, false, false);
  ASSERT_TRUE(q->close(true));
  EXPECT_TRUE(a->was_cancelled);
  EXPECT_FALSE(std::filesystem::exists(dir / "q"));
}

TEST_F(QueueTest, JournalSnapshotRoundTrip) {
  offset_ranges removed;
  removed.add_range(10, 20);
  removed.add(25);
  std::unordered_map<int64_t, uint32_t> counts{{30, 2}};
  journal_snapshot s{10, &removed, 40, &counts};
  auto batch = encode_journal_snapshot(s, 0);
  journal_state st;
  st.removed.add(1);
  auto ok = storage::for_each_record(batch, 1 << 20, [&](const storage::record_view& r) {
    EXPECT_TRUE(apply_journal_value(*r.value, st));
    return true;
  });
  ASSERT_TRUE(ok);
  EXPECT_FALSE(st.removed.contains(1)) << "a snapshot replaces what came before";
  EXPECT_TRUE(st.removed.contains(10));
  EXPECT_TRUE(st.removed.contains(19));
  EXPECT_FALSE(st.removed.contains(20));
  EXPECT_TRUE(st.removed.contains(25));
  EXPECT_EQ(st.delivered_mark, 40);
  EXPECT_EQ(st.return_counts.at(30), 2u);
}

TEST_F(QueueTest, JournalRejectsGarbage) {
  journal_state st;
  uint8_t junk[] = {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
  EXPECT_FALSE(apply_journal_value(junk, st));
  uint8_t unknown[] = {9};
  EXPECT_FALSE(apply_journal_value(unknown, st));
}

TEST(OffsetRanges, MergesAndTrims) {
  offset_ranges r;
  r.add(5);
  r.add(7);
  r.add(6);
  EXPECT_EQ(r.range_count(), 1u);
  EXPECT_TRUE(r.contains(5));
  EXPECT_TRUE(r.contains(7));
  EXPECT_FALSE(r.contains(8));
  r.add_range(1, 3);
  EXPECT_EQ(r.range_count(), 2u);
  r.trim_below(6);
  EXPECT_FALSE(r.contains(5));
  EXPECT_TRUE(r.contains(6));
  EXPECT_EQ(r.range_count(), 1u);
}

}  // namespace
}  // namespace tern::broker
