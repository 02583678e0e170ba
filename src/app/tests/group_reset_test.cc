#include "app/group_reset.h"

#include <gtest/gtest.h>

namespace tern::app {
namespace {

TEST(GroupReset, TopicSpecWithoutPartitionsMeansAll) {
  auto s = parse_topic_spec("orders.v2_x-y");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->topic, "orders.v2_x-y");
  EXPECT_TRUE(s->partitions.empty());
}

TEST(GroupReset, TopicSpecPartitionsAreSortedAndDistinct) {
  auto s = parse_topic_spec("orders:2,0,2,11");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->topic, "orders");
  EXPECT_EQ(s->partitions, (std::vector<int32_t>{0, 2, 11}));
}

TEST(GroupReset, BadTopicSpecs) {
  for (auto bad : {"", ":1", "orders:", "orders:1,", "orders:,1", "orders:a", "orders:-1",
                   "orders:1x", "orders:1:2", "orders:99999999999"}) {
    auto s = parse_topic_spec(bad);
    EXPECT_FALSE(s) << bad;
    if (!s) EXPECT_NE(s.error().message.find("bad --topic"), std::string::npos);
  }
}

TEST(GroupReset, DatetimeFormats) {
  // 2024-05-01T12:30:00Z = 1714566600 s since the epoch.
  constexpr int64_t base = 1714566600000;
  auto at = [](const char* s) {
    auto r = parse_datetime(s);
    EXPECT_TRUE(r) << s << ": " << (r ? "" : r.error().message);
    return r ? *r : -1;
  };
  EXPECT_EQ(at("2024-05-01T12:30:00.000Z"), base);
  EXPECT_EQ(at("2024-05-01T12:30:00.000"), base);  // no zone: UTC, as Kafka's tool
  EXPECT_EQ(at("2024-05-01T12:30"), base);
  EXPECT_EQ(at("2024-05-01T12:30:00Z"), base);
  EXPECT_EQ(at("2024-05-01T12:30:01.5Z"), base + 1500);
  EXPECT_EQ(at("2024-05-01T12:30:01.123456Z"), base + 1123);
  EXPECT_EQ(at("2024-05-01T14:30:00.000+02:00"), base);
  EXPECT_EQ(at("2024-05-01T14:30:00+0200"), base);
  EXPECT_EQ(at("2024-05-01T14:30:00+02"), base);
  EXPECT_EQ(at("2024-05-01T07:00:00-05:30"), base);
  EXPECT_EQ(at("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(at("2000-02-29T00:00:00Z"), 951782400000);  // a leap day
}

TEST(GroupReset, BadDatetimes) {
  for (auto bad : {"", "2024-05-01", "2024-05-01 12:30:00", "2024-5-01T12:30", "2024-13-01T00:00",
                   "2023-02-29T00:00", "2024-04-31T00:00", "2024-05-01T24:00", "2024-05-01T12:60",
                   "2024-05-01T12:30:61", "2024-05-01T12:30:00.", "2024-05-01T12:30:00Q",
                   "2024-05-01T12:30:00+", "2024-05-01T12:30:00+02:3", "2024-05-01T12:30:00Zjunk",
                   "yesterday"}) {
    auto r = parse_datetime(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) EXPECT_NE(r.error().message.find("YYYY-MM-DDTHH:MM"), std::string::npos);
  }
}

std::vector<reset_input> inputs() {
  // earliest 10, latest 100, committed 50 / none.
  return {{{"t", 0}, 10, 100, 50, -1}, {{"t", 1}, 10, 100, -1, -1}};
}

std::vector<int64_t> offsets_of(const reset_plan& p) {
  std::vector<int64_t> out;
  for (auto& o : p.offsets) out.push_back(o.offset);
  return out;
}

TEST(GroupReset, EarliestAndLatest) {
  auto e = plan_reset({reset_kind::earliest, 0}, inputs());
  ASSERT_TRUE(e);
  EXPECT_EQ(offsets_of(*e), (std::vector<int64_t>{10, 10}));
  EXPECT_EQ(e->offsets[1].tp, (topic_partition{"t", 1}));
  auto l = plan_reset({reset_kind::latest, 0}, inputs());
  ASSERT_TRUE(l);
  EXPECT_EQ(offsets_of(*l), (std::vector<int64_t>{100, 100}));
  EXPECT_TRUE(l->warnings.empty());
}

TEST(GroupReset, ToOffsetIsClampedWithAWarning) {
  auto in = plan_reset({reset_kind::offset, 42}, inputs());
  ASSERT_TRUE(in);
  EXPECT_EQ(offsets_of(*in), (std::vector<int64_t>{42, 42}));
  EXPECT_TRUE(in->warnings.empty());
  auto high = plan_reset({reset_kind::offset, 1000}, inputs());
  ASSERT_TRUE(high);
  EXPECT_EQ(offsets_of(*high), (std::vector<int64_t>{100, 100}));
  ASSERT_EQ(high->warnings.size(), 2u);
  EXPECT_EQ(high->warnings[0], "offset 1000 is past the latest offset of t:0: using 100");
  auto low = plan_reset({reset_kind::offset, 3}, inputs());
  ASSERT_TRUE(low);
  EXPECT_EQ(offsets_of(*low), (std::vector<int64_t>{10, 10}));
  EXPECT_EQ(low->warnings.at(1), "offset 3 is before the earliest offset of t:1: using 10");
}

TEST(GroupReset, ShiftByNeedsACommittedOffsetAndIsClamped) {
  std::vector<reset_input> one{inputs()[0]};
  auto fwd = plan_reset({reset_kind::shift_by, 5}, one);
  ASSERT_TRUE(fwd);
  EXPECT_EQ(offsets_of(*fwd), (std::vector<int64_t>{55}));
  auto back = plan_reset({reset_kind::shift_by, -45}, one);
  ASSERT_TRUE(back);
  EXPECT_EQ(offsets_of(*back), (std::vector<int64_t>{10}));
  EXPECT_EQ(back->warnings.size(), 1u);
  auto far = plan_reset({reset_kind::shift_by, INT64_MAX}, one);  // no overflow
  ASSERT_TRUE(far);
  EXPECT_EQ(offsets_of(*far), (std::vector<int64_t>{100}));
  auto far_back = plan_reset({reset_kind::shift_by, INT64_MIN}, one);
  ASSERT_TRUE(far_back);
  EXPECT_EQ(offsets_of(*far_back), (std::vector<int64_t>{10}));
  auto none = plan_reset({reset_kind::shift_by, 1}, inputs());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "cannot shift the offset of t:1: the group has no committed offset for it");
}

TEST(GroupReset, DatetimeFallsBackToLatest) {
  auto in = inputs();
  in[0].at_timestamp = 70;
  auto p = plan_reset({reset_kind::datetime, 123}, in);
  ASSERT_TRUE(p);
  EXPECT_EQ(offsets_of(*p), (std::vector<int64_t>{70, 100}));
  ASSERT_EQ(p->warnings.size(), 1u);
  EXPECT_EQ(p->warnings[0],
            "no record of t:1 is at or after that time: using its latest offset 100");
}

TEST(GroupReset, UnknownRangeFails) {
  std::vector<reset_input> in{{{"t", 0}, -1, 100, -1, -1}};
  EXPECT_FALSE(plan_reset({reset_kind::earliest, 0}, in));
}

TEST(GroupReset, EmptyPartitionCollapsesToOneOffset) {
  std::vector<reset_input> in{{{"t", 0}, 7, 7, 3, -1}};
  auto p = plan_reset({reset_kind::shift_by, 2}, in);
  ASSERT_TRUE(p);
  EXPECT_EQ(offsets_of(*p), (std::vector<int64_t>{7}));
}

}  // namespace
}  // namespace tern::app
