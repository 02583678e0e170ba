#pragma once
// Errors of the group coordinator.
//
// `errc` carries Kafka's own numeric error codes, so the Kafka handlers map it to the wire with
// wire_code() and nothing else; only the codes the coordinator can answer are listed.
// `decode_errc` is for bytes that cannot be decoded (consumer-protocol payloads, persisted
// records); those never reach the wire as such.

#include <cstdint>
#include <ostream>
#include <string_view>
#include <system_error>

namespace tern::group {

enum class errc : int16_t {
  none = 0,
  offset_metadata_too_large = 12,
  coordinator_not_available = 15,  // also: the persistence hook reported a failure
  not_coordinator = 16,            // the coordinator was unloaded with the request pending
  illegal_generation = 22,
  inconsistent_group_protocol = 23,
  invalid_group_id = 24,
  unknown_member_id = 25,
  invalid_session_timeout = 26,
  rebalance_in_progress = 27,
  non_empty_group = 68,
  group_id_not_found = 69,
  member_id_required = 79,
  group_max_size_reached = 81,
  fenced_instance_id = 82,
  group_subscribed_to_topic = 86,
  unstable_offset_commit = 88,
};

// The Kafka wire error code (the enum's value).
constexpr int16_t wire_code(errc e) { return static_cast<int16_t>(e); }

// Kafka's name for the code ("UNKNOWN_MEMBER_ID"), for logs and test output.
std::string_view error_name(errc e);

inline std::ostream& operator<<(std::ostream& o, errc e) {
  return o << error_name(e) << '(' << wire_code(e) << ')';
}

const std::error_category& group_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), group_category()}; }

enum class decode_errc {
  truncated = 1,        // the input ended inside a field
  corrupt,              // a length or count that cannot be right, trailing bytes, bad values
  unsupported_version,  // a value version this build does not know
  unknown_key_type,     // a record key of a type this build does not know
};

const std::error_category& decode_category();
inline std::error_code make_error_code(decode_errc e) {
  return {static_cast<int>(e), decode_category()};
}

}  // namespace tern::group

template <>
struct std::is_error_code_enum<tern::group::errc> : std::true_type {};
template <>
struct std::is_error_code_enum<tern::group::decode_errc> : std::true_type {};
