#include "storage/log.h"

#include <gtest/gtest.h>

#include "storage/tests/test_util.h"

namespace tern::storage {
namespace {
using test::batch_offsets;
using test::make_batch;
using test::records_of;

class LogTest : public test::log_fixture {};

TEST_F(LogTest, NewLogIsEmpty) {
  auto l = open_log();
  EXPECT_EQ(l->log_start_offset(), 0);
  EXPECT_EQ(l->log_end_offset(), 0);
  EXPECT_EQ(l->high_watermark(), 0);
  EXPECT_EQ(l->size_bytes(), 0u);
  EXPECT_TRUE(std::filesystem::exists(seg(0)));
  auto r = l->read(0, 0, 1000, true);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ranges.empty());
}

TEST_F(LogTest, AppendAssignsOffsetsFromLogEnd) {
  auto l = open_log();
  EXPECT_EQ(append(*l, 5).base_offset, 0);
  auto second = append(*l, 5);
  EXPECT_EQ(second.base_offset, 5);
  EXPECT_EQ(second.last_offset, 9);
  EXPECT_EQ(second.log_append_time, -1);
  EXPECT_EQ(append(*l, 3).base_offset, 10);
  EXPECT_EQ(l->log_end_offset(), 13);

  auto recs = all_records(*l);
  ASSERT_EQ(recs.size(), 13u);
  for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i].offset, int64_t(i));
  EXPECT_EQ(std::string(recs[6].key->begin(), recs[6].key->end()), "key-1");
}

TEST_F(LogTest, AppendedBatchCarriesLeaderEpoch) {
  auto l = open_log();
  l->set_leader_epoch(9);
  append(*l, 2);
  auto data = test::flatten(read_all(*l));
  EXPECT_EQ(parse_batch_header(data)->partition_leader_epoch, 9);
  EXPECT_TRUE(validate_batch(data, batch_limits{}));
}

TEST_F(LogTest, AppendRejectsBatchOverMaxMessageBytes) {
  _config.max_message_bytes = 500;
  auto l = open_log();
  auto b = make_batch(10, 100);
  EXPECT_EQ(l->append(b).error(), errc::batch_too_large);
  EXPECT_EQ(l->log_end_offset(), 0);
}

TEST_F(LogTest, HighWatermarkUnderAlwaysAdvancesOnlyWithFlush) {
  auto l = open_log();
  append(*l, 5);
  EXPECT_EQ(l->high_watermark(), 0);
  EXPECT_FALSE(flush(*l));
  EXPECT_EQ(l->high_watermark(), 5);
  // Nothing new: the flush completes without a sync.
  uint64_t syncs = _fs.syncs();
  EXPECT_FALSE(flush(*l));
  EXPECT_EQ(_fs.syncs(), syncs);
}

TEST_F(LogTest, FlushesDuringInFlightSyncShareTheNextOne) {
  auto l = open_log();
  const uint64_t before = _fs.syncs();
  std::vector<std::error_code> results;
  auto cb = [&](std::error_code ec) { results.push_back(ec); };
  append(*l, 1);
  l->flush(cb);  // starts sync 1
  l->flush(cb);  // nothing appended since: covered by sync 1
  append(*l, 1);
  l->flush(cb);  // needs sync 2
  l->flush(cb);  // shares sync 2
  ASSERT_TRUE(_poster.run_until([&] { return results.size() == 4; }));
  for (auto& ec : results) EXPECT_FALSE(ec);
  EXPECT_EQ(_fs.syncs() - before, 2u);
  EXPECT_EQ(l->high_watermark(), 2);
}

TEST_F(LogTest, FlushUnderNeverCompletesAtOnceAndHighWatermarkIsLogEnd) {
  _config.flush = flush_policy::never;
  auto l = open_log();
  append(*l, 4);
  EXPECT_EQ(l->high_watermark(), 4);
  const uint64_t before = _fs.syncs();
  EXPECT_FALSE(flush(*l));
  EXPECT_EQ(_fs.syncs(), before);
}

TEST_F(LogTest, IntervalPolicySyncsWhenIntervalPassed) {
  _config.flush = flush_policy::interval;
  _config.flush_interval_ms = 1000;
  flusher inline_flusher(0);  // syncs run inside maybe_flush_interval: no timing in the test
  auto l = open_log(&inline_flusher);
  append(*l, 4);
  EXPECT_EQ(l->high_watermark(), 4);  // not waiting for the disk under `interval`
  uint64_t before = _fs.syncs();
  test::g_now_ms += 5000;
  l->maybe_flush_interval(test::fake_now());
  EXPECT_GT(_fs.syncs(), before);
  _poster.drain();  // the sync's completion

  before = _fs.syncs();
  append(*l, 1);
  l->maybe_flush_interval(test::fake_now() + 100);  // too soon after the last sync
  EXPECT_EQ(_fs.syncs(), before);
  test::g_now_ms += 2000;
  l->maybe_flush_interval(test::fake_now());
  EXPECT_GT(_fs.syncs(), before);
  _poster.drain();
  l.reset();
}

TEST_F(LogTest, ReadAcrossSegmentRoll) {
  _config.segment_bytes = 2 * make_batch(5, 100).size() + 10;  // two batches per segment
  auto l = open_log();
  for (int i = 0; i < 10; ++i) append(*l, 5, 100);
  EXPECT_EQ(l->segment_count(), 5u);
  EXPECT_EQ(l->segment_bases(), (std::vector<int64_t>{0, 10, 20, 30, 40}));
  EXPECT_TRUE(std::filesystem::exists(seg(10)));
  EXPECT_TRUE(std::filesystem::exists(seg(0, ".index")));  // written when it rolled

  // One read stops at the end of a segment.
  EXPECT_EQ(batch_offsets(read_all(*l, 0)), (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(batch_offsets(read_all(*l, 12)), (std::vector<int64_t>{10, 15}));
  auto recs = all_records(*l);
  ASSERT_EQ(recs.size(), 50u);
  EXPECT_EQ(recs.back().offset, 49);
}

TEST_F(LogTest, ReadFromInsideABatchReturnsThatWholeBatch) {
  auto l = open_log();
  append(*l, 5);
  append(*l, 5);
  EXPECT_EQ(batch_offsets(read_all(*l, 7)), (std::vector<int64_t>{5}));
  EXPECT_EQ(batch_offsets(read_all(*l, 3)), (std::vector<int64_t>{0, 5}));
}

TEST_F(LogTest, ReadMaxBytesAndMinOneBatch) {
  auto l = open_log();
  for (int i = 0; i < 3; ++i) append(*l, 10, 100);
  const size_t one = make_batch(10, 100).size();
  auto r = l->read(0, 30, one + one / 2, false);
  EXPECT_EQ(batch_offsets(*r), (std::vector<int64_t>{0}));
  EXPECT_EQ(r->bytes, one);
  EXPECT_TRUE(l->read(0, 30, 10, false)->ranges.empty());
  // KIP-74: a batch larger than max_bytes still comes back when it is the first.
  EXPECT_EQ(batch_offsets(*l->read(0, 30, 10, true)), (std::vector<int64_t>{0}));
  EXPECT_EQ(batch_offsets(*l->read(10, 30, 2 * one, true)), (std::vector<int64_t>{10, 20}));
}

TEST_F(LogTest, ReadStopsBeforeMaxOffsetExclusive) {
  auto l = open_log();
  for (int i = 0; i < 3; ++i) append(*l, 5);
  EXPECT_EQ(batch_offsets(*l->read(0, 10, 1 << 20, true)), (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(batch_offsets(*l->read(0, 7, 1 << 20, true)), (std::vector<int64_t>{0}));
  EXPECT_TRUE(l->read(5, 5, 1 << 20, true)->ranges.empty());
}

TEST_F(LogTest, ReadOutsideLogIsOutOfRange) {
  auto l = open_log();
  append(*l, 5);
  EXPECT_EQ(l->read(6, 100, 1000, true).error(), errc::offset_out_of_range);
  EXPECT_EQ(l->read(-1, 100, 1000, true).error(), errc::offset_out_of_range);
  auto at_end = l->read(5, 100, 1000, true);
  ASSERT_TRUE(at_end);
  EXPECT_TRUE(at_end->ranges.empty());
}

TEST_F(LogTest, ReadMergesAdjacentBatchesIntoOneRange) {
  auto l = open_log();
  for (int i = 0; i < 3; ++i) append(*l, 2);
  auto r = read_all(*l);
  ASSERT_EQ(r.ranges.size(), 1u);
  EXPECT_EQ(r.ranges[0].offset, 0u);
  EXPECT_EQ(r.ranges[0].length, r.bytes);
  EXPECT_EQ(r.bytes, l->size_bytes());
}

TEST_F(LogTest, OffsetForTimestampRecordPrecision) {
  auto l = open_log();
  append(*l, 5, 10, 1000);  // offsets 0-4, ts 1000-1004
  append(*l, 5, 10, 2000);  // offsets 5-9, ts 2000-2004
  using p = std::pair<int64_t, int64_t>;
  EXPECT_EQ(**l->offset_for_timestamp(0), (p{0, 1000}));
  EXPECT_EQ(**l->offset_for_timestamp(1002), (p{2, 1002}));
  EXPECT_EQ(**l->offset_for_timestamp(1500), (p{5, 2000}));
  EXPECT_EQ(**l->offset_for_timestamp(2004), (p{9, 2004}));
  EXPECT_FALSE(l->offset_for_timestamp(2005)->has_value());
}

TEST_F(LogTest, OffsetForTimestampNonMonotonicWithinBatch) {
  auto l = open_log();
  std::vector<record> recs(3);
  recs[0].timestamp = 5000;
  recs[1].timestamp = 4000;
  recs[2].timestamp = 6000;
  auto b = build_batch(recs);
  ASSERT_TRUE(l->append(b));
  EXPECT_EQ(**l->offset_for_timestamp(4500), (std::pair<int64_t, int64_t>{0, 5000}));
  EXPECT_EQ(**l->offset_for_timestamp(5500), (std::pair<int64_t, int64_t>{2, 6000}));
}

TEST_F(LogTest, OffsetForTimestampThroughTimeIndexAcrossSegments) {
  _config.index_interval_bytes = 200;
  _config.segment_bytes = 30 * make_batch(2, 100).size();
  auto l = open_log();
  for (int i = 0; i < 100; ++i) append(*l, 2, 100, 10'000 + i * 10);  // ts 10000+10i, +1
  ASSERT_GT(l->segment_count(), 2u);
  for (int i = 0; i < 100; i += 7) {
    auto r = l->offset_for_timestamp(10'000 + i * 10 + 1);
    ASSERT_TRUE(r && *r) << i;
    EXPECT_EQ((*r)->first, 2 * i + 1);
    r = l->offset_for_timestamp(10'000 + i * 10 + 5);
    ASSERT_TRUE(r && *r) << i;
    EXPECT_EQ((*r)->first, 2 * i + 2);
  }
}

TEST_F(LogTest, OffsetForTimestampSkipsRecordsBelowLogStart) {
  auto l = open_log();
  append(*l, 5, 10, 1000);
  ASSERT_FALSE(flush(*l));
  ASSERT_TRUE(l->delete_records_before(3));
  EXPECT_EQ((*l->offset_for_timestamp(0))->first, 3);
}

TEST_F(LogTest, LogAppendTimeStampsBatches) {
  _config.log_append_time = true;
  test::g_now_ms = 1'700'000'123'456;
  auto l = open_log();
  auto r = append(*l, 3, 10, /*ts=*/5);
  EXPECT_EQ(r.log_append_time, 1'700'000'123'456);
  auto data = test::flatten(read_all(*l));
  auto h = parse_batch_header(data);
  EXPECT_EQ(h->timestamp_type(), timestamp_type::log_append_time);
  EXPECT_EQ(h->max_timestamp, 1'700'000'123'456);
  EXPECT_TRUE(validate_batch(data, batch_limits{}));
  EXPECT_EQ(**l->offset_for_timestamp(6), (std::pair<int64_t, int64_t>{0, 1'700'000'123'456}));
}

TEST_F(LogTest, DeleteRecordsBeforeRaisesStartAndDeletesSegments) {
  _config.segment_bytes = 2 * make_batch(5, 100).size() + 10;  // two batches per segment
  auto l = open_log();
  for (int i = 0; i < 10; ++i) append(*l, 5, 100);
  EXPECT_EQ(l->delete_records_before(20).error(), errc::offset_out_of_range);  // above HW
  ASSERT_FALSE(flush(*l));
  const uint64_t size = l->size_bytes();
  ASSERT_TRUE(l->delete_records_before(23));
  EXPECT_EQ(l->log_start_offset(), 23);
  EXPECT_EQ(l->segment_bases(), (std::vector<int64_t>{20, 30, 40}));
  EXPECT_LT(l->size_bytes(), size);
  EXPECT_EQ(l->read(22, 50, 1 << 20, true).error(), errc::offset_out_of_range);
  EXPECT_EQ(batch_offsets(*l->read(23, 50, 1 << 20, true)), (std::vector<int64_t>{20, 25}));
  ASSERT_TRUE(l->delete_records_before(10));  // below the start: nothing to do
  EXPECT_EQ(l->log_start_offset(), 23);
  ASSERT_TRUE(l->close());
  EXPECT_FALSE(std::filesystem::exists(seg(0)));
  EXPECT_FALSE(std::filesystem::exists(seg(10, ".index")));
  l.reset();

  auto again = open_log();
  EXPECT_EQ(again->log_start_offset(), 23);  // persisted
  EXPECT_EQ(again->log_end_offset(), 50);
}

TEST_F(LogTest, DeleteRecordsAtLogEndRollsAndEmptiesTheLog) {
  auto l = open_log();
  append(*l, 5);
  append(*l, 5);
  ASSERT_FALSE(flush(*l));
  ASSERT_TRUE(l->delete_records_before(10));
  EXPECT_EQ(l->segment_bases(), (std::vector<int64_t>{10}));
  EXPECT_EQ(l->size_bytes(), 0u);
  EXPECT_EQ(l->log_start_offset(), 10);
  EXPECT_EQ(append(*l, 1).base_offset, 10);
}

TEST_F(LogTest, FileRangeStaysReadableAfterItsSegmentIsDeleted) {
  _config.segment_bytes = 1000;
  auto l = open_log();
  append(*l, 5, 100);
  append(*l, 5, 100);
  ASSERT_EQ(l->segment_count(), 2u);
  auto r = read_all(*l, 0);
  ASSERT_FALSE(flush(*l));
  ASSERT_TRUE(l->delete_records_before(5));
  ASSERT_TRUE(l->close());  // waits for the background unlink
  EXPECT_FALSE(std::filesystem::exists(seg(0)));
  auto recs = records_of(r);
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[4].offset, 4);
}

TEST_F(LogTest, CloseAndReopenCleanLoadsIndexesWithoutChecking) {
  _config.index_interval_bytes = 300;
  _config.segment_bytes = 5000;
  auto l = open_log();
  for (int i = 0; i < 20; ++i) append(*l, 3, 100, 1000 + i * 100);
  auto before = all_records(*l);
  ASSERT_TRUE(l->close());
  EXPECT_TRUE(std::filesystem::exists(log_dir() / "clean-shutdown"));
  auto late = make_batch(1);
  EXPECT_EQ(l->append(late).error(), errc::log_closed);
  l.reset();

  auto again = open_log();
  EXPECT_TRUE(again->recovery().clean_shutdown);
  EXPECT_EQ(again->recovery().segments_checked, 0u);
  EXPECT_EQ(again->recovery().indexes_rebuilt, 0u);
  EXPECT_FALSE(std::filesystem::exists(log_dir() / "clean-shutdown"));
  EXPECT_EQ(again->log_end_offset(), 60);
  EXPECT_EQ(again->high_watermark(), 60);
  EXPECT_EQ(all_records(*again).size(), before.size());
  EXPECT_EQ((*again->offset_for_timestamp(1801))->first, 25);  // batch 8: ts 1800..1802
  EXPECT_EQ(append(*again, 1).base_offset, 60);
}

TEST_F(LogTest, RollBySegmentAge) {
  _config.segment_ms = 1000;
  auto l = open_log();
  append(*l, 1);
  append(*l, 1);
  EXPECT_EQ(l->segment_count(), 1u);
  test::g_now_ms += 1500;
  append(*l, 1);
  EXPECT_EQ(l->segment_bases(), (std::vector<int64_t>{0, 2}));
}

TEST_F(LogTest, RemoveDeletesTheDirectory) {
  auto l = open_log();
  append(*l, 1);
  ASSERT_TRUE(l->close());
  l.reset();
  ASSERT_TRUE(log::remove(_fs, log_dir()));
  EXPECT_FALSE(std::filesystem::exists(log_dir()));
  EXPECT_TRUE(log::remove(_fs, log_dir()));  // already gone
}

TEST_F(LogTest, DestroyWithoutCloseFailsPendingFlushes) {
  auto l = open_log();
  append(*l, 1);
  std::error_code got;
  bool done = false;
  l->flush([&](std::error_code) {});  // in flight
  append(*l, 1);
  l->flush([&](std::error_code ec) { got = ec, done = true; });  // waits for the next sync
  l.reset();
  ASSERT_TRUE(_poster.run_until([&] { return done; }));
  EXPECT_EQ(got, errc::log_closed);
}

}  // namespace
}  // namespace tern::storage
