// RabbitMQ's dead-letter cycle detection over the x-death the protocol's rewrite produced.
#include <gtest/gtest.h>

#include "broker/queue_service.h"

namespace tern::broker {
namespace {

header_value death(std::string queue, std::string reason) {
  header_table t;
  t.emplace_back("count", header_value(int64_t(1)));
  t.emplace_back("reason", header_value(std::move(reason)));
  t.emplace_back("queue", header_value(std::move(queue)));
  return header_value(std::move(t));
}

header_table with_deaths(header_array deaths) {
  header_table h;
  h.emplace_back("other", header_value(std::string("x")));
  h.emplace_back("x-death", header_value(std::move(deaths)));
  return h;
}

using names = std::vector<std::string>;

TEST(DeadLetterCycle, QueueExpiringIntoItselfIsACycle) {
  auto h = with_deaths({death("q", "expired")});
  EXPECT_EQ(dead_letter_cycle_queues(h, removal_reason::expired), names{"q"});
  EXPECT_EQ(dead_letter_cycle_queues(h, removal_reason::maxlen), names{"q"});
  EXPECT_EQ(dead_letter_cycle_queues(h, removal_reason::delivery_limit), names{"q"});
}

TEST(DeadLetterCycle, RejectionsAreNeverCycles) {
  auto h = with_deaths({death("q", "rejected"), death("q", "expired")});
  EXPECT_TRUE(dead_letter_cycle_queues(h, removal_reason::rejected).empty());
}

TEST(DeadLetterCycle, OnlyQueuesBeforeTheLastRejectionCount) {
  // Most recent first: b expired, a was rejected by a client, c expired before that.
  auto h = with_deaths({death("b", "expired"), death("a", "rejected"), death("c", "expired")});
  EXPECT_EQ(dead_letter_cycle_queues(h, removal_reason::expired), names{"b"});
}

TEST(DeadLetterCycle, TwoQueuePingPongIsACycle) {
  auto h = with_deaths({death("back", "expired"), death("other", "expired")});
  EXPECT_EQ(dead_letter_cycle_queues(h, removal_reason::expired), (names{"back", "other"}));
}

TEST(DeadLetterCycle, NoOrMalformedXDeathMeansNoCycle) {
  EXPECT_TRUE(dead_letter_cycle_queues({}, removal_reason::expired).empty());
  header_table h;
  h.emplace_back("x-death", header_value(std::string("not an array")));
  EXPECT_TRUE(dead_letter_cycle_queues(h, removal_reason::expired).empty());
  auto odd = with_deaths({header_value(int64_t(3)), death("q", "expired")});
  EXPECT_EQ(dead_letter_cycle_queues(odd, removal_reason::expired), names{"q"});
}

}  // namespace
}  // namespace tern::broker
