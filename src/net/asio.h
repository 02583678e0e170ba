#pragma once
// The slice of Boost.Asio Tern uses, with short names. Network operations report errors as
// values (as_tuple), never as exceptions: a peer hanging up is routine, not exceptional.

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace tern::net {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Completion token: `auto [ec, n] = co_await sock.async_read_some(buf, use_nothrow);`
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace tern::net
