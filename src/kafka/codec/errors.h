#pragma once
// Errors of the Kafka wire codec: why a frame could not be decoded. Every one of them means
// the bytes from the client are malformed (or of a version Tern does not speak); the handler
// layer maps them to a wire error or closes the connection, and logs the category message.

#include <system_error>

namespace tern::kafka {

enum class codec_errc {
  truncated = 1,         // input ended inside a field, or a varint was malformed
  invalid_length,        // a negative length other than -1 (null)
  unexpected_null,       // null in a field or version that cannot be null
  trailing_bytes,        // the message was complete before its frame ended
  unsupported_version,   // known API, version outside the described range
  unsupported_api,       // API key that Tern does not describe
  invalid_tagged_field,  // a known tagged field whose bytes do not match its declared size
};

const std::error_category& codec_category();

inline std::error_code make_error_code(codec_errc e) { return {int(e), codec_category()}; }

}  // namespace tern::kafka

template <>
struct std::is_error_code_enum<tern::kafka::codec_errc> : std::true_type {};
