#pragma once
// Serialising HTTP/1.1 messages: the server's responses and the command-line client's
// requests. Content-Length is always sent (no chunked encoding), so a reader never has to
// wait for the connection to close to know where a body ends.

#include <string>
#include <string_view>

#include "http/codec/message.h"

namespace tern::http {

// Status line, the response's headers, Content-Length (except for 1xx, 204 and 304, which
// have no body), "Connection: close" unless keep_alive, the empty line and the body. CR and
// LF in header values are replaced by spaces: a value can never start a new field.
std::string write_response(const response& r, bool keep_alive);

// A request with an origin-form target ("/api/queues"), a Host header and, when `body` is
// not empty or the method usually has one, Content-Length.
std::string write_request(std::string_view method, std::string_view target, std::string_view host,
                          const header_fields& headers, std::string_view body);

}  // namespace tern::http
