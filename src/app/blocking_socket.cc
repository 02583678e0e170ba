#include "app/blocking_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "app/config.h"

namespace tern::app {
namespace {

using steady = std::chrono::steady_clock;

// Waits until `fd` is ready for `events` or the deadline passes. Returns "" when ready.
std::string wait_for(int fd, short events, steady::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0) return "timed out";
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, int(std::min<int64_t>(left.count(), 1 << 30)));
    if (n > 0) return {};
    if (n < 0 && errno != EINTR) return std::strerror(errno);
  }
}

}  // namespace

blocking_socket& blocking_socket::operator=(blocking_socket&& o) noexcept {
  if (this != &o) {
    close();
    _fd = o._fd;
    o._fd = -1;
  }
  return *this;
}

void blocking_socket::close() {
  if (_fd >= 0) ::close(_fd);
  _fd = -1;
}

std::string blocking_socket::connect(std::string_view host_port,
                                     std::chrono::milliseconds timeout) {
  close();
  auto hp = parse_host_port(host_port);
  if (!hp) return fmt::format("\"{}\" is not HOST:PORT", host_port);
  auto deadline = steady::now() + timeout;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  std::string port = std::to_string(hp->port);
  if (int rc = ::getaddrinfo(hp->host.c_str(), port.c_str(), &hints, &list); rc != 0)
    return fmt::format("resolve {}: {}", hp->host, ::gai_strerror(rc));

  std::string last_error = "no address";
  for (addrinfo* a = list; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
      last_error = wait_for(fd, POLLOUT, deadline);
      int err = 0;
      socklen_t len = sizeof err;
      if (last_error.empty() && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
        last_error = std::strerror(err);
      rc = last_error.empty() ? 0 : -1;
    } else if (rc < 0) {
      last_error = std::strerror(errno);
    }
    if (rc == 0) {
      int one = 1;  // requests are small and answered one at a time: do not wait for Nagle
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      _fd = fd;
      break;
    }
    ::close(fd);
  }
  ::freeaddrinfo(list);
  if (_fd < 0) return fmt::format("connect to {}: {}", host_port, last_error);
  return {};
}

std::string blocking_socket::write_all(const uint8_t* p, size_t n, steady::time_point deadline) {
  while (n > 0) {
    ssize_t w = ::send(_fd, p, n, MSG_NOSIGNAL);
    if (w > 0) {
      p += w;
      n -= size_t(w);
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (std::string e = wait_for(_fd, POLLOUT, deadline); !e.empty()) return "send: " + e;
    } else {
      return fmt::format("send: {}", std::strerror(errno));
    }
  }
  return {};
}

std::string blocking_socket::read_all(uint8_t* p, size_t n, steady::time_point deadline) {
  while (n > 0) {
    ssize_t r = ::recv(_fd, p, n, 0);
    if (r > 0) {
      p += r;
      n -= size_t(r);
    } else if (r == 0) {
      return "receive: connection closed by the broker";
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      if (std::string e = wait_for(_fd, POLLIN, deadline); !e.empty()) return "receive: " + e;
    } else {
      return fmt::format("receive: {}", std::strerror(errno));
    }
  }
  return {};
}

std::string blocking_socket::send_all(std::string_view bytes, steady::time_point deadline) {
  if (_fd < 0) return "send: not connected";
  return write_all(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), deadline);
}

std::string blocking_socket::recv_some(char* dst, size_t max, size_t& got,
                                       steady::time_point deadline) {
  got = 0;
  if (_fd < 0) return "receive: not connected";
  for (;;) {
    ssize_t r = ::recv(_fd, dst, max, 0);
    if (r >= 0) {
      got = size_t(r);
      return {};
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return fmt::format("receive: {}", std::strerror(errno));
    if (std::string e = wait_for(_fd, POLLIN, deadline); !e.empty()) return "receive: " + e;
  }
}

std::string blocking_socket::send_frame(bytes::byte_view payload, steady::time_point deadline) {
  if (_fd < 0) return "send: not connected";
  uint8_t size[4];
  bytes::store_be<int32_t>(size, int32_t(payload.size()));
  if (std::string e = write_all(size, 4, deadline); !e.empty()) return e;
  return write_all(payload.data(), payload.size(), deadline);
}

std::string blocking_socket::recv_frame(bytes::buffer& payload, steady::time_point deadline,
                                        uint32_t max_bytes) {
  if (_fd < 0) return "receive: not connected";
  uint8_t size_bytes[4];
  if (std::string e = read_all(size_bytes, 4, deadline); !e.empty()) return e;
  int32_t size = bytes::load_be<int32_t>(size_bytes);
  if (size < 0 || uint32_t(size) > max_bytes)
    return fmt::format("receive: bad frame size {} from the broker", size);
  payload.resize(size_t(size));
  return read_all(payload.data(), payload.size(), deadline);
}

}  // namespace tern::app
