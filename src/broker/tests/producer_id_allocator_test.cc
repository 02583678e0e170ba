// Producer ids stay unique across restarts, crashes and failed syncs.

#include "broker/producer_id_allocator.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>

#include "storage/checkpoint.h"
#include "storage/errc.h"
#include "storage/tests/test_util.h"

namespace tern::broker {
namespace {

class ProducerIdAllocatorTest : public ::testing::Test {
 protected:
  // A broker start: nothing survives from the previous allocator but the file.
  producer_id_allocator start(int64_t block_size = 3) {
    auto a = producer_id_allocator::open(_fs, path(), block_size);
    EXPECT_TRUE(a) << a.error().message();
    return std::move(*a);
  }
  int64_t take(producer_id_allocator& a) {
    auto id = a.allocate();
    EXPECT_TRUE(id) << id.error().message();
    EXPECT_TRUE(_seen.insert(id ? (*id)() : -1).second) << "id handed out twice";
    return id ? (*id)() : -1;
  }
  std::optional<int64_t> persisted() { return *storage::read_checkpoint(_real, path()); }
  std::filesystem::path path() const { return _dir / "producer_ids"; }

  storage::test::temp_dir _dir;
  storage::posix_file_system _real;
  storage::faulty_file_system _fs{_real};
  std::set<int64_t> _seen;
};

TEST_F(ProducerIdAllocatorTest, FreshDataDirectoryCountsFromZero) {
  auto a = start();
  for (int64_t i = 0; i < 7; ++i) EXPECT_EQ(take(a), i);
}

TEST_F(ProducerIdAllocatorTest, BlockEndIsDurableBeforeItsFirstIdIsHandedOut) {
  auto a = start();
  EXPECT_FALSE(std::filesystem::exists(path()));  // opening reserves nothing
  const uint64_t syncs = _fs.syncs();
  EXPECT_EQ(take(a), 0);
  EXPECT_EQ(persisted(), 3);
  EXPECT_EQ(_fs.syncs(), syncs + 2);  // the file, then the directory after the rename
  take(a);
  take(a);
  EXPECT_EQ(_fs.syncs(), syncs + 2);  // the rest of the block costs no I/O
  EXPECT_EQ(take(a), 3);
  EXPECT_EQ(persisted(), 6);
}

TEST_F(ProducerIdAllocatorTest, RestartResumesAfterThePersistedBlock) {
  {
    auto a = start();
    take(a);
    take(a);
    take(a);
    take(a);  // block [3, 6) reserved, 3 handed out
  }
  auto b = start();  // the rest of the block is skipped, never reused
  EXPECT_EQ(take(b), 6);
  for (int i = 0; i < 5; ++i) take(b);
  auto c = start();
  EXPECT_EQ(take(c), 12);
  EXPECT_EQ(_seen.size(), 11u);
}

TEST_F(ProducerIdAllocatorTest, FailedFsyncHandsOutNoIdAndTheNextCallRetries) {
  auto a = start();
  for (int i = 0; i < 3; ++i) take(a);
  _fs.fail_syncs(1);
  auto failed = a.allocate();
  EXPECT_EQ(failed.error(), storage::errc::io_error);
  EXPECT_EQ(a.block_end(), 3);
  EXPECT_EQ(take(a), 3);  // retried, and this time durable
  EXPECT_EQ(persisted(), 6);

  auto b = start();
  EXPECT_EQ(take(b), 6);
}

// Nothing was handed out, so a restart may start from whatever the disk kept (here: nothing).
TEST_F(ProducerIdAllocatorTest, RestartAfterAFailedFirstReservationStartsCleanly) {
  {
    auto a = start();
    _fs.fail_syncs(1);
    EXPECT_EQ(a.allocate().error(), storage::errc::io_error);
  }
  EXPECT_FALSE(std::filesystem::exists(path()));  // the rename never happened
  auto b = start();
  EXPECT_EQ(take(b), 0);
  EXPECT_EQ(persisted(), 3);
}

TEST_F(ProducerIdAllocatorTest, DiskFullIsReportedAsDiskFull) {
  auto a = start();
  _fs.disk_full_after(0);
  EXPECT_EQ(a.allocate().error(), storage::errc::disk_full);
  _fs.clear_disk_full();
  EXPECT_EQ(take(a), 0);
}

TEST_F(ProducerIdAllocatorTest, CorruptIdFileRefusesToOpen) {
  storage::test::write_raw(path(), bytes::as_bytes("not a checkpoint"));
  auto a = producer_id_allocator::open(_fs, path());
  EXPECT_EQ(a.error(), storage::errc::io_error);
}

TEST_F(ProducerIdAllocatorTest, NegativePersistedValueRefusesToOpen) {
  ASSERT_TRUE(storage::write_checkpoint(_real, path(), -5));
  EXPECT_EQ(producer_id_allocator::open(_fs, path()).error(), storage::errc::io_error);
}

TEST_F(ProducerIdAllocatorTest, ExhaustedIdSpaceIsAnErrorNotAWrap) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  ASSERT_TRUE(storage::write_checkpoint(_real, path(), max - 4));
  auto a = start(3);
  EXPECT_EQ(take(a), max - 4);
  take(a);
  take(a);
  EXPECT_EQ(a.allocate().error(), std::errc::value_too_large);
  EXPECT_EQ(persisted(), max - 1);
}

TEST_F(ProducerIdAllocatorTest, DefaultBlockIsAThousandIds) {
  auto a = producer_id_allocator::open(_fs, path());
  ASSERT_TRUE(a);
  EXPECT_EQ((*a->allocate())(), 0);
  EXPECT_EQ(persisted(), 1000);
}

}  // namespace
}  // namespace tern::broker
