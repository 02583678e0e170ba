#include "broker/queue_state.h"

#include <gtest/gtest.h>

namespace tern::broker {
namespace {

message_meta msg(int64_t offset, uint32_t size = 10, uint8_t priority = 0,
                 int64_t expires = -1) {
  message_meta m;
  m.offset = offset;
  m.body_size = size;
  m.priority = priority;
  m.expires_at_ms = expires;
  return m;
}

auto always = [](consumer_id) { return true; };
auto never = [](consumer_id) { return false; };

struct QueueState : ::testing::Test {
  std::vector<removed_message> expired;
  std::optional<queue_state::delivery> next(queue_state& q, int64_t now = 0) {
    return q.next_delivery(now, always, never, expired);
  }
};

TEST_F(QueueState, DeliversInOffsetOrderRoundRobin) {
  queue_state q({});
  for (int i = 0; i < 4; ++i) q.enqueue(msg(i));
  q.add_consumer(1, 1);
  q.add_consumer(2, 2);
  std::vector<std::pair<consumer_id, int64_t>> got;
  while (auto d = next(q)) got.push_back({d->consumer, d->meta.offset});
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], std::make_pair(consumer_id(1), int64_t(0)));
  EXPECT_EQ(got[1], std::make_pair(consumer_id(2), int64_t(1)));
  EXPECT_EQ(got[2], std::make_pair(consumer_id(1), int64_t(2)));
  EXPECT_EQ(q.unacked_count(), 4u);
  EXPECT_EQ(q.ready_count(), 0u);
}

TEST_F(QueueState, NoDeliveryWithoutCreditOrConsumers) {
  queue_state q({});
  q.enqueue(msg(0));
  EXPECT_FALSE(next(q));
  q.add_consumer(7, 7);
  EXPECT_FALSE(q.next_delivery(0, never, never, expired));
  EXPECT_EQ(q.ready_count(), 1u);
}

TEST_F(QueueState, AckRemovesAndIsJournaled) {
  queue_state q({});
  q.enqueue(msg(5));
  q.add_consumer(1, 1);
  auto d = next(q);
  ASSERT_TRUE(d);
  EXPECT_TRUE(q.take_removed().empty());
  EXPECT_FALSE(q.ack(5, 2)) << "another holder cannot ack it";
  EXPECT_TRUE(q.ack(5, 1));
  EXPECT_FALSE(q.ack(5, 1)) << "acked twice";
  EXPECT_EQ(q.take_removed(), std::vector<int64_t>{5});
  EXPECT_EQ(q.lowest_live_offset(), -1);
}

TEST_F(QueueState, NoAckConsumerRemovesOnDelivery) {
  queue_state q({});
  q.enqueue(msg(0));
  q.add_consumer(1, 1);
  auto d = q.next_delivery(0, always, always, expired);
  ASSERT_TRUE(d);
  EXPECT_EQ(q.unacked_count(), 0u);
  EXPECT_EQ(q.take_removed(), std::vector<int64_t>{0});
}

TEST_F(QueueState, RequeueGoesBackToItsPlaceMarkedRedelivered) {
  queue_state q({});
  for (int i = 0; i < 3; ++i) q.enqueue(msg(i));
  q.add_consumer(1, 1);
  auto a = next(q);
  auto b = next(q);
  bool found = false;
  EXPECT_FALSE(q.requeue(b->meta.offset, 1, &found));
  EXPECT_TRUE(found);
  EXPECT_FALSE(q.requeue(a->meta.offset, 1, &found));
  auto again = next(q);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->meta.offset, 0);
  EXPECT_TRUE(again->meta.redelivered);
  EXPECT_EQ(again->meta.delivery_count, 1u);
  EXPECT_EQ(next(q)->meta.offset, 1);
  EXPECT_EQ(next(q)->meta.offset, 2);
}

TEST_F(QueueState, DeliveryLimitDeadLettersPastTheLimit) {
  queue_limits l;
  l.delivery_limit = 2;
  queue_state q(l);
  q.enqueue(msg(0));
  q.add_consumer(1, 1);
  bool found = false;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(next(q));
    EXPECT_FALSE(q.requeue(0, 1, &found));
  }
  ASSERT_TRUE(next(q));
  auto dead = q.requeue(0, 1, &found);
  ASSERT_TRUE(dead);
  EXPECT_EQ(dead->reason, removal_reason::delivery_limit);
  EXPECT_EQ(dead->meta.delivery_count, 3u);
  EXPECT_EQ(q.ready_count(), 0u);
}

TEST_F(QueueState, ReleasingAHolderReturnsItsUnacked) {
  queue_state q({});
  for (int i = 0; i < 4; ++i) q.enqueue(msg(i));
  q.add_consumer(1, 1);
  q.add_consumer(2, 2);
  while (next(q)) {
  }
  q.remove_consumer(1);
  EXPECT_EQ(q.ready_count(), 0u) << "a cancelled consumer's deliveries stay held";
  EXPECT_TRUE(q.release(1).empty());
  EXPECT_EQ(q.ready_count(), 2u);
  EXPECT_EQ(q.unacked_count(), 2u);
  auto d = next(q);
  EXPECT_EQ(d->consumer, 2u);
  EXPECT_EQ(d->meta.offset, 0);
  EXPECT_TRUE(d->meta.redelivered);
}

TEST_F(QueueState, RejectRemovesForDeadLettering) {
  queue_state q({});
  q.enqueue(msg(3));
  q.add_consumer(1, 1);
  next(q);
  auto r = q.reject(3, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, removal_reason::rejected);
  EXPECT_EQ(q.take_removed(), std::vector<int64_t>{3});
}

TEST_F(QueueState, PriorityHighestFirstThenFifo) {
  queue_limits l;
  l.max_priority = 5;
  queue_state q(l);
  q.enqueue(msg(0, 1, 0));
  q.enqueue(msg(1, 1, 9));  // above the maximum: treated as 5
  q.enqueue(msg(2, 1, 3));
  q.enqueue(msg(3, 1, 5));
  q.add_consumer(1, 1);
  std::vector<int64_t> order;
  while (auto d = next(q)) order.push_back(d->meta.offset);
  EXPECT_EQ(order, (std::vector<int64_t>{1, 3, 2, 0}));
}

TEST_F(QueueState, PriorityIgnoredWithoutMaxPriority) {
  queue_state q({});
  q.enqueue(msg(0, 1, 0));
  q.enqueue(msg(1, 1, 9));
  q.add_consumer(1, 1);
  EXPECT_EQ(next(q)->meta.offset, 0);
}

TEST_F(QueueState, MaxLengthDropHead) {
  queue_limits l;
  l.max_length = 2;
  queue_state q(l);
  EXPECT_TRUE(q.enqueue(msg(0)).dropped.empty());
  EXPECT_TRUE(q.enqueue(msg(1)).dropped.empty());
  auto out = q.enqueue(msg(2));
  EXPECT_EQ(out.status, queue_state::enqueue_status::accepted);
  ASSERT_EQ(out.dropped.size(), 1u);
  EXPECT_EQ(out.dropped[0].meta.offset, 0);
  EXPECT_EQ(out.dropped[0].reason, removal_reason::maxlen);
  EXPECT_EQ(q.ready_count(), 2u);
}

TEST_F(QueueState, MaxLengthBytesDropHead) {
  queue_limits l;
  l.max_length_bytes = 25;
  queue_state q(l);
  q.enqueue(msg(0, 10));
  q.enqueue(msg(1, 10));
  auto out = q.enqueue(msg(2, 10));
  ASSERT_EQ(out.dropped.size(), 1u);
  EXPECT_EQ(q.ready_bytes(), 20u);
}

TEST_F(QueueState, RejectPublishWhenFull) {
  queue_limits l;
  l.max_length = 1;
  l.overflow = overflow_policy::reject_publish;
  queue_state q(l);
  EXPECT_EQ(q.enqueue(msg(0)).status, queue_state::enqueue_status::accepted);
  EXPECT_EQ(q.enqueue(msg(1)).status, queue_state::enqueue_status::rejected);
  EXPECT_EQ(q.ready_count(), 1u);
  EXPECT_EQ(q.take_removed(), std::vector<int64_t>{1});
}

TEST_F(QueueState, UnackedDoNotCountTowardsMaxLength) {
  queue_limits l;
  l.max_length = 1;
  l.overflow = overflow_policy::reject_publish;
  queue_state q(l);
  q.enqueue(msg(0));
  q.add_consumer(1, 1);
  next(q);
  EXPECT_EQ(q.enqueue(msg(1)).status, queue_state::enqueue_status::accepted);
}

TEST_F(QueueState, ExpiredHeadsAreRemovedOnDelivery) {
  queue_state q({});
  q.enqueue(msg(0, 1, 0, 100));
  q.enqueue(msg(1, 1, 0, 300));
  q.enqueue(msg(2, 1, 0, -1));
  q.add_consumer(1, 1);
  EXPECT_EQ(q.next_expiry(), 100);
  auto d = next(q, 200);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->meta.offset, 1);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].meta.offset, 0);
  EXPECT_EQ(expired[0].reason, removal_reason::expired);
}

TEST_F(QueueState, ExpireOnlyLooksAtHeads) {
  queue_state q({});
  q.enqueue(msg(0, 1, 0, -1));
  q.enqueue(msg(1, 1, 0, 10));
  EXPECT_EQ(q.next_expiry(), -1);
  EXPECT_TRUE(q.expire(1000).empty());
  q.add_consumer(1, 1);
  next(q, 1000);
  EXPECT_EQ(q.next_expiry(), 10);
  EXPECT_EQ(q.expire(1000).size(), 1u);
}

TEST_F(QueueState, SingleActiveConsumerOnlyTheOldestReceives) {
  queue_limits l;
  l.single_active_consumer = true;
  queue_state q(l);
  for (int i = 0; i < 3; ++i) q.enqueue(msg(i));
  q.add_consumer(4, 4);
  q.add_consumer(5, 5);
  EXPECT_EQ(q.active_consumer(), consumer_id(4));
  EXPECT_EQ(next(q)->consumer, 4u);
  EXPECT_EQ(next(q)->consumer, 4u);
  EXPECT_FALSE(q.next_delivery(0, [](consumer_id c) { return c == 5; }, never, expired));
  q.remove_consumer(4);
  q.release(4);
  EXPECT_EQ(q.active_consumer(), consumer_id(5));
  auto d = next(q);
  EXPECT_EQ(d->consumer, 5u);
  EXPECT_EQ(d->meta.offset, 0) << "the removed consumer's unacked message comes first";
}

TEST_F(QueueState, GetHoldsUnderTheGetterId) {
  queue_state q({});
  q.enqueue(msg(0));
  auto m = q.get(0, 99, false, expired);
  ASSERT_TRUE(m);
  EXPECT_NE(q.unacked(0, 99), nullptr);
  EXPECT_FALSE(q.get(0, 99, false, expired));
  EXPECT_TRUE(q.ack(0, 99));
}

TEST_F(QueueState, PurgeRemovesReadyOnly) {
  queue_state q({});
  for (int i = 0; i < 3; ++i) q.enqueue(msg(i));
  q.add_consumer(1, 1);
  next(q);
  q.take_removed();
  EXPECT_EQ(q.purge(), 2u);
  EXPECT_EQ(q.unacked_count(), 1u);
  EXPECT_EQ(q.take_removed(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(q.lowest_live_offset(), 0);
}

TEST_F(QueueState, LowestLiveOffsetAcrossLevelsAndUnacked) {
  queue_limits l;
  l.max_priority = 2;
  queue_state q(l);
  q.enqueue(msg(4, 1, 0));
  q.enqueue(msg(6, 1, 2));
  EXPECT_EQ(q.lowest_live_offset(), 4);
  q.add_consumer(1, 1);
  next(q);  // 6
  next(q);  // 4
  EXPECT_TRUE(q.ack(4, 1));
  EXPECT_EQ(q.lowest_live_offset(), 6);
}

}  // namespace
}  // namespace tern::broker
