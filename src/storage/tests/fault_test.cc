// Faults injected through faulty_file_system: what the disk can do to an append or a sync.

#include <gtest/gtest.h>

#include "storage/log.h"
#include "storage/tests/test_util.h"

namespace tern::storage {
namespace {
using test::make_batch;

class FaultTest : public test::log_fixture {};

TEST_F(FaultTest, FailedFsyncIsReportedToEveryWaitingFlush) {
  auto l = open_log();
  append(*l, 5);
  _fs.fail_syncs(1);
  std::vector<std::error_code> results;
  auto cb = [&](std::error_code ec) { results.push_back(ec); };
  l->flush(cb);
  l->flush(cb);  // shares the failing sync
  append(*l, 5);
  l->flush(cb);  // waits for the next one, which never comes
  ASSERT_TRUE(_poster.run_until([&] { return results.size() == 3; }));
  for (auto& ec : results) EXPECT_EQ(ec, errc::io_error);
  EXPECT_EQ(l->high_watermark(), 0);  // nothing became durable

  // The kernel may have dropped the pages: the log refuses to pretend otherwise.
  auto b = make_batch(1);
  EXPECT_EQ(l->append(b).error(), errc::io_error);
  EXPECT_EQ(test::flush_and_wait(*l, _poster), errc::io_error);
  EXPECT_EQ(l->read(0, 10, 1 << 20, true)->ranges.size(), 1u);  // reads still work
  EXPECT_EQ(l->close().error(), errc::io_error);
  EXPECT_FALSE(std::filesystem::exists(log_dir() / "clean-shutdown"));
  l.reset();

  auto again = open_log();  // recovery decides what is really there
  EXPECT_FALSE(again->recovery().clean_shutdown);
  EXPECT_EQ(again->log_end_offset(), 10);
}

TEST_F(FaultTest, DiskFullOnAppendLeavesLogReadableAndConsistent) {
  auto l = open_log();
  append(*l, 5);
  append(*l, 5);
  const uint64_t size = test::file_size(seg(0));
  _fs.disk_full_after(100);  // part of the next batch fits
  auto b = make_batch(5);
  EXPECT_EQ(l->append(b).error(), errc::disk_full);
  EXPECT_EQ(l->log_end_offset(), 10);
  EXPECT_EQ(l->size_bytes(), size);
  EXPECT_EQ(test::file_size(seg(0)), size);  // the partial write was truncated away
  EXPECT_EQ(all_records(*l).size(), 10u);
  EXPECT_FALSE(flush(*l));  // what was appended is still durable-able
  EXPECT_EQ(l->high_watermark(), 10);

  _fs.clear_disk_full();
  EXPECT_EQ(append(*l, 5).base_offset, 10);  // space freed: appends resume
  ASSERT_TRUE(l->close());
  l.reset();
  auto again = open_log();
  EXPECT_EQ(again->log_end_offset(), 15);
  EXPECT_EQ(all_records(*again).size(), 15u);
}

TEST_F(FaultTest, TornWriteIsTruncatedAndTheNextAppendFollows) {
  auto l = open_log();
  append(*l, 5);
  const uint64_t size = test::file_size(seg(0));
  _fs.tear_next_write(30);
  auto b = make_batch(5);
  EXPECT_EQ(l->append(b).error(), errc::io_error);
  EXPECT_EQ(test::file_size(seg(0)), size);
  EXPECT_EQ(l->log_end_offset(), 5);
  EXPECT_EQ(append(*l, 5).base_offset, 5);
  EXPECT_FALSE(flush(*l));
  l.reset();  // crash

  auto again = open_log();
  EXPECT_EQ(again->recovery().bytes_truncated, 0u);
  EXPECT_EQ(again->log_end_offset(), 10);
  EXPECT_EQ(all_records(*again).size(), 10u);
}

TEST_F(FaultTest, SegmentRollOnFullDiskFailsTheAppendOnly) {
  _config.segment_bytes = make_batch(5).size() + 10;
  auto l = open_log();
  append(*l, 5);
  _fs.fail_opens(1);  // the new segment cannot be created
  auto b = make_batch(5);
  EXPECT_EQ(l->append(b).error(), errc::disk_full);
  EXPECT_EQ(l->log_end_offset(), 5);
  EXPECT_EQ(l->segment_count(), 1u);
  EXPECT_EQ(append(*l, 5).base_offset, 5);  // the retry rolls
  EXPECT_EQ(l->segment_bases(), (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(all_records(*l).size(), 10u);
}

TEST_F(FaultTest, FailedSyncInBackgroundRollFailsLaterFlushes) {
  _config.segment_bytes = make_batch(5).size() + 10;
  auto l = open_log();
  append(*l, 5);
  _fs.fail_syncs(1);
  append(*l, 5);  // rolls; the background sync of segment 0 fails
  // Whether or not that failure was processed yet, this flush must not succeed.
  EXPECT_EQ(test::flush_and_wait(*l, _poster), errc::io_error);
}

TEST_F(FaultTest, OpenOnUnreadableDirectoryIsAnError) {
  test::write_raw(log_dir(), bytes::buffer(1, 0));  // a file where the directory should be
  auto l = log::open(_fs, _flusher, _poster.get(), log_dir(), _config, test::fake_now);
  EXPECT_FALSE(l);
}

}  // namespace
}  // namespace tern::storage
