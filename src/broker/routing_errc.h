#pragma once
// Errors of the AMQP-style routing table (routing_table.h): a neutral code plus the text a
// client is shown. The AMQP layer maps each code to its reply code in one place:
//
//   routing_errc          AMQP 0-9-1 reply (all channel errors)
//   not_found             404 NOT_FOUND
//   access_refused        403 ACCESS_REFUSED
//   precondition_failed   406 PRECONDITION_FAILED
//   corrupt_metadata      (never on the wire: load_json refused a file)
//
// The messages are RabbitMQ's, e.g. "no exchange 'x' in vhost '/'", so that clients and
// people who grep for them see what they would see with RabbitMQ (AMQP prefixes the code
// name: "NOT_FOUND - no exchange 'x' in vhost '/'").

#include <string>
#include <system_error>
#include <utility>

namespace tern::broker {

enum class routing_errc {
  not_found = 1,
  access_refused,
  precondition_failed,
  corrupt_metadata,
};

const std::error_category& routing_category();
inline std::error_code make_error_code(routing_errc e) {
  return {static_cast<int>(e), routing_category()};
}

// Success, or a routing_errc with its message. Cheap when ok (an empty string).
class [[nodiscard]] routing_status {
 public:
  routing_status() = default;
  routing_status(routing_errc code, std::string message)
      : _code(static_cast<int>(code)), _message(std::move(message)) {}

  bool ok() const { return _code == 0; }
  explicit operator bool() const { return ok(); }
  // Only meaningful when !ok().
  routing_errc code() const { return static_cast<routing_errc>(_code); }
  const std::string& message() const { return _message; }
  // For result<T>: {} when ok.
  std::error_code error_code() const { return ok() ? std::error_code{} : make_error_code(code()); }

 private:
  int _code = 0;
  std::string _message;
};

}  // namespace tern::broker

template <>
struct std::is_error_code_enum<tern::broker::routing_errc> : true_type {};
