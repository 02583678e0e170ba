#include "http/server.h"

#include <chrono>
#include <string>

#include "base/logger.h"
#include "http/codec/writer.h"
#include "http/json.h"

namespace tern::http {
namespace {

using clock = std::chrono::steady_clock;
spdlog::logger& log() { return module_logger("http"); }

// The "error" of a parser refusal's JSON body.
const char* error_name(int status) {
  switch (status) {
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 431:
      return "header_fields_too_large";
    case 501:
      return "not_implemented";
    case 505:
      return "http_version_not_supported";
    default:
      return "bad_request";
  }
}

}  // namespace

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(server& srv, uint64_t id, net::tcp::socket socket)
      : _server(srv),
        _cfg(srv.config()),
        _id(id),
        _socket(std::move(socket)),
        _watchdog(_socket.get_executor()),
        _parser(_cfg.limits) {
    net::error_code ec;
    auto ep = _socket.remote_endpoint(ec);
    _peer = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  net::awaitable<void> run() {
    auto self = shared_from_this();
    _deadline = clock::now() + std::chrono::milliseconds(_cfg.idle_timeout_ms);
    net::asio::co_spawn(_socket.get_executor(), watchdog(self), net::asio::detached);
    co_await serve_requests();
    close(nullptr);
    _server.forget(_id);
  }

  // On the connection's shard.
  void close(const char* why) {
    if (!_socket.is_open()) return;
    if (why) log().info("closing HTTP connection from {}: {}", _peer, why);
    net::error_code ignored;
    _socket.shutdown(net::tcp::socket::shutdown_both, ignored);
    _socket.close(ignored);
    _watchdog.cancel();
  }

  net::asio::any_io_executor executor() { return _socket.get_executor(); }

  // server::stop(), on the connection's shard: no further request is read. A handler still
  // running answers with "Connection: close" (its write fails if the socket is gone).
  void stop() {
    _stopping = true;
    close(nullptr);
  }

 private:
  net::awaitable<bool> write(const std::string& bytes) {
    auto [ec, n] =
        co_await net::asio::async_write(_socket, net::asio::buffer(bytes), net::use_nothrow);
    co_return !ec;
  }

  net::awaitable<void> serve_requests() {
    std::string in;  // received, not yet parsed
    size_t in_pos = 0;
    bool continue_sent = false;
    bool request_started = false;
    auto buf = std::make_unique_for_overwrite<char[]>(kReadChunk);
    while (_socket.is_open()) {
      // Parse what has arrived.
      while (in_pos < in.size() && !_parser.complete() && !_parser.failed()) {
        in_pos += _parser.feed(std::string_view(in).substr(in_pos));
      }
      if (in_pos == in.size()) {
        in.clear();
        in_pos = 0;
      }
      if (_parser.failed()) {
        auto& e = _parser.error();
        log().info("{}: bad HTTP request ({} {})", _peer, e.status, e.reason);
        if (co_await write(
                write_response(error_response(e.status, error_name(e.status), e.reason), false)))
          co_await drain_before_close(buf.get());
        co_return;
      }
      if (_parser.reading_body() && _parser.peek().expects_continue && !continue_sent) {
        continue_sent = true;
        if (!co_await write("HTTP/1.1 100 Continue\r\n\r\n")) co_return;
      }
      if (_parser.complete()) {
        request r = _parser.take();
        continue_sent = request_started = false;
        _deadline = clock::time_point::max();  // waiting on the broker, not on the client
        response resp = co_await _server.routes().dispatch(r);
        bool keep_alive = r.keep_alive && !_stopping;
        if (!co_await write(write_response(resp, keep_alive)) || !keep_alive) co_return;
        _deadline = clock::now() + std::chrono::milliseconds(_cfg.idle_timeout_ms);
        continue;  // a pipelined request may be buffered already
      }
      if (_parser.started() && !request_started) {
        request_started = true;
        _deadline = clock::now() + std::chrono::milliseconds(_cfg.request_timeout_ms);
      }
      auto [ec, got] = co_await _socket.async_read_some(net::asio::buffer(buf.get(), kReadChunk),
                                                        net::use_nothrow);
      if (ec || got == 0) co_return;
      in.append(buf.get(), got);
    }
  }

  // After an error answer: the client may still be sending (a huge header). Closing with
  // unread bytes makes the kernel send a reset, which can destroy the answer before the
  // client reads it; so stop sending, and read and discard for a little while first.
  net::awaitable<void> drain_before_close(char* buf) {
    net::error_code ignored;
    _socket.shutdown(net::tcp::socket::shutdown_send, ignored);
    _draining = true;
    _deadline = clock::now() + std::chrono::seconds(2);
    size_t discarded = 0;
    while (_socket.is_open() && discarded < kDrainLimit) {
      auto [ec, got] =
          co_await _socket.async_read_some(net::asio::buffer(buf, kReadChunk), net::use_nothrow);
      if (ec || got == 0) break;
      discarded += got;
    }
  }

  // Closes the connection when its deadline passes (idle, or a request arriving too slowly).
  net::awaitable<void> watchdog(std::shared_ptr<connection> self) {
    while (_socket.is_open()) {
      auto deadline = _deadline;
      auto now = clock::now();
      // Never sleep past a second: serve_requests() moves _deadline without the timer.
      _watchdog.expires_at(deadline - now > std::chrono::seconds(1) ? now + std::chrono::seconds(1)
                                                                    : deadline);
      co_await _watchdog.async_wait(net::use_nothrow);
      if (!_socket.is_open()) break;
      if (clock::now() >= _deadline)
        close(_draining           ? nullptr
              : _parser.started() ? "request not complete in time"
                                  : "idle timeout");
    }
  }

  static constexpr size_t kReadChunk = 16 * 1024;
  static constexpr size_t kDrainLimit = 1 << 20;

  server& _server;
  const server_config& _cfg;
  uint64_t _id;
  net::tcp::socket _socket;
  net::asio::steady_timer _watchdog;
  clock::time_point _deadline;
  request_parser _parser;
  std::string _peer;
  bool _stopping = false;
  bool _draining = false;  // answered an error; discarding input until close
};

server::~server() = default;

net::awaitable<void> server::serve(net::tcp::socket socket) {
  uint64_t id;
  bool stopping;
  {
    std::lock_guard lock(_mutex);
    id = _next_id++;
    stopping = _stopping;
  }
  if (stopping) {
    net::error_code ignored;
    socket.close(ignored);
    co_return;
  }
  auto c = std::make_shared<connection>(*this, id, std::move(socket));
  {
    std::lock_guard lock(_mutex);
    _connections[id] = c;
  }
  co_await c->run();
}

void server::forget(uint64_t id) {
  std::lock_guard lock(_mutex);
  _connections.erase(id);
}

void server::stop() {
  std::vector<std::shared_ptr<connection>> live;
  {
    std::lock_guard lock(_mutex);
    _stopping = true;
    for (auto& [id, weak] : _connections)
      if (auto c = weak.lock()) live.push_back(std::move(c));
  }
  for (auto& c : live) net::asio::post(c->executor(), [c] { c->stop(); });
}

}  // namespace tern::http
