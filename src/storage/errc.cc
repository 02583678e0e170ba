#include "storage/errc.h"

#include <cerrno>
#include <string>

namespace tern::storage {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "storage"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::corrupt_batch:
        return "corrupt record batch";
      case errc::crc_mismatch:
        return "record batch CRC mismatch";
      case errc::record_count_mismatch:
        return "record count does not match the batch header";
      case errc::unsupported_magic:
        return "unsupported record batch magic (only v2)";
      case errc::batch_too_large:
        return "record batch too large";
      case errc::invalid_timestamp:
        return "invalid record timestamp";
      case errc::compression_error:
        return "cannot decompress record batch";
      case errc::unsupported_compression:
        return "unsupported compression codec";
      case errc::invalid_record:
        return "invalid record";
      case errc::offset_out_of_range:
        return "offset out of range";
      case errc::io_error:
        return "storage I/O error";
      case errc::disk_full:
        return "disk full";
      case errc::log_closed:
        return "log closed";
      case errc::null_key:
        return "a compacted topic cannot accept a record without a key";
      case errc::compaction_canceled:
        return "compaction canceled";
    }
    return "unknown storage error";
  }
};
}  // namespace

const std::error_category& storage_category() {
  static category c;
  return c;
}

std::error_code to_storage_error(std::error_code ec) {
  if (!ec || ec.category() == storage_category()) return ec;
  if (ec == std::errc::no_space_on_device ||
      ec == std::error_condition(EDQUOT, std::generic_category()))
    return errc::disk_full;
  return errc::io_error;
}

}  // namespace tern::storage
