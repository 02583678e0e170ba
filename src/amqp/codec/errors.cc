#include "amqp/codec/errors.h"

namespace tern::amqp {

std::string_view reply_code_name(reply_code c) {
  switch (c) {
    case reply_code::success:
      return "REPLY_SUCCESS";
    case reply_code::content_too_large:
      return "CONTENT_TOO_LARGE";
    case reply_code::no_route:
      return "NO_ROUTE";
    case reply_code::no_consumers:
      return "NO_CONSUMERS";
    case reply_code::connection_forced:
      return "CONNECTION_FORCED";
    case reply_code::invalid_path:
      return "INVALID_PATH";
    case reply_code::access_refused:
      return "ACCESS_REFUSED";
    case reply_code::not_found:
      return "NOT_FOUND";
    case reply_code::resource_locked:
      return "RESOURCE_LOCKED";
    case reply_code::precondition_failed:
      return "PRECONDITION_FAILED";
    case reply_code::frame_error:
      return "FRAME_ERROR";
    case reply_code::syntax_error:
      return "SYNTAX_ERROR";
    case reply_code::command_invalid:
      return "COMMAND_INVALID";
    case reply_code::channel_error:
      return "CHANNEL_ERROR";
    case reply_code::unexpected_frame:
      return "UNEXPECTED_FRAME";
    case reply_code::resource_error:
      return "RESOURCE_ERROR";
    case reply_code::not_allowed:
      return "NOT_ALLOWED";
    case reply_code::not_implemented:
      return "NOT_IMPLEMENTED";
    case reply_code::internal_error:
      return "INTERNAL_ERROR";
  }
  return "UNKNOWN";
}

bool is_hard_error(reply_code c) {
  switch (c) {
    case reply_code::success:
    case reply_code::content_too_large:
    case reply_code::no_route:
    case reply_code::no_consumers:
    case reply_code::access_refused:
    case reply_code::not_found:
    case reply_code::resource_locked:
    case reply_code::precondition_failed:
      return false;
    case reply_code::connection_forced:
    case reply_code::invalid_path:
      return true;
    default:
      return uint16_t(c) >= 500;
  }
}

std::string reply_text(const error& e) {
  std::string out(reply_code_name(e.code));
  if (!e.text.empty()) {
    out += " - ";
    out += e.text;
  }
  if (out.size() > 255) out.resize(255);
  return out;
}

}  // namespace tern::amqp
