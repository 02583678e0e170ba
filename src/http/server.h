#pragma once
// The HTTP listener's connections: one coroutine per accepted socket, on the shard that
// accepted it (net::listener). Requests on a connection are answered one at a time, in
// order (HTTP/1.1 keep-alive; a pipelining client just waits for each answer).
//
//   read -> request_parser (bounded, sans-I/O) -> router.dispatch -> write_response
//
// A request the parser refuses gets its 4xx/5xx (JSON body) with "Connection: close", then
// the connection is closed. A connection with no request for idle_timeout_ms, or whose
// started request is not complete within request_timeout_ms, is closed.
//
// Lifetime: the server outlives its listener and is stopped (stop()) before what its
// router's handlers use goes away.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "http/codec/parser.h"
#include "http/router.h"
#include "net/asio.h"

namespace tern::http {

struct server_config {
  parser_limits limits;
  int64_t idle_timeout_ms = 60'000;
  int64_t request_timeout_ms = 30'000;
};

class connection;

class server {
 public:
  // `routes` must outlive the server.
  server(const router& routes, server_config cfg) : _routes(routes), _cfg(cfg) {}
  ~server();

  // The connection handler given to net::listener.
  net::awaitable<void> serve(net::tcp::socket socket);

  // Closes every connection (each on its own shard); connections accepted afterwards are
  // closed at once. Any thread. A request whose handler is running finishes first.
  void stop();

  const router& routes() const { return _routes; }
  const server_config& config() const { return _cfg; }

 private:
  friend class connection;
  void forget(uint64_t id);

  const router& _routes;
  server_config _cfg;
  std::mutex _mutex;  // guards the members below (connections live on every shard)
  std::map<uint64_t, std::weak_ptr<connection>> _connections;
  uint64_t _next_id = 1;
  bool _stopping = false;
};

}  // namespace tern::http
