#include "app/queue_output.h"

#include <gtest/gtest.h>

namespace tern::app {
namespace {

using nlohmann::json;

json sample_queue() {
  return {{"vhost", "/"},
          {"name", "orders"},
          {"durable", true},
          {"exclusive", false},
          {"auto_delete", true},
          {"messages_ready", 3},
          {"messages_unacknowledged", 2},
          {"messages", 5},
          {"consumers", 1},
          {"message_bytes_ready", 30}};
}

TEST(QueueOutput, ListIsATableWithCounters) {
  std::string out = format_queue_list(json::array({sample_queue()}), false);
  EXPECT_EQ(out,
            "VHOST  NAME    MESSAGES  READY  UNACKED  CONSUMERS  FLAGS\n"
            "/      orders  5         3      2        1          durable,auto-delete\n");
}

TEST(QueueOutput, EmptyListIsJustTheHeading) {
  EXPECT_EQ(format_queue_list(json::array(), false),
            "VHOST  NAME  MESSAGES  READY  UNACKED  CONSUMERS  FLAGS\n");
  EXPECT_EQ(format_queue_list(json::array(), true), "[]\n");
}

TEST(QueueOutput, DescribeNamesEveryCounter) {
  std::string out = format_queue_description(sample_queue(), false);
  EXPECT_NE(out.find("Queue:        orders\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Ready:        3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Unacked:      2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Consumers:    1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Durable:      yes\n"), std::string::npos) << out;
}

TEST(QueueOutput, MissingOrMistypedFieldsPrintAsDash) {
  json q{{"name", 7}, {"messages", "many"}};
  std::string out = format_queue_list(json::array({q, 5}), false);
  EXPECT_NE(out.find("-      7     many"), std::string::npos) << out;
  EXPECT_EQ(format_queue_description(json(), false).find("Queue:        -\n"), 0u);
}

TEST(QueueOutput, PurgeDeleteAndVhosts) {
  EXPECT_EQ(format_queue_purged({{"vhost", "/"}, {"name", "q"}, {"messages_purged", 4}}, false),
            "Purged 4 messages from queue q in vhost /.\n");
  EXPECT_EQ(format_queue_deleted({{"vhost", "v"}, {"name", "q"}, {"messages_deleted", 0}}, false),
            "Deleted queue q in vhost v (0 messages).\n");
  EXPECT_EQ(format_vhost_list(json::array({{{"name", "/"}}, {{"name", "dev"}}}), false),
            "NAME\n/\ndev\n");
}

}  // namespace
}  // namespace tern::app
