#pragma once
// The AMQP 0-9-1 listener's side: one `connection` per accepted socket, on the shard that
// accepted it, speaking to the broker's queue_service (RabbitMQ's model). The codec
// (amqp/codec) turns bytes into frames and methods; connection.cc drives the handshake,
// heartbeats and channel demultiplexing; channel.cc handles the methods of one channel.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "broker/queue_service.h"
#include "net/asio.h"

namespace tern::amqp {

struct server_config {
  uint32_t frame_max = 131072;  // offered in connection.tune (RabbitMQ's default)
  uint16_t channel_max = 2047;
  uint16_t heartbeat_s = 60;  // offered; the client may lower it (0 = off)
  uint64_t max_message_bytes = 128ull << 20;  // larger content: 406 / connection error
  int64_t handshake_timeout_ms = 10'000;
  // user -> password. The "guest" user may only connect from loopback, as in RabbitMQ.
  std::map<std::string, std::string> users{{"guest", "guest"}};
  std::string product = "Tern";
  std::string version = "0.1.0";
};

class connection;

class server {
 public:
  // Registers stop() to run at the start of queues.stop(), so that every connection is closed
  // while the queues can still take back what its channels hold.
  server(broker::queue_service& queues, server_config cfg);
  ~server();
  // The connection handler given to net::listener.
  net::awaitable<void> serve(net::tcp::socket socket);
  const server_config& config() const { return _cfg; }
  broker::queue_service& queues() { return _queues; }

  // Shutdown: closes every connection (connection.close 320 CONNECTION_FORCED, as RabbitMQ
  // does) and waits (up to a few seconds) until each has ended and returned its unacked
  // deliveries; connections accepted from now on are closed at once. Any shard.
  net::awaitable<void> stop();

 private:
  broker::queue_service& _queues;
  server_config _cfg;
  std::mutex _mutex;  // guards _connections and _stopping (connections live on every shard)
  std::map<uint64_t, std::weak_ptr<connection>> _connections;
  bool _stopping = false;
};

}  // namespace tern::amqp
