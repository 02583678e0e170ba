// Opening a log after a crash (the log object destroyed without close(), files edited to
// look like what a crash or a bad disk leaves).

#include <gtest/gtest.h>

#include "bytes/buffer.h"
#include "storage/log.h"
#include "storage/tests/test_util.h"

namespace tern::storage {
namespace {
using test::make_batch;

class RecoveryTest : public test::log_fixture {
 protected:
  // Appends `batches` batches of 5 records and "crashes" (no close: no clean-shutdown marker).
  std::vector<uint64_t> write_and_crash(int batches, bool do_flush = true) {
    auto l = open_log();
    std::vector<uint64_t> ends;  // file position after each batch in its segment
    for (int i = 0; i < batches; ++i) {
      append(*l, 5, 100, 1000 + i);
      ends.push_back(test::file_size(seg(l->segment_bases().back())));
    }
    if (do_flush) {
      EXPECT_FALSE(flush(*l));
    }
    return ends;
  }
};

TEST_F(RecoveryTest, TornTailIsTruncated) {
  auto ends = write_and_crash(3);
  bytes::buffer partial = make_batch(5);
  partial.resize(partial.size() / 2);
  test::append_raw(seg(0), partial);

  auto l = open_log();
  EXPECT_FALSE(l->recovery().clean_shutdown);
  EXPECT_EQ(l->recovery().segments_checked, 1u);
  EXPECT_EQ(l->recovery().bytes_truncated, partial.size());
  EXPECT_EQ(l->log_end_offset(), 15);
  EXPECT_EQ(l->high_watermark(), 15);
  EXPECT_EQ(test::file_size(seg(0)), ends.back());
  EXPECT_EQ(all_records(*l).size(), 15u);
  // Appends continue right after the recovered end.
  EXPECT_EQ(append(*l, 1).base_offset, 15);
}

TEST_F(RecoveryTest, TruncatedHeaderAtTailIsTruncated) {
  auto ends = write_and_crash(2);
  test::append_raw(seg(0), bytes::buffer(20, 0x11));
  auto l = open_log();
  EXPECT_EQ(l->recovery().bytes_truncated, 20u);
  EXPECT_EQ(l->log_end_offset(), 10);
}

TEST_F(RecoveryTest, ZeroFilledTailIsTruncated) {
  auto ends = write_and_crash(2);
  test::append_raw(seg(0), bytes::buffer(4096, 0));  // what a crash can leave after an extend
  auto l = open_log();
  EXPECT_EQ(l->recovery().bytes_truncated, 4096u);
  EXPECT_EQ(l->log_end_offset(), 10);
  EXPECT_EQ(test::file_size(seg(0)), ends.back());
}

TEST_F(RecoveryTest, BadCrcInMiddleOfLastSegmentTruncatesFromThere) {
  auto ends = write_and_crash(5);
  // Corrupt a value byte of the third batch (offsets 10-14).
  test::flip_byte(seg(0), ends[1] + 100);
  auto l = open_log();
  EXPECT_EQ(l->log_end_offset(), 10);
  EXPECT_EQ(l->recovery().bytes_truncated, ends[4] - ends[1]);
  EXPECT_EQ(test::file_size(seg(0)), ends[1]);
  EXPECT_EQ(all_records(*l).size(), 10u);
}

TEST_F(RecoveryTest, EmptySegmentFileIsFine) {
  { auto l = open_log(); }  // crash before any append
  EXPECT_EQ(test::file_size(seg(0)), 0u);
  auto l = open_log();
  EXPECT_EQ(l->log_end_offset(), 0);
  EXPECT_EQ(l->recovery().bytes_truncated, 0u);
  EXPECT_EQ(append(*l, 2).base_offset, 0);
}

TEST_F(RecoveryTest, EmptyActiveSegmentAfterRollIsFine) {
  write_and_crash(2);
  test::write_raw(seg(10), {});  // rolled, then crashed before the first append to it
  auto l = open_log();
  EXPECT_EQ(l->segment_bases(), (std::vector<int64_t>{0, 10}));
  EXPECT_EQ(l->log_end_offset(), 10);
  EXPECT_EQ(append(*l, 1).base_offset, 10);
}

TEST_F(RecoveryTest, CorruptionInOlderSegmentDropsLaterSegments) {
  _config.segment_bytes = 2 * make_batch(5, 100).size() + 10;
  auto ends = write_and_crash(6);                                    // segments 0, 10, 20
  std::filesystem::remove(log_dir() / "recovery-point.checkpoint");  // check everything
  test::flip_byte(seg(0), ends[0] + 100);  // second batch of the first segment
  auto l = open_log();
  EXPECT_EQ(l->recovery().segments_dropped, 2u);
  EXPECT_EQ(l->segment_bases(), (std::vector<int64_t>{0}));
  EXPECT_EQ(l->log_end_offset(), 5);
  EXPECT_FALSE(std::filesystem::exists(seg(10)));
  EXPECT_FALSE(std::filesystem::exists(seg(20)));
}

TEST_F(RecoveryTest, SegmentsBelowRecoveryPointAreNotRechecked) {
  _config.segment_bytes = 2 * make_batch(5, 100).size() + 10;
  write_and_crash(6);  // segments 0, 10, 20; the rolls synced 0 and 10
  auto l = open_log();
  EXPECT_EQ(l->recovery().segments_checked, 1u);  // only the active one
  EXPECT_EQ(l->recovery().indexes_rebuilt, 1u);   // the active one's index was never written
  EXPECT_EQ(l->log_end_offset(), 30);
  EXPECT_EQ(all_records(*l).size(), 30u);
}

TEST_F(RecoveryTest, IndexRebuiltWhenDeleted) {
  _config.index_interval_bytes = 700;
  {
    auto l = open_log();
    for (int i = 0; i < 20; ++i) append(*l, 5, 100, 1000 + i * 10);
    ASSERT_TRUE(l->close());
  }
  std::filesystem::remove(seg(0, ".index"));
  auto l = open_log();
  EXPECT_TRUE(l->recovery().clean_shutdown);
  EXPECT_EQ(l->recovery().indexes_rebuilt, 1u);
  for (int64_t o : {0, 7, 49, 50, 99}) {
    auto r = l->read(o, 100, 1, true);
    ASSERT_TRUE(r);
    EXPECT_EQ(test::batch_offsets(*r), (std::vector<int64_t>{o / 5 * 5})) << o;
  }
  EXPECT_EQ((*l->offset_for_timestamp(1105))->first, 55);
  ASSERT_TRUE(l->close());
  EXPECT_GT(test::file_size(seg(0, ".index")), 8u);  // written again on close
}

class IndexGarbage : public RecoveryTest, public ::testing::WithParamInterface<int> {};

TEST_P(IndexGarbage, IndexRebuiltWhenGarbage) {
  _config.index_interval_bytes = 700;
  {
    auto l = open_log();
    for (int i = 0; i < 20; ++i) append(*l, 5, 100, 1000 + i * 10);
    ASSERT_TRUE(l->close());
  }
  bytes::buffer garbage;
  switch (GetParam()) {
    case 0:  // bad size
      garbage = bytes::buffer(13, 0xab);
      test::write_raw(seg(0, ".index"), garbage);
      break;
    case 1: {  // well formed, pointing past the end of the file
      bytes::buffer b(16);
      bytes::store_be<uint32_t>(b.data() + 8, 10);
      bytes::store_be<uint32_t>(b.data() + 12, 1u << 30);
      test::write_raw(seg(0, ".index"), b);
      break;
    }
    case 2: {  // out of order
      bytes::buffer b(16);
      bytes::store_be<uint32_t>(b.data(), 10);
      bytes::store_be<uint32_t>(b.data() + 4, 1000);
      test::write_raw(seg(0, ".index"), b);
      break;
    }
    case 3: {  // pointing into the middle of a batch
      bytes::buffer b(16);
      bytes::store_be<uint32_t>(b.data() + 8, 5);
      bytes::store_be<uint32_t>(b.data() + 12, 700);
      test::write_raw(seg(0, ".index"), b);
      break;
    }
    case 4:  // time index garbage
      test::write_raw(seg(0, ".timeindex"), bytes::buffer(24, 0xff));
      break;
  }
  auto l = open_log();
  EXPECT_EQ(l->recovery().indexes_rebuilt, 1u);
  EXPECT_EQ(l->recovery().bytes_truncated, 0u);
  EXPECT_EQ(l->log_end_offset(), 100);
  EXPECT_EQ(all_records(*l).size(), 100u);
  EXPECT_EQ((*l->offset_for_timestamp(1105))->first, 55);
}

INSTANTIATE_TEST_SUITE_P(Kinds, IndexGarbage, ::testing::Range(0, 5));

TEST_F(RecoveryTest, CleanShutdownMarkerIsRemovedOnOpen) {
  {
    auto l = open_log();
    append(*l, 1);
    ASSERT_TRUE(l->close());
  }
  ASSERT_TRUE(std::filesystem::exists(log_dir() / "clean-shutdown"));
  auto l = open_log();
  EXPECT_FALSE(std::filesystem::exists(log_dir() / "clean-shutdown"));
  append(*l, 1);
  l.reset();  // crash: the next open must check
  auto again = open_log();
  EXPECT_FALSE(again->recovery().clean_shutdown);
  EXPECT_EQ(again->log_end_offset(), 2);
}

TEST_F(RecoveryTest, LeftoverTempAndOrphanIndexFilesAreRemoved) {
  write_and_crash(1);
  test::write_raw(log_dir() / "recovery-point.checkpoint.tmp", bytes::buffer(3, 1));
  test::write_raw(seg(500, ".index"), bytes::buffer(8, 0));
  auto l = open_log();
  EXPECT_FALSE(std::filesystem::exists(log_dir() / "recovery-point.checkpoint.tmp"));
  EXPECT_FALSE(std::filesystem::exists(seg(500, ".index")));
  EXPECT_EQ(l->log_end_offset(), 5);
}

TEST_F(RecoveryTest, BatchWithOffsetGoingBackwardsIsTruncated) {
  auto ends = write_and_crash(2);
  // A valid batch whose offsets repeat earlier ones: a stale write, not ours to keep.
  bytes::buffer stale = make_batch(2);
  assign_offsets(stale, 3, 0, std::nullopt);
  test::append_raw(seg(0), stale);
  auto l = open_log();
  EXPECT_EQ(l->recovery().bytes_truncated, stale.size());
  EXPECT_EQ(l->log_end_offset(), 10);
}

TEST_F(RecoveryTest, CorruptCheckpointFallsBackSafely) {
  write_and_crash(2);
  test::write_raw(log_dir() / "recovery-point.checkpoint", bytes::buffer(16, 0x33));
  test::write_raw(log_dir() / "log-start-offset.checkpoint", bytes::buffer(5, 0x33));
  auto l = open_log();
  EXPECT_EQ(l->log_start_offset(), 0);
  EXPECT_EQ(l->log_end_offset(), 10);
  EXPECT_EQ(l->recovery().segments_checked, 1u);
}

}  // namespace
}  // namespace tern::storage
