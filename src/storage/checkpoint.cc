#include "storage/checkpoint.h"

#include <array>
#include <cerrno>

#include "bytes/crc32c.h"

namespace tern::storage {

result<std::optional<int64_t>> read_checkpoint(file_system& fs, const std::filesystem::path& p) {
  auto f = fs.open(p, open_mode::existing);
  if (!f) {
    if (f.error() == std::errc::no_such_file_or_directory) return std::optional<int64_t>();
    return f.error();
  }
  std::array<uint8_t, kCheckpointSize + 1> buf{};  // +1 to notice a file that is too long
  auto n = (*f)->pread(buf, 0);
  if (!n) return n.error();
  if (*n != kCheckpointSize || bytes::load_be<uint32_t>(buf.data()) != kCheckpointMagic ||
      bytes::load_be<uint32_t>(buf.data() + 12) != bytes::crc32c(buf.data(), 12))
    return std::optional<int64_t>();
  return std::optional<int64_t>(bytes::load_be<int64_t>(buf.data() + 4));
}

result<void> write_checkpoint(file_system& fs, const std::filesystem::path& p, int64_t value) {
  std::array<uint8_t, kCheckpointSize> buf;
  bytes::store_be<uint32_t>(buf.data(), kCheckpointMagic);
  bytes::store_be<int64_t>(buf.data() + 4, value);
  bytes::store_be<uint32_t>(buf.data() + 12, bytes::crc32c(buf.data(), 12));
  auto tmp = p;
  tmp += ".tmp";
  {
    auto f = fs.open(tmp, open_mode::create_truncate);
    if (!f) return f.error();
    TERN_TRY((*f)->pwrite(buf, 0));
    TERN_TRY((*f)->fdatasync());
  }
  TERN_TRY(fs.rename(tmp, p));
  return fs.fsync_dir(p.parent_path());
}

}  // namespace tern::storage
