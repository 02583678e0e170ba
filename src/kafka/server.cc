#include "kafka/server.h"

#include <chrono>
#include <deque>

#include "base/logger.h"
#include "kafka/handlers/handlers.h"
#include "kafka/request_context.h"
#include "net/socket_writer.h"

namespace tern::kafka {
namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

spdlog::logger& log() { return module_logger("kafka"); }

// A response waiting for its turn on the wire.
struct pending {
  std::unique_ptr<request_context> ctx;  // null until the handler is done
  int64_t budget = 0;
  bool ready = false;
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(server& srv, const server_config& cfg, net::global_budget& budget,
             net::tcp::socket socket)
      : _server(srv),
        _cfg(cfg),
        _global(budget),
        _socket(std::move(socket)),
        _writer_wake(_socket.get_executor()),
        _watchdog(_socket.get_executor()),
        _budget_available(cfg.connection_memory_bytes) {
    net::error_code ec;
    auto ep = _socket.remote_endpoint(ec);
    _peer = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
    _peer_host = ec ? std::string("/?") : "/" + ep.address().to_string();
  }

  net::awaitable<void> run() {
    auto self = shared_from_this();
    auto ex = _socket.get_executor();
    _deadline = clock::now() + std::chrono::milliseconds(_cfg.idle_timeout_ms);
    net::asio::co_spawn(ex, watchdog(self), net::asio::detached);
    net::asio::co_spawn(ex, writer(self), net::asio::detached);
    co_await reader();
    _reading = false;
    wake_writer();
    // The writer closes the socket once every in-flight response has been written.
  }

 private:
  void close(const char* why) {
    if (!_socket.is_open()) return;
    if (why) log().info("closing connection from {}: {}", _peer, why);
    net::error_code ignored;
    _socket.shutdown(net::tcp::socket::shutdown_both, ignored);
    _socket.close(ignored);
    _watchdog.cancel();
    wake_writer();
  }

  void wake_writer() { _writer_wake.cancel(); }

  // Reads exactly n bytes into dst, using what is buffered first.
  net::awaitable<bool> read_exact(uint8_t* dst, size_t n) {
    size_t from_buffer = std::min(n, _in_end - _in_pos);
    if (from_buffer > 0) std::memcpy(dst, _in.get() + _in_pos, from_buffer);
    _in_pos += from_buffer;
    if (from_buffer == n) co_return true;
    // The rest goes straight into dst: a large request is not copied twice.
    auto [ec, got] = co_await net::asio::async_read(
        _socket, net::asio::buffer(dst + from_buffer, n - from_buffer), net::use_nothrow);
    co_return !ec;
  }

  // Refills _in once everything buffered has been consumed (reads whatever the socket has).
  // The buffer is allocated once and never zero-filled: small pipelined requests are common
  // and clearing 64 KiB per read showed up as a quarter of the broker's CPU time.
  net::awaitable<bool> fill() {
    if (!_in) _in = std::make_unique_for_overwrite<uint8_t[]>(kReadChunk);
    _in_pos = _in_end = 0;
    auto [ec, got] = co_await _socket.async_read_some(net::asio::buffer(_in.get(), kReadChunk),
                                                      net::use_nothrow);
    _in_end = got;
    co_return !ec && got > 0;
  }

  net::awaitable<void> reader() {
    while (_socket.is_open()) {
      // Idle until the first byte of the next request.
      _deadline = clock::now() + std::chrono::milliseconds(_cfg.idle_timeout_ms);
      if (_in_pos == _in_end && !co_await fill()) co_return;
      _deadline = clock::now() + std::chrono::milliseconds(_cfg.request_timeout_ms);
      uint8_t size_bytes[4];
      if (!co_await read_exact(size_bytes, 4)) co_return;
      int32_t size = bytes::load_be<int32_t>(size_bytes);
      if (size < 0 || uint64_t(size) > _cfg.max_request_bytes) {
        log().warn("{}: request size {} outside [0, {}]", _peer, size, _cfg.max_request_bytes);
        close(nullptr);
        co_return;
      }
      // Back pressure: stop reading until this request fits the memory budgets.
      int64_t cost = size + int64_t(sizeof(request_context));
      _deadline = clock::time_point::max();  // waiting on the broker, not on the client
      auto budget_wait_start = clock::now();
      co_await net::acquire_budget(_budget_available, _cfg.connection_memory_bytes, _global,
                                   cost);
      auto budget_ready = clock::now();
      _throttle_ms = int32_t(std::min<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(budget_ready - budget_wait_start)
              .count(),
          INT32_MAX));
      _deadline = budget_ready + std::chrono::milliseconds(_cfg.request_timeout_ms);
      auto frame = std::make_unique_for_overwrite<uint8_t[]>(size_t(size));
      if (!co_await read_exact(frame.get(), size_t(size))) {
        release(cost);
        co_return;
      }
      if (!dispatch(std::move(frame), size_t(size), cost)) co_return;
    }
  }

  void release(int64_t cost) {
    _budget_available += cost;
    _global.release(cost);
  }

  // Decodes the header and starts the handler. False when the connection must close.
  bool dispatch(std::unique_ptr<uint8_t[]> frame, size_t size, int64_t cost) {
    auto ctx = std::make_unique<request_context>(_server.broker(), _server.groups(), _cfg,
                                                 std::move(frame), size, _peer_host);
    ctx->throttle_time_ms = _throttle_ms;
    auto header = decode_request_header(ctx->body);
    if (!header) {
      log().warn("{}: unreadable request header ({})", _peer, header.error().message());
      release(cost);
      close(nullptr);
      return false;
    }
    ctx->header = std::move(*header);
    ctx->response.tail().resize(4);  // the frame size, patched when complete
    const handler_entry* h = find_handler(ctx->header.key);
    bool supported = h && ctx->header.version >= h->min_version &&
                     ctx->header.version <= h->max_version;
    auto slot = std::make_shared<pending>();
    slot->budget = cost;
    _queue.push_back(slot);
    if (!supported) {
      if (ctx->header.key == api_key::api_versions) {
        respond_unsupported_api_version(*ctx);
        complete(slot, std::move(ctx));
        return true;
      }
      log().warn("{}: unsupported API {} v{} (client {}); closing", _peer,
                 int(ctx->header.key), ctx->header.version,
                 ctx->header.client_id.value_or("-"));
      _queue.pop_back();
      release(cost);
      close(nullptr);
      return false;
    }
    net::asio::co_spawn(_socket.get_executor(), run_handler(shared_from_this(), slot, std::move(ctx), h->fn),
                        net::asio::detached);
    return true;
  }

  static net::awaitable<void> run_handler(std::shared_ptr<connection> self,
                                          std::shared_ptr<pending> slot,
                                          std::unique_ptr<request_context> ctx, handler_fn fn) {
    co_await fn(*ctx);
    if (ctx->failure) {
      log().warn("{}: malformed {} v{} request: {}", self->_peer, int(ctx->header.key),
                 ctx->header.version, ctx->failure.message());
      self->close(nullptr);
    }
    self->complete(slot, std::move(ctx));
  }

  void complete(const std::shared_ptr<pending>& slot, std::unique_ptr<request_context> ctx) {
    slot->ctx = std::move(ctx);
    slot->ready = true;
    wake_writer();
  }

  net::awaitable<void> writer(std::shared_ptr<connection> self) {
    while (true) {
      while (!_queue.empty() && _queue.front()->ready) {
        auto slot = std::move(_queue.front());
        _queue.pop_front();
        auto& ctx = *slot->ctx;
        if (_socket.is_open() && ctx.send_response && !ctx.failure) {
          auto& head = ctx.response.head();
          bytes::store_be<int32_t>(head.data(), int32_t(ctx.response.size() - 4));
          if (auto ec = co_await net::write_chunks(_socket, ctx.response)) close(nullptr);
        }
        release(slot->budget);
      }
      if (!_reading && _queue.empty()) break;
      if (!_socket.is_open() && _queue.empty()) break;
      _writer_wake.expires_at(clock::time_point::max());
      co_await _writer_wake.async_wait(net::use_nothrow);
    }
    close(nullptr);
  }

  // Closes the connection when a request takes longer than request_timeout_ms to arrive, or
  // nothing arrives for idle_timeout_ms. The reader moves _deadline (often earlier, when a
  // request starts) without touching the timer, so the timer never sleeps longer than one
  // request timeout: a deadline is noticed at most that late, at the cost of one wake-up per
  // request timeout per connection rather than a timer operation per request.
  net::awaitable<void> watchdog(std::shared_ptr<connection> self) {
    const auto longest_sleep = std::chrono::milliseconds(std::max<int64_t>(_cfg.request_timeout_ms, 1));
    while (_socket.is_open()) {
      auto now = clock::now();
      _watchdog.expires_at(_deadline - now > longest_sleep ? now + longest_sleep : _deadline);
      co_await _watchdog.async_wait(net::use_nothrow);
      if (!_socket.is_open()) break;
      if (clock::now() >= _deadline) {
        close(_queue.empty() ? "timed out waiting for a request" : "request timed out");
        break;
      }
    }
  }

  static constexpr size_t kReadChunk = 64 * 1024;

  server& _server;
  const server_config& _cfg;
  net::global_budget& _global;
  net::tcp::socket _socket;
  net::asio::steady_timer _writer_wake;
  net::asio::steady_timer _watchdog;
  clock::time_point _deadline;
  int64_t _budget_available;
  std::string _peer;
  std::string _peer_host;  // "/127.0.0.1", Kafka's client_host format
  int32_t _throttle_ms = 0;  // the budget wait of the request being read
  std::unique_ptr<uint8_t[]> _in;  // kReadChunk bytes once the first read starts
  size_t _in_pos = 0;              // next unread byte
  size_t _in_end = 0;              // end of the bytes read so far
  std::deque<std::shared_ptr<pending>> _queue;
  bool _reading = true;
};

}  // namespace

net::awaitable<void> server::serve(net::tcp::socket socket) {
  auto c = std::make_shared<connection>(*this, _cfg, _budget, std::move(socket));
  co_await c->run();
}

}  // namespace tern::kafka
