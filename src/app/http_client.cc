#include "app/http_client.h"

#include <fmt/format.h>

#include "app/blocking_socket.h"
#include "http/codec/parser.h"
#include "http/codec/writer.h"

namespace tern::app {

std::string http_request(std::string_view host_port, std::string_view method,
                         std::string_view target, std::string_view body,
                         std::chrono::milliseconds timeout, http_reply& reply) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  blocking_socket sock;
  if (std::string e = sock.connect(host_port, timeout); !e.empty()) return e;
  http::header_fields headers;
  headers.add("Connection", "close");
  headers.add("Accept", "application/json");
  headers.add("User-Agent", "tern-cli");
  if (!body.empty()) headers.add("Content-Type", "application/json");
  if (std::string e =
          sock.send_all(http::write_request(method, target, host_port, headers, body), deadline);
      !e.empty())
    return e;
  http::response_parser parser;
  char buf[16 * 1024];
  while (!parser.complete() && !parser.failed()) {
    size_t got = 0;
    if (std::string e = sock.recv_some(buf, sizeof buf, got, deadline); !e.empty()) return e;
    if (got == 0) {
      parser.finish();
      break;
    }
    parser.feed(std::string_view(buf, got));
  }
  if (parser.failed())
    return fmt::format("bad HTTP response from {}: {}", host_port, parser.error());
  reply.status = parser.get().status;
  reply.body = parser.get().body;
  return {};
}

}  // namespace tern::app
