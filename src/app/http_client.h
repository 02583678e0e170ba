#pragma once
// A blocking HTTP/1.1 client for the `tern queue` and `tern vhost` commands: one request per
// connection ("Connection: close"), over blocking_socket, with http/codec doing the bytes.
// For the command line only: it blocks the calling thread.

#include <chrono>
#include <string>
#include <string_view>

namespace tern::app {

struct http_reply {
  int status = 0;
  std::string body;
};

// Sends `method target` (with `body` as JSON when not empty) to HOST:PORT and reads the whole
// response within `timeout`. Returns "" and fills `reply`, or one line saying what went wrong
// (connect refused, timeout, a response that is not HTTP).
std::string http_request(std::string_view host_port, std::string_view method,
                         std::string_view target, std::string_view body,
                         std::chrono::milliseconds timeout, http_reply& reply);

}  // namespace tern::app
