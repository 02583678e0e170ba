#pragma once
// HTTP/1.1 messages as plain structs (RFC 9110/9112), shared by the request parser, the
// response writer and the command-line client's response parser. No I/O here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tern::http {

// Header fields in arrival order; names compared case-insensitively (RFC 9110 5.1).
struct header_fields {
  std::vector<std::pair<std::string, std::string>> fields;

  // The first value of `name`, or nullptr.
  const std::string* find(std::string_view name) const;
  void add(std::string name, std::string value) {
    fields.emplace_back(std::move(name), std::move(value));
  }
  size_t count(std::string_view name) const;
};

bool iequals(std::string_view a, std::string_view b);
// Whether the comma-separated list `value` (Connection, Transfer-Encoding) holds `token`,
// case-insensitively.
bool has_token(std::string_view value, std::string_view token);

struct request {
  std::string method;     // case-sensitive token, "GET"
  std::string target;     // as sent: origin-form "/api/queues/%2F?x=1"
  std::string path;       // target before '?', still %-encoded (segments split before decoding)
  std::string query;      // after '?', without it; "" if none
  int version_minor = 1;  // HTTP/1.<minor>; only 1.0 and 1.1 are accepted
  header_fields headers;
  std::string body;
  bool keep_alive = true;         // HTTP/1.1 unless "Connection: close"; 1.0 only if asked
  bool expects_continue = false;  // "Expect: 100-continue"
};

struct response {
  int status = 200;
  header_fields headers;  // Content-Length and Connection are added by the writer
  std::string body;
};

// "OK", "Not Found", ...; "Unknown" for codes without a phrase here.
std::string_view reason_phrase(int status);

}  // namespace tern::http
