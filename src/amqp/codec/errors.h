#pragma once
// AMQP reply codes, the error that carries one to connection.close or channel.close, and
// outcome<T>, the value-or-error every decoder of this codec returns.
//
// Which code a decoding failure gets (README.md explains the choices):
//   501 FRAME_ERROR     the bytes cannot be decoded: a frame too large, a bad frame-end, an
//                       unknown frame type, method arguments or properties that end early or
//                       leave bytes over (RabbitMQ's "cannot decode" for method fields).
//   502 SYNTAX_ERROR    the bytes decode but hold an illegal value: an unknown field-table type
//                       tag, tables nested deeper than max_table_depth, unknown property flags.
//   505 UNEXPECTED_FRAME a content header of a class other than basic, or with weight != 0.
//   540 NOT_IMPLEMENTED an unknown class or method id.
// All of these are hard errors: the connection is closed.

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace tern::amqp {

// The spec's reply codes (its "constants"); soft errors close a channel, hard errors the
// connection.
enum class reply_code : uint16_t {
  success = 200,
  content_too_large = 311,    // soft
  no_route = 312,             // soft (basic.return of a mandatory publish)
  no_consumers = 313,         // soft (basic.return of an immediate publish)
  connection_forced = 320,    // hard: an operator closed the connection
  invalid_path = 402,         // hard: unknown virtual host
  access_refused = 403,       // soft
  not_found = 404,            // soft
  resource_locked = 405,      // soft
  precondition_failed = 406,  // soft
  frame_error = 501,
  syntax_error = 502,
  command_invalid = 503,
  channel_error = 504,
  unexpected_frame = 505,
  resource_error = 506,
  not_allowed = 530,
  not_implemented = 540,
  internal_error = 541,
};

// "NOT_FOUND", "FRAME_ERROR", ... as RabbitMQ writes them in reply texts; "UNKNOWN" for a code
// the spec does not name.
std::string_view reply_code_name(reply_code c);

// True for the codes the spec marks hard-error (and for unknown codes >= 500): they close the
// connection, not just the channel.
bool is_hard_error(reply_code c);

// Why a connection or channel is being closed: what connection.close and channel.close carry.
// class_id/method_id name the method that caused it (0/0 when none, e.g. a bad frame).
struct error {
  reply_code code = reply_code::internal_error;
  std::string text;  // the explanation alone, without the code name (see reply_text)
  uint16_t class_id = 0;
  uint16_t method_id = 0;

  bool is_hard() const { return is_hard_error(code); }
  bool operator==(const error&) const = default;
};

// The reply-text RabbitMQ sends: "NOT_FOUND - no queue 'q' in vhost '/'", cut to the 255
// bytes a shortstr can carry.
std::string reply_text(const error& e);

// A value or an amqp::error. Decoders return it instead of throwing (STYLE.md habit 5).
//
//   outcome<method> m = decode_method(payload);
//   if (!m) return close_connection(m.error());
template <class T>
class [[nodiscard]] outcome {
 public:
  outcome(const T& v) : _v(std::in_place_index<0>, v) {}                // NOLINT: implicit
  outcome(T&& v) : _v(std::in_place_index<0>, std::move(v)) {}          // NOLINT
  outcome(amqp::error e) : _v(std::in_place_index<1>, std::move(e)) {}  // NOLINT

  bool has_value() const { return _v.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(_v); }
  const T& value() const& { return std::get<0>(_v); }
  T&& value() && { return std::get<0>(std::move(_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Only when !has_value().
  const amqp::error& error() const& { return std::get<1>(_v); }
  amqp::error&& error() && { return std::get<1>(std::move(_v)); }

 private:
  std::variant<T, amqp::error> _v;
};

}  // namespace tern::amqp
