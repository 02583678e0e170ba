#include "storage/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>

namespace tern::storage {
namespace fs = std::filesystem;

namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

class posix_file final : public file {
 public:
  explicit posix_file(int fd) : _fd(fd) {}
  ~posix_file() override { ::close(_fd); }

  result<void> pwrite(bytes::byte_view data, uint64_t offset) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(_fd, data.data() + done, data.size() - done, off_t(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return last_error();
      }
      done += size_t(n);
    }
    return ok();
  }

  result<size_t> pread(std::span<uint8_t> out, uint64_t offset) override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(_fd, out.data() + done, out.size() - done, off_t(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return last_error();
      }
      if (n == 0) break;
      done += size_t(n);
    }
    return done;
  }

  result<void> fdatasync() override {
    // Only EINTR is retried. Any other failure goes back to the caller, never retried here:
    // the kernel may have dropped the dirty pages, so a later success would prove nothing.
    int rc;
    do rc = ::fdatasync(_fd);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) return last_error();
    return ok();
  }

  result<void> truncate(uint64_t size) override {
    if (::ftruncate(_fd, off_t(size)) < 0) return last_error();
    return ok();
  }

  result<uint64_t> size() override {
    struct stat st;
    if (::fstat(_fd, &st) < 0) return last_error();
    return uint64_t(st.st_size);
  }

  int fd() const override { return _fd; }

 private:
  int _fd;
};

}  // namespace

result<std::shared_ptr<file>> posix_file_system::open(const fs::path& p, open_mode mode) {
  int flags = O_RDWR | O_CLOEXEC;
  if (mode != open_mode::existing) flags |= O_CREAT;
  if (mode == open_mode::create_truncate) flags |= O_TRUNC;
  int fd;
  do fd = ::open(p.c_str(), flags, 0644);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return last_error();
  return std::shared_ptr<file>(std::make_shared<posix_file>(fd));
}

result<void> posix_file_system::remove(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
  return ec;
}

result<void> posix_file_system::rename(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) < 0) return last_error();
  return ok();
}

result<std::vector<std::string>> posix_file_system::list_dir(const fs::path& dir) {
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  if (ec) return ec;
  return names;
}

result<void> posix_file_system::create_directories(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  return ec;
}

result<bool> posix_file_system::exists(const fs::path& p) {
  std::error_code ec;
  bool e = fs::exists(p, ec);
  if (ec) return ec;
  return e;
}

result<void> posix_file_system::fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return last_error();
  int rc = ::fsync(fd);
  std::error_code ec = rc < 0 ? last_error() : std::error_code{};
  ::close(fd);
  return ec;
}

}  // namespace tern::storage
