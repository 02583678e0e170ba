#pragma once
// A TCP listener on every shard at once: each shard has its own acceptor bound to the same
// address with SO_REUSEPORT, so the kernel spreads connections over the shards and a
// connection lives its whole life on the shard that accepted it.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/asio.h"
#include "net/shard.h"

namespace tern::net {

// Parses "host:port" (host may be a name such as localhost, or [v6]).
result<tcp::endpoint> parse_endpoint(const std::string& host_port);

class listener {
 public:
  using handler = std::function<awaitable<void>(tcp::socket)>;

  // Binds on every shard and starts accepting; `on_connection` runs as a coroutine on the
  // accepting shard. Port 0 picks a free port (shared by all shards). Must run on a shard.
  static awaitable<result<std::shared_ptr<listener>>> start(shard_set& shards, tcp::endpoint at,
                                                            std::string name, handler on_connection);

  tcp::endpoint local_endpoint() const { return _bound; }

  // Stops accepting on every shard (connections already accepted are not touched).
  awaitable<void> close();

 private:
  listener(shard_set& shards, std::string name) : _shards(shards), _name(std::move(name)) {}
  shard_set& _shards;
  std::string _name;
  tcp::endpoint _bound;
  std::vector<std::unique_ptr<tcp::acceptor>> _acceptors;  // [shard], used only on that shard
};

}  // namespace tern::net
