#include "storage/file.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "storage/checkpoint.h"
#include "storage/tests/test_util.h"

namespace tern::storage {
namespace {
using bytes::buffer;

buffer bytes_of(std::string_view s) { return buffer(s.begin(), s.end()); }

result<std::string> read_all(file& f) {
  auto size = f.size();
  if (!size) return size.error();
  std::string s(*size, '\0');
  auto n = f.pread(std::span(reinterpret_cast<uint8_t*>(s.data()), s.size()), 0);
  if (!n) return n.error();
  s.resize(*n);
  return s;
}

TEST(PosixFile, WriteReadTruncateSize) {
  test::temp_dir dir;
  posix_file_system fs;
  auto f = fs.open(dir / "a", open_mode::create);
  ASSERT_TRUE(f);
  ASSERT_TRUE((*f)->pwrite(bytes_of("hello"), 0));
  ASSERT_TRUE((*f)->append(bytes_of(" world")));
  EXPECT_EQ(*(*f)->size(), 11u);
  EXPECT_EQ(*read_all(**f), "hello world");
  ASSERT_TRUE((*f)->truncate(5));
  EXPECT_EQ(*read_all(**f), "hello");
  EXPECT_TRUE((*f)->fdatasync());
  EXPECT_GE((*f)->fd(), 0);
}

TEST(PosixFile, OpenExistingMissingFails) {
  test::temp_dir dir;
  posix_file_system fs;
  auto f = fs.open(dir / "missing", open_mode::existing);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error(), std::errc::no_such_file_or_directory);
}

TEST(PosixFileSystem, DirectoryOperations) {
  test::temp_dir dir;
  posix_file_system fs;
  ASSERT_TRUE(fs.create_directories(dir / "x/y"));
  ASSERT_TRUE(fs.open(dir / "x/y/f", open_mode::create_truncate));
  EXPECT_TRUE(*fs.exists(dir / "x/y/f"));
  ASSERT_TRUE(fs.rename(dir / "x/y/f", dir / "x/y/g"));
  EXPECT_FALSE(*fs.exists(dir / "x/y/f"));
  auto names = fs.list_dir(dir / "x/y");
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, std::vector<std::string>{"g"});
  EXPECT_TRUE(fs.fsync_dir(dir / "x/y"));
  EXPECT_TRUE(fs.remove(dir / "x/y/g"));
  EXPECT_TRUE(fs.remove(dir / "x/y/g"));  // missing is fine
  EXPECT_FALSE(fs.list_dir(dir / "nope"));
}

TEST(FaultyFileSystem, FailedSyncsThenSucceeds) {
  test::temp_dir dir;
  posix_file_system real;
  faulty_file_system fs(real);
  auto f = fs.open(dir / "a", open_mode::create);
  ASSERT_TRUE(f);
  fs.fail_syncs(2);
  EXPECT_EQ((*f)->fdatasync().error(), std::errc::io_error);
  EXPECT_EQ(fs.fsync_dir(dir.path()).error(), std::errc::io_error);
  EXPECT_TRUE((*f)->fdatasync());
  EXPECT_EQ(fs.syncs(), 1u);
}

TEST(FaultyFileSystem, DiskFullWritesWhatFitsThenEnospc) {
  test::temp_dir dir;
  posix_file_system real;
  faulty_file_system fs(real);
  auto f = fs.open(dir / "a", open_mode::create);
  fs.disk_full_after(8);
  ASSERT_TRUE((*f)->pwrite(bytes_of("12345"), 0));
  auto w = (*f)->pwrite(bytes_of("6789"), 5);
  EXPECT_EQ(w.error(), std::errc::no_space_on_device);
  EXPECT_EQ(*read_all(**f), "12345678");
  EXPECT_EQ((*f)->pwrite(bytes_of("x"), 8).error(), std::errc::no_space_on_device);
  fs.clear_disk_full();
  EXPECT_TRUE((*f)->pwrite(bytes_of("9"), 8));
  EXPECT_EQ(fs.bytes_written(), 9u);
}

TEST(FaultyFileSystem, TornWriteKeepsPrefixAndFails) {
  test::temp_dir dir;
  posix_file_system real;
  faulty_file_system fs(real);
  auto f = fs.open(dir / "a", open_mode::create);
  fs.tear_next_write(3);
  EXPECT_EQ((*f)->pwrite(bytes_of("abcdef"), 0).error(), std::errc::io_error);
  EXPECT_EQ(*read_all(**f), "abc");
  EXPECT_TRUE((*f)->pwrite(bytes_of("def"), 3));  // only the next write tears
  EXPECT_EQ(*read_all(**f), "abcdef");
}

TEST(FaultyFileSystem, FailedOpens) {
  test::temp_dir dir;
  posix_file_system real;
  faulty_file_system fs(real);
  fs.fail_opens(1);
  EXPECT_EQ(fs.open(dir / "a", open_mode::create).error(), std::errc::no_space_on_device);
  EXPECT_TRUE(fs.open(dir / "a", open_mode::create));
}

TEST(Checkpoint, RoundTripAndReplace) {
  test::temp_dir dir;
  posix_file_system fs;
  EXPECT_FALSE(read_checkpoint(fs, dir / "cp")->has_value());
  ASSERT_TRUE(write_checkpoint(fs, dir / "cp", 1234));
  EXPECT_EQ(read_checkpoint(fs, dir / "cp")->value(), 1234);
  ASSERT_TRUE(write_checkpoint(fs, dir / "cp", -5));
  EXPECT_EQ(read_checkpoint(fs, dir / "cp")->value(), -5);
  EXPECT_FALSE(*fs.exists(dir / "cp.tmp"));
}

TEST(Checkpoint, CorruptOrShortReadsAsAbsent) {
  test::temp_dir dir;
  posix_file_system fs;
  ASSERT_TRUE(write_checkpoint(fs, dir / "cp", 77));
  auto f = fs.open(dir / "cp", open_mode::existing);
  ASSERT_TRUE((*f)->pwrite(bytes_of("\x01"), 6));  // flip a value byte: CRC no longer matches
  EXPECT_FALSE(read_checkpoint(fs, dir / "cp")->has_value());
  ASSERT_TRUE((*f)->truncate(10));
  EXPECT_FALSE(read_checkpoint(fs, dir / "cp")->has_value());
}

}  // namespace
}  // namespace tern::storage
