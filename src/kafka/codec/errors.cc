#include "kafka/codec/errors.h"

#include <string>

namespace tern::kafka {
namespace {

class codec_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kafka.codec"; }
  std::string message(int ev) const override {
    switch (codec_errc(ev)) {
      case codec_errc::truncated:
        return "truncated or malformed input";
      case codec_errc::invalid_length:
        return "invalid negative length";
      case codec_errc::unexpected_null:
        return "null where the schema allows none";
      case codec_errc::trailing_bytes:
        return "trailing bytes after the message";
      case codec_errc::unsupported_version:
        return "unsupported API version";
      case codec_errc::unsupported_api:
        return "unsupported API key";
      case codec_errc::invalid_tagged_field:
        return "tagged field does not match its size";
    }
    return "unknown kafka codec error";
  }
};

}  // namespace

const std::error_category& codec_category() {
  static const codec_category_impl instance;
  return instance;
}

}  // namespace tern::kafka
