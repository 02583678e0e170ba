#pragma once
// One AMQP connection (internal to src/amqp): the socket, the handshake, heartbeats, the
// write path and the channels. Lives on the shard that accepted the socket; every member is
// used on that shard only, except where noted.
//
//   reader:  protocol header -> frames (codec) -> channel 0 (connection class) or channels
//   writer:  frames are appended to one output buffer, written by a single write loop
//   timers:  heartbeat send (every heartbeat/2 of silence), receive check (2 heartbeats of
//            silence close the connection), handshake deadline

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>

#include "amqp/codec/method.h"
#include "amqp/server.h"
#include "bytes/buffer.h"

namespace tern::amqp {

class channel;

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(server& srv, net::tcp::socket socket);
  ~connection();

  net::awaitable<void> run();

  // ---- for channels (this shard) ----
  broker::queue_service& queues() { return _server.queues(); }
  const server_config& config() const { return _server.config(); }
  const std::string& vhost() const { return _vhost; }
  const std::string& user() const { return _user; }
  uint64_t id() const { return _id; }
  uint32_t frame_max() const { return _frame_max; }
  unsigned shard() const { return _shard; }
  net::asio::any_io_executor executor() { return _socket.get_executor(); }

  // Appends frames to the output and makes sure the writer runs.
  void send(const bytes::buffer& frames);
  bytes::buffer& output() { return _out; }  // append, then call flush()
  void flush();
  // Closes the connection with an error (connection.close, then waits for close-ok).
  void close_with(const error& e);
  // Broker shutdown: connection.close with `e`, every channel torn down now (held deliveries
  // go back to their queues), and the socket closed soon after without waiting for close-ok.
  void force_close(const error& e);
  // Bytes queued for the socket but not yet written; read by consumer sinks on other
  // shards (hence atomic) to stop deliveries when the client does not keep up.
  std::atomic<int64_t>& pending_output() { return *_pending_output; }
  std::shared_ptr<std::atomic<int64_t>> pending_output_ptr() { return _pending_output; }
  // What the client announced in connection.start-ok's capabilities.
  bool consumer_cancel_notify() const { return _cancel_notify; }
  // Called when the output drains below the threshold: channels poke their blocked queues.
  void on_output_drained();

 private:
  net::awaitable<void> reader();
  net::awaitable<void> writer();
  net::awaitable<void> heartbeats();
  net::awaitable<bool> read_more();
  // Returns false when the connection must end.
  net::awaitable<bool> handle_frame(const frame& f);
  net::awaitable<bool> handle_connection_method(method m);
  bool authenticate(const connection_start_ok& ok, error& e);
  void shutdown_socket();
  void teardown();

  server& _server;
  net::tcp::socket _socket;
  std::string _peer;
  bool _loopback = false;
  uint64_t _id;
  unsigned _shard;

  enum class state { start, tune, open, running, closing, closed };
  state _state = state::start;
  std::string _vhost;
  std::string _user;
  uint32_t _frame_max = frame_min_size;
  uint16_t _channel_max = 0;
  uint16_t _heartbeat_s = 0;

  bytes::buffer _in;
  size_t _in_start = 0;  // consumed bytes at the front of _in
  bytes::buffer _out;
  bool _writer_running = false;
  std::unique_ptr<net::asio::steady_timer> _writer_wake;
  std::shared_ptr<std::atomic<int64_t>> _pending_output =
      std::make_shared<std::atomic<int64_t>>(0);
  size_t _accounted_out = 0;  // bytes of _out already counted in _pending_output
  bool _cancel_notify = false;
  int64_t _last_received_ms = 0;
  int64_t _last_sent_ms = 0;
  std::unique_ptr<net::asio::steady_timer> _heartbeat_timer;

  std::unordered_map<uint16_t, std::shared_ptr<channel>> _channels;
  bool _torn_down = false;
};

}  // namespace tern::amqp
