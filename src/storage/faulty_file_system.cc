#include <cerrno>

#include "storage/file.h"

namespace tern::storage {
namespace fs = std::filesystem;

namespace {

std::error_code errno_code(int e) { return {e, std::generic_category()}; }

// Takes one failure from a countdown knob (under the state's mutex).
bool take(int& countdown) {
  if (countdown <= 0) return false;
  --countdown;
  return true;
}

class faulty_file final : public file {
 public:
  faulty_file(std::shared_ptr<file> inner, std::shared_ptr<faulty_file_system::state> s)
      : _inner(std::move(inner)), _state(std::move(s)) {}

  result<void> pwrite(bytes::byte_view data, uint64_t offset) override {
    // Decide under the lock how much of this write reaches the disk and how it fails.
    size_t keep = data.size();
    std::error_code fail;
    {
      std::lock_guard lock(_state->mutex);
      if (_state->tear) {
        _state->tear = false;
        keep = std::min(keep, _state->tear_keep);
        fail = errno_code(EIO);
      }
      if (_state->disk_limited && keep > _state->disk_room) {
        keep = size_t(_state->disk_room);
        fail = errno_code(ENOSPC);
      }
      if (_state->disk_limited) _state->disk_room -= keep;
      _state->written += keep;
    }
    if (keep > 0) TERN_TRY(_inner->pwrite(data.first(keep), offset));
    if (fail) return fail;
    return ok();
  }

  result<size_t> pread(std::span<uint8_t> out, uint64_t offset) override {
    return _inner->pread(out, offset);
  }

  result<void> fdatasync() override {
    {
      std::lock_guard lock(_state->mutex);
      if (take(_state->failing_syncs)) return errno_code(EIO);
      ++_state->syncs;
    }
    return _inner->fdatasync();
  }

  result<void> truncate(uint64_t size) override { return _inner->truncate(size); }
  result<uint64_t> size() override { return _inner->size(); }
  int fd() const override { return _inner->fd(); }

 private:
  std::shared_ptr<file> _inner;
  std::shared_ptr<faulty_file_system::state> _state;
};

}  // namespace

faulty_file_system::faulty_file_system(file_system& inner)
    : _inner(inner), _state(std::make_shared<state>()) {}

void faulty_file_system::fail_syncs(int n) {
  std::lock_guard lock(_state->mutex);
  _state->failing_syncs = n;
}

void faulty_file_system::disk_full_after(uint64_t bytes) {
  std::lock_guard lock(_state->mutex);
  _state->disk_limited = true;
  _state->disk_room = bytes;
}

void faulty_file_system::clear_disk_full() {
  std::lock_guard lock(_state->mutex);
  _state->disk_limited = false;
}

void faulty_file_system::tear_next_write(size_t keep_bytes) {
  std::lock_guard lock(_state->mutex);
  _state->tear = true;
  _state->tear_keep = keep_bytes;
}

void faulty_file_system::fail_opens(int n) {
  std::lock_guard lock(_state->mutex);
  _state->failing_opens = n;
}

uint64_t faulty_file_system::syncs() const {
  std::lock_guard lock(_state->mutex);
  return _state->syncs;
}

uint64_t faulty_file_system::bytes_written() const {
  std::lock_guard lock(_state->mutex);
  return _state->written;
}

result<std::shared_ptr<file>> faulty_file_system::open(const fs::path& p, open_mode mode) {
  {
    std::lock_guard lock(_state->mutex);
    if (take(_state->failing_opens)) return errno_code(ENOSPC);
  }
  auto f = _inner.open(p, mode);
  if (!f) return f.error();
  return std::shared_ptr<file>(std::make_shared<faulty_file>(std::move(*f), _state));
}

result<void> faulty_file_system::remove(const fs::path& p) { return _inner.remove(p); }

result<void> faulty_file_system::rename(const fs::path& from, const fs::path& to) {
  return _inner.rename(from, to);
}

result<std::vector<std::string>> faulty_file_system::list_dir(const fs::path& dir) {
  return _inner.list_dir(dir);
}

result<void> faulty_file_system::create_directories(const fs::path& dir) {
  return _inner.create_directories(dir);
}

result<bool> faulty_file_system::exists(const fs::path& p) { return _inner.exists(p); }

result<void> faulty_file_system::fsync_dir(const fs::path& dir) {
  {
    std::lock_guard lock(_state->mutex);
    if (take(_state->failing_syncs)) return errno_code(EIO);
    ++_state->syncs;
  }
  return _inner.fsync_dir(dir);
}

}  // namespace tern::storage
