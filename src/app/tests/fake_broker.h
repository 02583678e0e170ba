#pragma once
// A scripted Kafka broker for tests of the admin client and the `tern topic` commands: a thread
// on 127.0.0.1:0 that accepts one connection, decodes each request with Tern's codec and answers
// from per-API handlers. Answers every API in kafka::all_apis to ApiVersions unless replaced.
//
// Handlers run on the broker's thread; register them all before start().

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "kafka/codec/api_versions.h"
#include "kafka/codec/codec.h"
#include "kafka/codec/create_topics.h"
#include "kafka/codec/delete_topics.h"
#include "kafka/codec/describe_configs.h"
#include "kafka/codec/list_offsets.h"
#include "kafka/codec/metadata.h"

namespace tern::app::test {

using kafka::api_key;

class fake_broker {
 public:
  // Writes the response body for one request; returning false sends nothing (a hung broker).
  using handler = std::function<bool(const kafka::request_header&, bytes::byte_reader&,
                                     bytes::chunked_buffer&)>;

  fake_broker() {
    _listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(_listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(_listen_fd, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(_listen_fd, reinterpret_cast<sockaddr*>(&a), &len);
    _port = ntohs(a.sin_port);
    // Every API Tern describes, unless a test replaces this.
    on(api_key::api_versions,
       [](const kafka::request_header& h, bytes::byte_reader&, bytes::chunked_buffer& out) {
         kafka::api_versions_response resp;
         for (auto& api : kafka::all_apis)
           resp.api_keys.push_back({int16_t(api.key), api.min_version, api.max_version});
         kafka::encode_response(resp, h.version, out);
         return true;
       });
  }
  ~fake_broker() {
    ::shutdown(_listen_fd, SHUT_RDWR);
    if (_conn_fd >= 0) ::shutdown(_conn_fd, SHUT_RDWR);
    if (_thread.joinable()) _thread.join();
    ::close(_listen_fd);
    if (_conn_fd >= 0) ::close(_conn_fd);
  }

  void on(api_key key, handler h) { _handlers[key] = std::move(h); }

  // A handler that decodes Req, lets `fn` fill Resp, and encodes it at the request's version.
  template <class Req, class Resp>
  void answer(std::function<void(const Req&, int16_t version, Resp&)> fn) {
    on(Req::api,
       [fn](const kafka::request_header& h, bytes::byte_reader& r, bytes::chunked_buffer& out) {
         auto req = kafka::decode_request<Req>(r, h.version);
         EXPECT_TRUE(req) << "client sent a bad request";
         Resp resp;
         if (req) fn(*req, h.version, resp);
         kafka::encode_response(resp, h.version, out);
         return true;
       });
  }

  void start() {
    _thread = std::thread([this] { serve(); });
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(_port); }

 private:
  void serve() {
    _conn_fd = ::accept(_listen_fd, nullptr, nullptr);
    if (_conn_fd < 0) return;
    serve_connection();
    ::shutdown(_conn_fd, SHUT_RDWR);  // the client sees the broker hang up
  }

  void serve_connection() {
    for (;;) {
      uint8_t size_bytes[4];
      if (::recv(_conn_fd, size_bytes, 4, MSG_WAITALL) != 4) return;
      bytes::buffer frame(size_t(bytes::load_be<int32_t>(size_bytes)));
      if (::recv(_conn_fd, frame.data(), frame.size(), MSG_WAITALL) != ssize_t(frame.size()))
        return;
      bytes::byte_reader r(frame);
      auto h = kafka::decode_request_header(r);
      if (!h) return;
      auto it = _handlers.find(h->key);
      if (it == _handlers.end()) return;
      bytes::chunked_buffer out;
      size_t at = out.writer().placeholder<int32_t>();
      kafka::encode_response_header(h->correlation_id, h->key, h->version, out);
      if (!it->second(*h, r, out)) continue;
      bytes::buffer flat;
      out.flatten(flat);
      bytes::store_be<int32_t>(flat.data() + at, int32_t(flat.size() - 4));
      if (::send(_conn_fd, flat.data(), flat.size(), MSG_NOSIGNAL) != ssize_t(flat.size())) return;
    }
  }

  int _listen_fd = -1;
  std::atomic<int> _conn_fd{-1};  // set by the broker thread, shut down by the destructor
  uint16_t _port = 0;
  std::map<api_key, handler> _handlers;
  std::thread _thread;
};

}  // namespace tern::app::test
