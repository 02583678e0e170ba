#include "group/errors.h"

#include <string>

namespace tern::group {

std::string_view error_name(errc e) {
  switch (e) {
    case errc::none:
      return "NONE";
    case errc::offset_metadata_too_large:
      return "OFFSET_METADATA_TOO_LARGE";
    case errc::coordinator_not_available:
      return "COORDINATOR_NOT_AVAILABLE";
    case errc::not_coordinator:
      return "NOT_COORDINATOR";
    case errc::illegal_generation:
      return "ILLEGAL_GENERATION";
    case errc::inconsistent_group_protocol:
      return "INCONSISTENT_GROUP_PROTOCOL";
    case errc::invalid_group_id:
      return "INVALID_GROUP_ID";
    case errc::unknown_member_id:
      return "UNKNOWN_MEMBER_ID";
    case errc::invalid_session_timeout:
      return "INVALID_SESSION_TIMEOUT";
    case errc::rebalance_in_progress:
      return "REBALANCE_IN_PROGRESS";
    case errc::non_empty_group:
      return "NON_EMPTY_GROUP";
    case errc::group_id_not_found:
      return "GROUP_ID_NOT_FOUND";
    case errc::member_id_required:
      return "MEMBER_ID_REQUIRED";
    case errc::group_max_size_reached:
      return "GROUP_MAX_SIZE_REACHED";
    case errc::fenced_instance_id:
      return "FENCED_INSTANCE_ID";
    case errc::group_subscribed_to_topic:
      return "GROUP_SUBSCRIBED_TO_TOPIC";
    case errc::unstable_offset_commit:
      return "UNSTABLE_OFFSET_COMMIT";
  }
  return "UNKNOWN_SERVER_ERROR";
}

namespace {
class group_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "group"; }
  std::string message(int c) const override {
    return std::string(error_name(static_cast<errc>(c)));
  }
};

class decode_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "group.decode"; }
  std::string message(int c) const override {
    switch (static_cast<decode_errc>(c)) {
      case decode_errc::truncated:
        return "truncated input";
      case decode_errc::corrupt:
        return "corrupt input";
      case decode_errc::unsupported_version:
        return "unsupported version";
      case decode_errc::unknown_key_type:
        return "unknown record key type";
    }
    return "unknown decode error";
  }
};
}  // namespace

const std::error_category& group_category() {
  static group_category_impl c;
  return c;
}

const std::error_category& decode_category() {
  static decode_category_impl c;
  return c;
}

}  // namespace tern::group
