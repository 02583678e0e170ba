#include "app/topic_output.h"

#include <gtest/gtest.h>

namespace tern::app {
namespace {

TEST(TopicOutput, TableColumnsAlignToWidestCell) {
  EXPECT_EQ(format_table({{"A", "BB"}, {"long", "x"}}), "A     BB\nlong  x\n");
}

topic_view sample() {
  topic_view t{"orders", false, 2, {}, {}};
  t.partitions.push_back({0, 0, {0}, {0}, 0, 0, 17});
  t.partitions.push_back({1, -1, {0}, {}, 5, -1, -1});  // LEADER_NOT_AVAILABLE, no offsets
  t.configs.push_back({"retention.ms", "1000", "DYNAMIC_TOPIC_CONFIG", false, false});
  t.configs.push_back({"secret", std::nullopt, "DYNAMIC_TOPIC_CONFIG", false, true});
  return t;
}

TEST(TopicOutput, DescriptionShowsErrorsAndUnknownOffsets) {
  EXPECT_EQ(format_topic_description(sample(), false),
            "Topic: orders\n"
            "Partitions: 2\n"
            "\n"
            "PARTITION  LEADER  REPLICAS  ISR  EARLIEST  LATEST  ERROR\n"
            "0          0       0         0    0         17\n"
            "1          -       0         -    -         -       LEADER_NOT_AVAILABLE\n"
            "\n"
            "CONFIG        VALUE        SOURCE\n"
            "retention.ms  1000         DYNAMIC_TOPIC_CONFIG\n"
            "secret        (sensitive)  DYNAMIC_TOPIC_CONFIG\n");
}

TEST(TopicOutput, DescriptionWithoutErrorsHasNoErrorColumn) {
  topic_view t = sample();
  t.partitions.pop_back();
  t.configs.clear();
  EXPECT_EQ(format_topic_description(t, false),
            "Topic: orders\nPartitions: 2\n\n"
            "PARTITION  LEADER  REPLICAS  ISR  EARLIEST  LATEST\n"
            "0          0       0         0    0         17\n");
}

TEST(TopicOutput, DescriptionJson) {
  EXPECT_EQ(format_topic_description(sample(), true),
            R"({"configs":[{"name":"retention.ms","read_only":false,"sensitive":false,)"
            R"("source":"DYNAMIC_TOPIC_CONFIG","value":"1000"},{"name":"secret","read_only":false,)"
            R"("sensitive":true,"source":"DYNAMIC_TOPIC_CONFIG","value":null}],"internal":false,)"
            R"("name":"orders","partitions":[{"earliest_offset":0,"isr":[0],"latest_offset":17,)"
            R"("leader":0,"partition":0,"replicas":[0]},{"earliest_offset":null,)"
            R"("error":"LEADER_NOT_AVAILABLE","isr":[],"latest_offset":null,"leader":-1,)"
            R"("partition":1,"replicas":[0]}]})"
            "\n");
}

TEST(TopicOutput, ListAndConfirmations) {
  std::vector<topic_view> topics{{"__consumer_offsets", true, 50, {}, {}}, {"a", false, 1, {}, {}}};
  EXPECT_EQ(format_topic_list(topics, false),
            "NAME                           PARTITIONS\n"
            "__consumer_offsets (internal)  50\n"
            "a                              1\n");
  EXPECT_EQ(format_topic_list(topics, true),
            R"([{"internal":true,"name":"__consumer_offsets","partitions":50},)"
            R"({"internal":false,"name":"a","partitions":1}])"
            "\n");
  EXPECT_EQ(format_topic_created({"a", false, 1, {}, {}}, false),
            "Created topic a with 1 partition.\n");
  EXPECT_EQ(format_topic_created({"a", false, 3, {}, {}}, false),
            "Created topic a with 3 partitions.\n");
  EXPECT_EQ(format_topic_deleted("a", true), R"({"deleted":true,"name":"a"})"
                                             "\n");
}

}  // namespace
}  // namespace tern::app
