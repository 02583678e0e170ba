#include "broker/producer_id_allocator.h"

#include <limits>

#include "base/check.h"
#include "base/logger.h"
#include "storage/checkpoint.h"
#include "storage/errc.h"

namespace tern::broker {

result<producer_id_allocator> producer_id_allocator::open(storage::file_system& fs,
                                                          std::filesystem::path file,
                                                          int64_t block_size) {
  TERN_CHECK(block_size > 0);
  auto value = storage::read_checkpoint(fs, file);
  if (!value) return storage::to_storage_error(value.error());
  int64_t start = 0;
  if (*value) {
    start = **value;
  } else {
    // read_checkpoint reads a corrupt file as absent; here absent must mean "never written".
    auto exists = fs.exists(file);
    if (!exists) return storage::to_storage_error(exists.error());
    if (*exists) start = -1;
  }
  if (start < 0) {
    module_logger("broker").error(
        "producer id file {} is corrupt; refusing to hand out producer ids that may be in use",
        file.string());
    return storage::errc::io_error;
  }
  return producer_id_allocator(fs, std::move(file), block_size, start);
}

result<producer_id> producer_id_allocator::allocate() {
  if (_next == _block_end) {
    if (_block_end > std::numeric_limits<int64_t>::max() - _block_size)
      return std::make_error_code(std::errc::value_too_large);
    const int64_t end = _block_end + _block_size;
    if (auto r = storage::write_checkpoint(*_fs, _file, end); !r) {
      module_logger("broker").warn("cannot reserve producer ids up to {} in {}: {}", end,
                                   _file.string(), r.error().message());
      return storage::to_storage_error(r.error());
    }
    _block_end = end;
  }
  return producer_id{_next++};
}

}  // namespace tern::broker
