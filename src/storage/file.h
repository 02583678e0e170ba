#pragma once
// The file system as storage sees it: a few virtual calls, so tests can wrap the real one and
// inject the faults a disk can produce (failed fsync, disk full, torn writes) — the habit of
// LevelDB's fault-injection Env. Errors are errno codes (std::generic_category) in result<T>,
// never exceptions; the log maps them to storage::errc at its own interface.
//
// Threads: a `file` is used by the shard that owns its log, except that fdatasync() may run
// on a flusher thread at the same time; a `file_system` may be called from any thread.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "bytes/buffer.h"

namespace tern::storage {

class file {
 public:
  virtual ~file() = default;

  // Writes all of `data` at `offset`. On error some prefix may have been written: callers that
  // need atomicity truncate back (the log does).
  virtual result<void> pwrite(bytes::byte_view data, uint64_t offset) = 0;
  // Reads up to out.size() bytes at `offset`; fewer only at the end of the file.
  virtual result<size_t> pread(std::span<uint8_t> out, uint64_t offset) = 0;
  virtual result<void> fdatasync() = 0;
  virtual result<void> truncate(uint64_t size) = 0;
  virtual result<uint64_t> size() = 0;
  // The descriptor, for sendfile()/pread() by whoever holds a file_range on this file.
  virtual int fd() const = 0;

  // Writes at the current end of the file.
  result<void> append(bytes::byte_view data) {
    auto s = size();
    if (!s) return s.error();
    return pwrite(data, *s);
  }
};

enum class open_mode {
  existing,         // read-write; fails if missing
  create,           // read-write; created empty if missing
  create_truncate,  // read-write; created or emptied
};

class file_system {
 public:
  virtual ~file_system() = default;

  virtual result<std::shared_ptr<file>> open(const std::filesystem::path& p, open_mode mode) = 0;
  // Removes a file or an empty directory; missing is not an error.
  virtual result<void> remove(const std::filesystem::path& p) = 0;
  // Atomic replace of `to` (POSIX rename).
  virtual result<void> rename(const std::filesystem::path& from,
                              const std::filesystem::path& to) = 0;
  // Names (not paths) of the entries of a directory, in no particular order.
  virtual result<std::vector<std::string>> list_dir(const std::filesystem::path& dir) = 0;
  virtual result<void> create_directories(const std::filesystem::path& dir) = 0;
  virtual result<bool> exists(const std::filesystem::path& p) = 0;
  // Makes creations, renames and removals in `dir` durable.
  virtual result<void> fsync_dir(const std::filesystem::path& dir) = 0;
};

// The real thing: open(2), pwrite(2), fdatasync(2), ...
class posix_file_system final : public file_system {
 public:
  result<std::shared_ptr<file>> open(const std::filesystem::path& p, open_mode mode) override;
  result<void> remove(const std::filesystem::path& p) override;
  result<void> rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  result<std::vector<std::string>> list_dir(const std::filesystem::path& dir) override;
  result<void> create_directories(const std::filesystem::path& dir) override;
  result<bool> exists(const std::filesystem::path& p) override;
  result<void> fsync_dir(const std::filesystem::path& dir) override;
};

// Wraps another file system and injects faults on command. Knobs apply to every file opened
// through it (before or after the knob is set) and are thread safe, since syncs run on
// flusher threads.
//
//   faulty_file_system fs(real);
//   fs.fail_syncs(1);           // the next fdatasync or fsync_dir fails with EIO
//   fs.disk_full_after(100);    // 100 more bytes fit, then writes fail with ENOSPC
//   fs.tear_next_write(10);     // the next write keeps its first 10 bytes, then fails (EIO)
class faulty_file_system final : public file_system {
 public:
  explicit faulty_file_system(file_system& inner);

  void fail_syncs(int n);
  void disk_full_after(uint64_t bytes);
  void clear_disk_full();
  void tear_next_write(size_t keep_bytes);
  void fail_opens(int n);  // the next n opens fail with ENOSPC (a segment roll on a full disk)
  uint64_t syncs() const;  // successful fdatasync + fsync_dir calls so far
  uint64_t bytes_written() const;

  result<std::shared_ptr<file>> open(const std::filesystem::path& p, open_mode mode) override;
  result<void> remove(const std::filesystem::path& p) override;
  result<void> rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  result<std::vector<std::string>> list_dir(const std::filesystem::path& dir) override;
  result<void> create_directories(const std::filesystem::path& dir) override;
  result<bool> exists(const std::filesystem::path& p) override;
  result<void> fsync_dir(const std::filesystem::path& dir) override;

  // Shared with the files it opened, which may outlive it.
  struct state {
    mutable std::mutex mutex;
    int failing_syncs = 0;
    bool disk_limited = false;
    uint64_t disk_room = 0;
    bool tear = false;
    size_t tear_keep = 0;
    int failing_opens = 0;
    uint64_t syncs = 0;
    uint64_t written = 0;
  };

 private:
  file_system& _inner;
  std::shared_ptr<state> _state;
};

}  // namespace tern::storage
