#include "app/group_output.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tern::app {
namespace {

group_view stable_group() {
  group_view g{"billing", "Stable", "consumer", "range", {}};
  g.members.push_back({"m-1", std::nullopt, "c1", "/127.0.0.1", {{"orders", 0}, {"orders", 2}}});
  g.members.push_back({"m-2", "static-2", "c2", "/10.0.0.2", {}});  // owns nothing
  return g;
}

std::vector<partition_offset> committed() {
  return {{{"orders", 0}, 5, 0, {}}, {{"orders", 1}, 7, 0, {}}, {{"audit", 0}, 3, 0, {}}};
}

std::vector<partition_offset> log_end() {
  return {{{"audit", 0}, -1, 3, {}},  // UNKNOWN_TOPIC_OR_PARTITION: deleted since
          {{"orders", 0}, 10, 0, {}},
          {{"orders", 1}, 7, 0, {}},
          {{"orders", 2}, 4, 0, {}}};
}

TEST(GroupOutput, RowsJoinAssignmentsCommitsAndLogEnds) {
  auto rows = group_rows(stable_group(), committed(), log_end());
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].tp, (topic_partition{"audit", 0}));
  EXPECT_EQ(rows[0].log_end_offset, -1);
  EXPECT_EQ(rows[0].lag(), std::nullopt);
  EXPECT_EQ(rows[1].tp, (topic_partition{"orders", 0}));
  EXPECT_EQ(rows[1].lag(), 5);
  EXPECT_EQ(rows[1].consumer_id, "m-1");
  EXPECT_EQ(rows[2].tp, (topic_partition{"orders", 1}));
  EXPECT_EQ(rows[2].consumer_id, "");  // committed, but nobody owns it
  EXPECT_EQ(rows[2].lag(), 0);
  EXPECT_EQ(rows[3].tp, (topic_partition{"orders", 2}));
  EXPECT_EQ(rows[3].current_offset, -1);  // owned, nothing committed yet
  EXPECT_EQ(rows[3].lag(), std::nullopt);
  EXPECT_FALSE(rows[4].has_partition);
  EXPECT_EQ(rows[4].consumer_id, "m-2");
}

TEST(GroupOutput, DescriptionColumns) {
  group_description d{stable_group(), group_rows(stable_group(), committed(), log_end())};
  EXPECT_EQ(
      format_group_description(d, false),
      "Group: billing\n"
      "State: Stable\n"
      "Protocol: consumer/range\n"
      "Members: 2\n"
      "\n"
      "TOPIC   PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID  HOST        "
      "CLIENT-ID\n"
      "audit   0          3               -               -    -            -           -\n"
      "orders  0          5               10              5    m-1          /127.0.0.1  c1\n"
      "orders  1          7               7               0    -            -           -\n"
      "orders  2          -               4               -    m-1          /127.0.0.1  c1\n"
      "-       -          -               -               -    m-2          /10.0.0.2   c2\n");
}

TEST(GroupOutput, EmptyGroupWithoutOffsets) {
  group_description d{{"g", "Empty", "consumer", "", {}}, {}};
  EXPECT_EQ(format_group_description(d, false),
            "Group: g\nState: Empty\nProtocol: consumer\nMembers: 0\n\n"
            "The group has no committed offsets and no assigned partitions.\n");
}

TEST(GroupOutput, DescriptionJson) {
  group_description d{stable_group(), group_rows(stable_group(), committed(), log_end())};
  auto j = nlohmann::json::parse(format_group_description(d, true));
  EXPECT_EQ(j["group"], "billing");
  EXPECT_EQ(j["state"], "Stable");
  EXPECT_EQ(j["member_count"], 2);
  EXPECT_EQ(j["members"][0]["assignment"],
            nlohmann::json::parse(R"([{"topic":"orders","partitions":[0,2]}])"));
  EXPECT_EQ(j["members"][1]["group_instance_id"], "static-2");
  ASSERT_EQ(j["partitions"].size(), 4u);  // the member without partitions is not a partition
  EXPECT_EQ(j["partitions"][1],
            nlohmann::json::parse(R"({"topic":"orders","partition":0,"current_offset":5,
              "log_end_offset":10,"lag":5,"consumer_id":"m-1","host":"/127.0.0.1",
              "client_id":"c1"})"));
  EXPECT_TRUE(j["partitions"][0]["log_end_offset"].is_null());
  EXPECT_TRUE(j["partitions"][3]["lag"].is_null());
  EXPECT_TRUE(j["partitions"][2]["consumer_id"].is_null());
}

TEST(GroupOutput, List) {
  std::vector<group_listing> groups{{"a", "consumer", "Stable"}, {"b", "", "Empty"}};
  EXPECT_EQ(format_group_list(groups, false),
            "GROUP  PROTOCOL-TYPE  STATE\n"
            "a      consumer       Stable\n"
            "b      -              Empty\n");
  EXPECT_EQ(format_group_list(groups, true),
            R"([{"group":"a","protocol_type":"consumer","state":"Stable"},)"
            R"({"group":"b","protocol_type":"","state":"Empty"}])"
            "\n");
  EXPECT_EQ(format_group_list({}, false), "GROUP  PROTOCOL-TYPE  STATE\n");
}

TEST(GroupOutput, Deletions) {
  std::vector<group_deletion_view> r{{"a", 0}, {"b", 68}};
  EXPECT_EQ(format_group_deletions(r, false), "Deleted group a.\n");
  EXPECT_EQ(
      format_group_deletions(r, true),
      R"([{"deleted":true,"group":"a"},{"deleted":false,"error":"NON_EMPTY_GROUP","group":"b"}])"
      "\n");
}

TEST(GroupOutput, ResetPlan) {
  std::vector<partition_offset> plan{{{"orders", 0}, 0, 0, {}}, {{"orders", 10}, 1234, 0, {}}};
  EXPECT_EQ(format_reset_plan("g", plan, false, false),
            "TOPIC   PARTITION  NEW-OFFSET\n"
            "orders  0          0\n"
            "orders  10         1234\n");
  EXPECT_EQ(format_reset_plan("g", plan, true, false),
            "TOPIC   PARTITION  NEW-OFFSET\n"
            "orders  0          0\n"
            "orders  10         1234\n"
            "\n"
            "Committed 2 offsets for group g.\n");
  auto j = nlohmann::json::parse(format_reset_plan("g", plan, true, true));
  EXPECT_EQ(j["executed"], true);
  EXPECT_EQ(j["offsets"][1],
            nlohmann::json::parse(R"({"topic":"orders","partition":10,"new_offset":1234})"));
}

}  // namespace
}  // namespace tern::app
