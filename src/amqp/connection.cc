#include "amqp/connection.h"

#include "amqp/channel.h"
#include "amqp/codec/protocol_header.h"
#include "base/clock.h"
#include "base/logger.h"

namespace tern::amqp {
namespace {

spdlog::logger& log() { return module_logger("amqp"); }
using namespace std::chrono_literals;

int64_t now_ms() { return system_now_ms(); }

// Output below this again after having been above kMaxPendingOutput: consumers resume.
constexpr int64_t kResumeOutput = 1 << 20;

field_table server_properties(const server_config& cfg) {
  field_table caps;
  for (const char* c : {"publisher_confirms", "exchange_exchange_bindings", "basic.nack",
                        "consumer_cancel_notify", "connection.blocked",
                        "authentication_failure_close", "per_consumer_qos"})
    caps.set(c, true);
  field_table p;
  p.set("product", cfg.product);
  p.set("version", cfg.version);
  p.set("platform", std::string("C++20"));
  p.set("copyright", std::string("Tern"));
  p.set("information", std::string("A message broker speaking Kafka and AMQP 0-9-1"));
  p.set("capabilities", std::move(caps));
  return p;
}

}  // namespace

connection::connection(server& srv, net::tcp::socket socket)
    : _server(srv),
      _socket(std::move(socket)),
      _id(srv.queues().next_id()),
      _shard(net::shard_set::current()) {
  net::error_code ec;
  auto ep = _socket.remote_endpoint(ec);
  _peer = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  _loopback = !ec && ep.address().is_loopback();
  _socket.set_option(net::tcp::no_delay(true), ec);
  _writer_wake = std::make_unique<net::asio::steady_timer>(_socket.get_executor());
  _heartbeat_timer = std::make_unique<net::asio::steady_timer>(_socket.get_executor());
}

connection::~connection() { teardown(); }

void connection::teardown() {
  if (_torn_down) return;
  _torn_down = true;
  for (auto& [n, ch] : _channels) ch->teardown();
  _channels.clear();
  _server.queues().drop_exclusive(_id);
}

void connection::shutdown_socket() {
  net::error_code ignored;
  _socket.shutdown(net::tcp::socket::shutdown_both, ignored);
  _socket.close(ignored);
  if (_heartbeat_timer) _heartbeat_timer->cancel();
}

void connection::send(const bytes::buffer& frames) {
  _out.insert(_out.end(), frames.begin(), frames.end());
  flush();
}

void connection::flush() {
  *_pending_output += int64_t(_out.size() - _accounted_out);
  _accounted_out = _out.size();
  if (_writer_running || _out.empty() || !_socket.is_open()) return;
  _writer_running = true;
  net::asio::co_spawn(_socket.get_executor(), [self = shared_from_this()] {
    return self->writer();
  }, net::asio::detached);
}

net::awaitable<void> connection::writer() {
  while (!_out.empty() && _socket.is_open()) {
    bytes::buffer buf = std::move(_out);
    _out = {};
    _accounted_out = 0;
    auto [ec, n] = co_await net::asio::async_write(_socket, net::asio::buffer(buf),
                                                   net::use_nothrow);
    int64_t before = _pending_output->fetch_sub(int64_t(buf.size()));
    _last_sent_ms = now_ms();
    if (ec) {
      shutdown_socket();
      break;
    }
    if (before > kResumeOutput && before - int64_t(buf.size()) <= kResumeOutput)
      on_output_drained();
  }
  _writer_running = false;
}

void connection::on_output_drained() {
  for (auto& [n, ch] : _channels) ch->poke_blocked();
}

void connection::close_with(const error& e) {
  if (_state == state::closing || _state == state::closed) return;
  log().info("closing AMQP connection from {}: {}", _peer, reply_text(e));
  write_method_frame(_out, 0, make_connection_close(e));
  flush();
  _state = state::closing;
  // Deliveries stop; held messages go back to their queues now, not when the socket closes.
  for (auto& [n, ch] : _channels) ch->teardown();
  _channels.clear();
}

void connection::force_close(const error& e) {
  if (_state == state::closed) return;
  if (_state == state::running) close_with(e);
  teardown();
  // Let the close reach the client, then end the reader by closing the socket.
  net::asio::co_spawn(_socket.get_executor(), [self = shared_from_this()]() -> net::awaitable<void> {
    for (int i = 0; i < 50 && self->_writer_running; ++i) {
      self->_writer_wake->expires_after(10ms);
      co_await self->_writer_wake->async_wait(net::use_nothrow);
    }
    self->shutdown_socket();
  }, net::asio::detached);
}

net::awaitable<bool> connection::read_more() {
  if (_in_start > 0 && _in_start == _in.size()) {
    _in.clear();
    _in_start = 0;
  } else if (_in_start > (1u << 16) && _in_start * 2 > _in.size()) {
    _in.erase(_in.begin(), _in.begin() + ptrdiff_t(_in_start));
    _in_start = 0;
  }
  size_t old = _in.size();
  _in.resize(old + 65536);
  auto [ec, n] = co_await _socket.async_read_some(net::asio::buffer(_in.data() + old, 65536),
                                                  net::use_nothrow);
  _in.resize(old + (ec ? 0 : n));
  if (ec) co_return false;
  _last_received_ms = now_ms();
  co_return true;
}

net::awaitable<void> connection::run() {
  auto self = shared_from_this();
  _last_received_ms = _last_sent_ms = now_ms();
  net::asio::co_spawn(_socket.get_executor(), heartbeats(), net::asio::detached);
  co_await reader();
  teardown();
  // Let a pending connection.close reach the client before the socket goes.
  for (int i = 0; i < 100 && _writer_running; ++i) {
    _writer_wake->expires_after(10ms);
    co_await _writer_wake->async_wait(net::use_nothrow);
  }
  shutdown_socket();
  _state = state::closed;
}

net::awaitable<void> connection::reader() {
  // Protocol header.
  header_status hs = header_status::need_more;
  while ((hs = check_protocol_header(_in)) == header_status::need_more) {
    if (!co_await read_more()) co_return;
  }
  if (hs != header_status::ok) {
    log().info("AMQP connection from {}: wrong protocol header", _peer);
    _out.assign(protocol_header.begin(), protocol_header.end());
    flush();
    co_return;
  }
  _in_start = 8;
  connection_start start;
  start.server_properties = server_properties(config());
  start.mechanisms = "PLAIN AMQPLAIN";
  write_method_frame(_out, 0, start);
  flush();

  while (_socket.is_open()) {
    auto input = bytes::byte_view(_in.data() + _in_start, _in.size() - _in_start);
    uint32_t limit = _state == state::running ? _frame_max : std::max(_frame_max, 131072u);
    auto r = decode_frame(input, limit);
    if (r.status == frame_status::need_more) {
      if (!co_await read_more()) co_return;
      continue;
    }
    if (r.status == frame_status::error) {
      close_with(r.error);
      co_return;
    }
    bool go_on = co_await handle_frame(r.frame);
    _in_start += r.consumed;
    if (!go_on) co_return;
  }
}

net::awaitable<bool> connection::handle_frame(const frame& f) {
  if (f.type == frame_type::heartbeat) co_return true;
  if (_state == state::closing) {
    // Waiting for close-ok; everything else is discarded.
    if (f.type == frame_type::method && f.channel == 0) {
      auto m = decode_method(f.payload);
      if (m && std::holds_alternative<connection_close_ok>(*m)) co_return false;
      if (m && std::holds_alternative<connection_close>(*m)) {
        write_method_frame(_out, 0, connection_close_ok{});
        flush();
        co_return false;
      }
    }
    co_return true;
  }
  if (f.channel == 0) {
    if (f.type != frame_type::method) {
      close_with({reply_code::command_invalid, "content frame on channel 0", 0, 0});
      co_return true;
    }
    auto m = decode_method(f.payload);
    if (!m) {
      close_with(m.error());
      co_return true;
    }
    co_return co_await handle_connection_method(std::move(*m));
  }
  if (_state != state::running) {
    close_with({reply_code::channel_error, "channel frame before connection.open-ok", 0, 0});
    co_return true;
  }
  auto it = _channels.find(f.channel);
  if (it == _channels.end()) {
    if (f.type == frame_type::method) {
      auto m = decode_method(f.payload);
      if (!m) {
        close_with(m.error());
        co_return true;
      }
      if (std::holds_alternative<channel_open>(*m)) {
        if (f.channel > _channel_max) {
          close_with({reply_code::channel_error,
                      "channel " + std::to_string(f.channel) + " above channel_max", 20, 10});
          co_return true;
        }
        _channels.emplace(f.channel, std::make_shared<channel>(*this, f.channel));
        write_method_frame(_out, f.channel, channel_open_ok{});
        flush();
        co_return true;
      }
      if (std::holds_alternative<channel_close_ok>(*m)) co_return true;  // after our close
    }
    close_with({reply_code::channel_error,
                "expected 'channel.open' on channel " + std::to_string(f.channel), 0, 0});
    co_return true;
  }
  auto ch = it->second;
  auto e = co_await ch->on_frame(f);
  if (!e) co_return true;
  if (e->code == reply_code::success) {  // channel.close done: forget the channel
    _channels.erase(f.channel);
    co_return true;
  }
  close_with(*e);
  co_return true;
}

bool connection::authenticate(const connection_start_ok& ok, error& e) {
  std::string user, password;
  if (ok.mechanism == "PLAIN") {
    // authzid \0 authcid \0 password
    auto& r = ok.response;
    auto a = r.find('\0');
    auto b = a == std::string::npos ? a : r.find('\0', a + 1);
    if (b == std::string::npos) {
      e = {reply_code::access_refused, "malformed PLAIN response", 10, 11};
      return false;
    }
    user = r.substr(a + 1, b - a - 1);
    password = r.substr(b + 1);
  } else if (ok.mechanism == "AMQPLAIN") {
    // A field table without its length prefix.
    bytes::buffer framed;
    bytes::byte_writer w(framed);
    w.u32(uint32_t(ok.response.size()));
    w.bytes(std::string_view(ok.response));
    bytes::byte_reader in(framed);
    auto t = decode_field_table(in);
    if (!t) {
      e = {reply_code::access_refused, "malformed AMQPLAIN response", 10, 11};
      return false;
    }
    user = std::string(t->get_string("LOGIN").value_or(""));
    password = std::string(t->get_string("PASSWORD").value_or(""));
  } else {
    e = {reply_code::access_refused,
         "unknown authentication mechanism '" + ok.mechanism + "'", 10, 11};
    return false;
  }
  auto& users = config().users;
  auto it = users.find(user);
  if (it == users.end() || it->second != password) {
    e = {reply_code::access_refused,
         "Login was refused using authentication mechanism " + ok.mechanism +
             ". For details see the broker logfile.",
         10, 11};
    log().info("AMQP connection from {}: login of user '{}' refused", _peer, user);
    return false;
  }
  if (user == "guest" && !_loopback) {
    e = {reply_code::access_refused,
         "user 'guest' can only connect via localhost", 10, 11};
    return false;
  }
  _user = user;
  return true;
}

net::awaitable<bool> connection::handle_connection_method(method m) {
  switch (_state) {
    case state::start: {
      auto* ok = std::get_if<connection_start_ok>(&m);
      if (!ok) {
        close_with({reply_code::command_invalid, "expected connection.start-ok", 10, 11});
        co_return true;
      }
      if (auto* caps = ok->client_properties.get_table("capabilities"))
        _cancel_notify = caps->get_bool("consumer_cancel_notify").value_or(false);
      error e;
      if (!authenticate(*ok, e)) {
        close_with(e);
        co_return true;
      }
      connection_tune tune;
      tune.channel_max = config().channel_max;
      tune.frame_max = config().frame_max;
      tune.heartbeat = config().heartbeat_s;
      write_method_frame(_out, 0, tune);
      flush();
      _state = state::tune;
      co_return true;
    }
    case state::tune: {
      auto* ok = std::get_if<connection_tune_ok>(&m);
      if (!ok) {
        close_with({reply_code::command_invalid, "expected connection.tune-ok", 10, 31});
        co_return true;
      }
      uint32_t fm = ok->frame_max == 0 ? config().frame_max
                                       : std::min(ok->frame_max, config().frame_max);
      if (fm < frame_min_size) {
        close_with({reply_code::not_allowed, "frame_max below the minimum 4096", 10, 31});
        co_return true;
      }
      _frame_max = fm;
      _channel_max = ok->channel_max == 0 ? config().channel_max
                                          : std::min(ok->channel_max, config().channel_max);
      _heartbeat_s = ok->heartbeat;
      _state = state::open;
      co_return true;
    }
    case state::open: {
      auto* o = std::get_if<connection_open>(&m);
      if (!o) {
        close_with({reply_code::command_invalid, "expected connection.open", 10, 40});
        co_return true;
      }
      if (!_server.queues().has_vhost(o->virtual_host)) {
        close_with({reply_code::not_allowed,
                    "vhost '" + o->virtual_host + "' not found", 10, 40});
        co_return true;
      }
      _vhost = o->virtual_host;
      write_method_frame(_out, 0, connection_open_ok{});
      flush();
      _state = state::running;
      co_return true;
    }
    case state::running: {
      if (std::holds_alternative<connection_close>(m)) {
        teardown();
        write_method_frame(_out, 0, connection_close_ok{});
        flush();
        co_return false;
      }
      if (std::holds_alternative<connection_update_secret>(m)) {
        write_method_frame(_out, 0, connection_update_secret_ok{});
        flush();
        co_return true;
      }
      if (std::holds_alternative<connection_blocked>(m) ||
          std::holds_alternative<connection_unblocked>(m))
        co_return true;
      const auto& t = traits(m);
      close_with({reply_code::command_invalid,
                  "unexpected " + std::string(t.name) + " on channel 0", t.class_id,
                  t.method_id});
      co_return true;
    }
    case state::closing:
    case state::closed: co_return false;
  }
  co_return false;
}

net::awaitable<void> connection::heartbeats() {
  auto self = shared_from_this();
  const int64_t started = now_ms();
  while (_socket.is_open() && _state != state::closed) {
    _heartbeat_timer->expires_after(1s);
    auto [ec] = co_await _heartbeat_timer->async_wait(net::use_nothrow);
    if (ec || !_socket.is_open()) co_return;
    int64_t now = now_ms();
    if (_state != state::running && _state != state::closing) {
      if (now - started > config().handshake_timeout_ms) {
        log().info("AMQP connection from {}: handshake timeout", _peer);
        shutdown_socket();
        co_return;
      }
      continue;
    }
    if (_heartbeat_s == 0) continue;
    int64_t period = int64_t(_heartbeat_s) * 1000;
    if (now - _last_received_ms > 2 * period) {
      log().info("AMQP connection from {}: missed heartbeats from client, timeout: {}s", _peer,
                 _heartbeat_s);
      teardown();
      shutdown_socket();
      co_return;
    }
    if (now - _last_sent_ms >= period / 2) {
      write_heartbeat(_out);
      flush();
      _last_sent_ms = now;
    }
  }
}

server::server(broker::queue_service& queues, server_config cfg)
    : _queues(queues), _cfg(std::move(cfg)) {
  _queues.set_before_stop([this] { return stop(); });
}

server::~server() { _queues.set_before_stop(nullptr); }

net::awaitable<void> server::serve(net::tcp::socket socket) {
  auto c = std::make_shared<connection>(*this, std::move(socket));
  {
    std::lock_guard lock(_mutex);
    if (_stopping) co_return;  // the socket closes with `c`
    _connections.emplace(c->id(), c);
  }
  co_await c->run();
  std::lock_guard lock(_mutex);
  _connections.erase(c->id());
}

net::awaitable<void> server::stop() {
  std::vector<std::shared_ptr<connection>> live;
  {
    std::lock_guard lock(_mutex);
    _stopping = true;
    for (auto& [id, w] : _connections)
      if (auto c = w.lock()) live.push_back(std::move(c));
  }
  if (!live.empty()) log().info("closing {} AMQP connections for shutdown", live.size());
  const error e{reply_code::connection_forced,
                "broker forced connection closure with reason 'shutdown'", 0, 0};
  for (auto& c : live) {
    _queues.shards().post_to(c->shard(), [c, e] { c->force_close(e); });
  }
  live.clear();
  net::asio::steady_timer timer(co_await net::asio::this_coro::executor);
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(_mutex);
      if (_connections.empty()) co_return;
    }
    timer.expires_after(10ms);
    co_await timer.async_wait(net::use_nothrow);
  }
  std::lock_guard lock(_mutex);
  log().warn("{} AMQP connections still open after shutdown", _connections.size());
}

}  // namespace tern::amqp
