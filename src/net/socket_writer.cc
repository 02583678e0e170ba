#include "net/socket_writer.h"

#include <sys/sendfile.h>

#include <vector>

namespace tern::net {
namespace {

awaitable<error_code> send_file_range(tcp::socket& socket, const bytes::file_range& r) {
  off_t offset = off_t(r.offset);
  size_t left = r.length;
  if (!socket.native_non_blocking()) socket.native_non_blocking(true);
  while (left > 0) {
    ssize_t n = ::sendfile(socket.native_handle(), r.fd, &offset, left);
    if (n > 0) {
      left -= size_t(n);
      continue;
    }
    if (n == 0) co_return asio::error::eof;  // file shorter than the range: truncated under us
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return error_code(errno, boost::system::system_category());
    auto [ec] = co_await socket.async_wait(tcp::socket::wait_write, use_nothrow);
    if (ec) co_return ec;
  }
  co_return error_code{};
}

}  // namespace

awaitable<error_code> write_chunks(tcp::socket& socket, const bytes::chunked_buffer& data) {
  std::vector<asio::const_buffer> pending;
  auto flush = [&]() -> awaitable<error_code> {
    if (pending.empty()) co_return error_code{};
    auto [ec, n] = co_await asio::async_write(socket, pending, use_nothrow);
    pending.clear();
    co_return ec;
  };
  for (auto& chunk : data.chunks()) {
    if (auto* b = std::get_if<bytes::buffer>(&chunk)) {
      if (!b->empty()) pending.emplace_back(b->data(), b->size());
      continue;
    }
    if (auto ec = co_await flush()) co_return ec;
    if (auto ec = co_await send_file_range(socket, std::get<bytes::file_range>(chunk))) co_return ec;
  }
  co_return co_await flush();
}

}  // namespace tern::net
