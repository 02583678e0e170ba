#pragma once
// A blocking TCP connection that exchanges Kafka frames (int32 big-endian size, then that many
// bytes), with one deadline per exchange. For the command-line admin client only: it blocks the
// calling thread, so it must never be used on a shard.
//
// Errors are one line of text for the user ("connect to 127.0.0.1:9092: Connection refused"),
// because the only thing a command does with them is print them.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "bytes/buffer.h"

namespace tern::app {

class blocking_socket {
 public:
  blocking_socket() = default;
  blocking_socket(blocking_socket&& o) noexcept : _fd(o._fd) { o._fd = -1; }
  blocking_socket& operator=(blocking_socket&& o) noexcept;
  blocking_socket(const blocking_socket&) = delete;
  blocking_socket& operator=(const blocking_socket&) = delete;
  ~blocking_socket() { close(); }

  // Resolves HOST:PORT and connects to the first address that answers within `timeout`.
  // Returns "" on success, else what went wrong.
  std::string connect(std::string_view host_port, std::chrono::milliseconds timeout);

  // Sends one frame (the size prefix is added here).
  std::string send_frame(bytes::byte_view payload, std::chrono::steady_clock::time_point deadline);

  // Receives one frame into `payload` (without its size prefix). A frame larger than
  // `max_bytes` is refused before anything is allocated for it: the peer is not trusted.
  std::string recv_frame(bytes::buffer& payload, std::chrono::steady_clock::time_point deadline,
                         uint32_t max_bytes = 256u << 20);

  // Raw bytes, for protocols without Kafka's size prefix (the HTTP client, http_client.h).
  std::string send_all(std::string_view bytes, std::chrono::steady_clock::time_point deadline);
  // Reads what has arrived, at least one byte and at most `max`, into `dst`; `got` = 0 means
  // the peer closed the connection.
  std::string recv_some(char* dst, size_t max, size_t& got,
                        std::chrono::steady_clock::time_point deadline);

  bool is_open() const { return _fd >= 0; }
  void close();

 private:
  std::string write_all(const uint8_t* p, size_t n, std::chrono::steady_clock::time_point deadline);
  std::string read_all(uint8_t* p, size_t n, std::chrono::steady_clock::time_point deadline);

  int _fd = -1;
};

}  // namespace tern::app
