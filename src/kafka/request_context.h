#pragma once
// What a Kafka API handler works with: the decoded header, the rest of the frame, the broker,
// and the response being built. One per request; lives on the connection's shard until the
// response is queued.

#include <memory>

#include "broker/broker.h"
#include "bytes/buffer.h"
#include "bytes/chunked_buffer.h"
#include "kafka/codec/codec.h"
#include "kafka/group_service.h"
#include "kafka/server.h"

namespace tern::kafka {

struct request_context {
  request_context(broker::broker& b, group_service& g, const server_config& c,
                  std::unique_ptr<uint8_t[]> f, size_t frame_size, std::string peer)
      : broker(b),
        groups(g),
        cfg(c),
        peer_host(std::move(peer)),
        frame(std::move(f)),
        body(bytes::byte_view(frame.get(), frame_size)) {}

  broker::broker& broker;
  group_service& groups;
  const server_config& cfg;
  std::string peer_host;  // the client's address, as Kafka reports it ("/127.0.0.1")
  // The request without its size prefix. Owned and mutable: Produce patches batches in place.
  std::unique_ptr<uint8_t[]> frame;
  bytes::byte_reader body;  // the whole frame; the header is consumed first
  request_header header;
  bytes::chunked_buffer response;        // starts with the 4-byte size, patched at the end
  bool send_response = true;             // false for Produce with acks=0
  std::error_code failure;               // set by a handler when the request is malformed

  template <class Req>
  result<Req> decode() {
    return decode_request<Req>(body, header.version);
  }

  // Encodes the response. When the connection had to wait for memory budget before this
  // request could be read, the wait is reported in throttle_time_ms (for the APIs that have
  // it), as Kafka does for quota throttling: clients back off by that much.
  template <class Resp>
  void respond(Resp&& r) {
    if constexpr (requires { r.throttle_time_ms = int32_t(0); }) {
      if (throttle_time_ms > 0 && r.throttle_time_ms < throttle_time_ms)
        r.throttle_time_ms = throttle_time_ms;
    }
    encode_response_header(header.correlation_id, header.key, header.version, response);
    encode_response(r, header.version, response);
  }

  int32_t throttle_time_ms = 0;  // how long reading this request waited for memory budget
};

}  // namespace tern::kafka
