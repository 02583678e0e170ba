#include <gtest/gtest.h>

#include "storage/log.h"
#include "storage/tests/test_util.h"

namespace tern::storage {
namespace {
using test::make_batch;

class RetentionTest : public test::log_fixture {
 protected:
  void SetUp() override {
    _config.segment_bytes = 2 * make_batch(5, 100).size() + 10;  // two batches per segment
    _config.retention_ms = -1;
  }
  static constexpr int64_t kDay = 24 * 3600 * 1000ll;
};

TEST_F(RetentionTest, ByTimeDeletesSegmentsWhoseNewestRecordIsTooOld) {
  _config.retention_ms = 7 * kDay;
  auto l = open_log();
  const int64_t now = test::fake_now();
  for (int i = 0; i < 4; ++i) append(*l, 5, 100, now - 10 * kDay);  // segments 0, 10
  for (int i = 0; i < 4; ++i) append(*l, 5, 100, now - kDay);       // segments 20, 30
  ASSERT_EQ(l->segment_bases(), (std::vector<int64_t>{0, 10, 20, 30}));
  l->apply_retention();
  EXPECT_EQ(l->segment_bases(), (std::vector<int64_t>{20, 30}));
  EXPECT_EQ(l->log_start_offset(), 20);
  EXPECT_EQ(l->read(5, 40, 1 << 20, true).error(), errc::offset_out_of_range);
}

TEST_F(RetentionTest, ByTimeFollowsTheInjectedClockAndSparesTheActiveSegment) {
  _config.retention_ms = 1000;
  auto l = open_log();
  const int64_t t = test::fake_now();
  for (int i = 0; i < 5; ++i) append(*l, 5, 100, t);  // segments 0, 10, 20 (active)
  l->apply_retention();
  EXPECT_EQ(l->segment_count(), 3u);  // nothing old yet
  test::g_now_ms += 5000;
  l->apply_retention();
  EXPECT_EQ(l->segment_bases(), (std::vector<int64_t>{20}));  // the active one stays
  EXPECT_EQ(l->log_start_offset(), 20);
  EXPECT_EQ(l->log_end_offset(), 25);
}

TEST_F(RetentionTest, ByTimeWithoutTimestampsUsesSegmentAge) {
  _config.retention_ms = 1000;
  auto l = open_log();
  std::vector<record> untimed(5);
  for (auto& r : untimed) r.value = bytes::buffer(100, 'x');  // timestamp -1: none
  for (int i = 0; i < 3; ++i) {
    auto b = build_batch(untimed);
    ASSERT_TRUE(l->append(b));
  }
  ASSERT_EQ(l->segment_count(), 2u);
  l->apply_retention();
  EXPECT_EQ(l->segment_count(), 2u);  // max timestamp -1 must not mean "ancient"
  test::g_now_ms += 2000;
  l->apply_retention();
  EXPECT_EQ(l->segment_count(), 1u);
}

TEST_F(RetentionTest, ByBytesKeepsAtLeastTheLimit) {
  auto l = open_log();
  for (int i = 0; i < 10; ++i) append(*l, 5, 100);  // 5 segments of 2 batches
  const uint64_t seg_size = 2 * make_batch(5, 100).size();
  ASSERT_EQ(l->size_bytes(), 5 * seg_size);
  _config.retention_bytes = int64_t(2 * seg_size + seg_size / 2);
  l->update_config(_config);
  l->apply_retention();
  // Deleting one more would go below the limit.
  EXPECT_EQ(l->segment_bases(), (std::vector<int64_t>{20, 30, 40}));
  EXPECT_EQ(l->size_bytes(), 3 * seg_size);
  EXPECT_EQ(l->log_start_offset(), 20);
  ASSERT_TRUE(l->close());
  EXPECT_FALSE(std::filesystem::exists(seg(0)));
  EXPECT_FALSE(std::filesystem::exists(seg(10)));
}

TEST_F(RetentionTest, ByBytesZeroNeverDeletesTheActiveSegment) {
  _config.retention_bytes = 0;
  auto l = open_log();
  for (int i = 0; i < 5; ++i) append(*l, 5, 100);
  l->apply_retention();
  EXPECT_EQ(l->segment_bases(), (std::vector<int64_t>{20}));
  EXPECT_EQ(append(*l, 1).base_offset, 25);
}

TEST_F(RetentionTest, DisabledKeepsEverything) {
  auto l = open_log();
  for (int i = 0; i < 6; ++i) append(*l, 5, 100, 0);
  test::g_now_ms += 100 * kDay;
  l->apply_retention();
  EXPECT_EQ(l->segment_count(), 3u);
}

TEST_F(RetentionTest, DeletedSegmentsStayDeletedAfterReopen) {
  _config.retention_bytes = 0;
  {
    auto l = open_log();
    for (int i = 0; i < 5; ++i) append(*l, 5, 100);
    l->apply_retention();
    ASSERT_TRUE(l->close());
  }
  auto l = open_log();
  EXPECT_EQ(l->segment_bases(), (std::vector<int64_t>{20}));
  EXPECT_EQ(l->log_start_offset(), 20);
}

}  // namespace
}  // namespace tern::storage
