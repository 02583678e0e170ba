#include "net/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "base/logger.h"

namespace tern::net {
namespace {

spdlog::logger& log() { return module_logger("net"); }

awaitable<void> accept_loop(tcp::acceptor& acceptor, listener::handler on_connection,
                            std::string name) {
  while (true) {
    auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // EMFILE and friends: log once per occurrence and back off instead of spinning.
      log().warn("{}: accept failed: {}", name, ec.message());
      asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(use_nothrow);
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(acceptor.get_executor(), on_connection(std::move(socket)), asio::detached);
  }
}

}  // namespace

result<tcp::endpoint> parse_endpoint(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon + 1 == host_port.size())
    return std::make_error_code(std::errc::invalid_argument);
  std::string host = host_port.substr(0, colon);
  std::string port = host_port.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  asio::io_context io;
  tcp::resolver resolver(io);
  error_code ec;
  auto results = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) return std::make_error_code(std::errc::invalid_argument);
  return results.begin()->endpoint();
}

awaitable<result<std::shared_ptr<listener>>> listener::start(shard_set& shards, tcp::endpoint at,
                                                             std::string name,
                                                             handler on_connection) {
  // Every shard's acceptor sets SO_REUSEPORT, which would also let this listener share a
  // port with another process (another broker) and have the kernel split clients between the
  // two. A probe bound without SO_REUSEPORT fails if anyone holds the port, so that is caught.
  if (at.port() != 0) {
    asio::io_context io;
    tcp::acceptor probe(io);
    error_code ec;
    probe.open(at.protocol(), ec);
    if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) probe.bind(at, ec);
    if (ec) co_return std::error_code(ec.value(), std::system_category());
  }
  std::shared_ptr<listener> l(new listener(shards, std::move(name)));
  l->_acceptors.resize(shards.count());
  l->_bound = at;
  for (unsigned s = 0; s < shards.count(); ++s) {
    auto err = co_await shards.invoke_on(s, [&, s]() -> std::error_code {
      auto acc = std::make_unique<tcp::acceptor>(shards.context(s));
      error_code ec;
      acc->open(l->_bound.protocol(), ec);
      if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) {
        int one = 1;
        if (::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
          ec = error_code(errno, boost::system::system_category());
      }
      if (!ec) acc->bind(l->_bound, ec);
      if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) return std::error_code(ec.value(), std::system_category());
      l->_bound = acc->local_endpoint();  // port 0 -> the port every other shard reuses
      asio::co_spawn(shards.context(s), accept_loop(*acc, on_connection, l->_name),
                     asio::detached);
      l->_acceptors[s] = std::move(acc);
      return {};
    });
    if (err) {
      co_await l->close();
      co_return err;
    }
  }
  co_return l;
}

awaitable<void> listener::close() {
  for (unsigned s = 0; s < _acceptors.size(); ++s) {
    co_await _shards.invoke_on(s, [this, s] {
      if (_acceptors[s]) {
        error_code ignored;
        _acceptors[s]->close(ignored);
      }
    });
  }
}

}  // namespace tern::net
