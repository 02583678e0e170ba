#pragma once
// The Kafka listener's connections. One `connection` per accepted socket, living on the shard
// that accepted it:
//
//   reader: size prefix -> bounds check -> memory budget -> frame -> header -> handler (spawned)
//   writer: responses in request order (Kafka requires it), owned bytes by writev, record
//           data by sendfile; releases each request's budget once its response is written.
//
// Requests are pipelined: a connection may have many in flight (bounded by its memory
// budget), but responses leave in the order the requests came in, and produce batches reach
// their partitions in that order too (see net/gather.h for why).
//
// Bad input: a size prefix that is negative or above max_request_bytes, a header that cannot
// be read, an unknown API or an unsupported version (other than ApiVersions, which answers
// UNSUPPORTED_VERSION) closes the connection with one log line. A request that does not
// arrive whole within request_timeout_ms (slow-loris) closes it too.

#include <memory>
#include <string>

#include "broker/broker.h"
#include "net/asio.h"
#include "net/budget.h"

namespace tern::kafka {

struct server_config {
  uint64_t max_request_bytes = 100 << 20;
  int64_t connection_memory_bytes = 64 << 20;
  int64_t request_timeout_ms = 30'000;
  int64_t idle_timeout_ms = 600'000;
  std::string advertised_host = "127.0.0.1";
  int32_t advertised_port = 9092;
  std::string cluster_id = "tern";
};

class group_service;

class server {
 public:
  server(broker::broker& b, group_service& groups, server_config cfg, net::global_budget& budget)
      : _broker(b), _groups(groups), _cfg(std::move(cfg)), _budget(budget) {}

  // The connection handler given to net::listener.
  net::awaitable<void> serve(net::tcp::socket socket);

  server_config& config() { return _cfg; }
  broker::broker& broker() { return _broker; }
  group_service& groups() { return _groups; }

 private:
  broker::broker& _broker;
  group_service& _groups;
  server_config _cfg;
  net::global_budget& _budget;
};

}  // namespace tern::kafka
