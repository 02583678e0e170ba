#pragma once
// The content header frame that follows a content-bearing method (basic.publish, .return,
// .deliver, .get-ok), and the 14 basic properties it carries.
//
//   payload = class-id (u16) weight (u16, 0) body-size (u64) property-flags property-list
//
// property-flags is a run of u16 words: bit 15 of the first word says whether the first
// property (content-type) is present, bit 14 the second, and so on, 15 properties per word;
// bit 0 set means another flags word follows. Only present properties are in the list, in
// order. Basic has 14 properties, so one word suffices; a continuation word is accepted if it
// (and every later one) sets no property bit.
//
// raw_properties (flags and list, verbatim) lets the broker store what the publisher sent and
// send it back on delivery without re-encoding: write_content_header_frame(..., raw).

#include <cstdint>
#include <optional>
#include <string>

#include "amqp/codec/errors.h"
#include "amqp/codec/field_table.h"
#include "bytes/buffer.h"

namespace tern::amqp {

inline constexpr uint16_t basic_class_id = 60;

struct basic_properties {
  std::optional<std::string> content_type;      // shortstr, e.g. "application/json"
  std::optional<std::string> content_encoding;  // shortstr
  std::optional<field_table> headers;
  std::optional<uint8_t> delivery_mode;  // 1 transient, 2 persistent
  std::optional<uint8_t> priority;       // 0-9 by convention
  std::optional<std::string> correlation_id;
  std::optional<std::string> reply_to;
  std::optional<std::string> expiration;  // per-message TTL in milliseconds, as a string
  std::optional<std::string> message_id;
  std::optional<uint64_t> timestamp;  // POSIX seconds
  std::optional<std::string> type;
  std::optional<std::string> user_id;  // RabbitMQ checks it against the connection's user
  std::optional<std::string> app_id;
  std::optional<std::string> cluster_id;  // deprecated

  // The properties in flag order (bit 15 of the first flags word first), with their names.
  template <class V>
  void visit(V& v) {
    v("content-type", content_type);
    v("content-encoding", content_encoding);
    v("headers", headers);
    v("delivery-mode", delivery_mode);
    v("priority", priority);
    v("correlation-id", correlation_id);
    v("reply-to", reply_to);
    v("expiration", expiration);
    v("message-id", message_id);
    v("timestamp", timestamp);
    v("type", type);
    v("user-id", user_id);
    v("app-id", app_id);
    v("cluster-id", cluster_id);
  }
  bool operator==(const basic_properties&) const = default;
};

struct content_header {
  uint16_t class_id = basic_class_id;
  uint16_t weight = 0;
  uint64_t body_size = 0;
  basic_properties properties;
  // Property flags and list as received; a view into the decoded payload (empty when the
  // header was built rather than decoded).
  bytes::byte_view raw_properties;
};

// Decodes a content header frame's payload, properties included (so that what a broker
// stores has been validated). Errors: shorter than 14 bytes, properties that end early or
// leave bytes over (501 FRAME_ERROR); a property flag basic does not define, an illegal
// value in the headers table (502 SYNTAX_ERROR); a class other than basic or a non-zero weight
// (505 UNEXPECTED_FRAME, as RabbitMQ: every content-bearing method is basic's).
outcome<content_header> decode_content_header(bytes::byte_view payload);

// Decodes property flags and list alone (e.g. raw properties stored earlier).
outcome<basic_properties> decode_basic_properties(bytes::byte_view raw);

// Appends property flags and list.
void encode_basic_properties(const basic_properties& p, bytes::buffer& out);

// Appends a content header payload.
void encode_content_header(uint64_t body_size, const basic_properties& p, bytes::buffer& out);
void encode_content_header(uint64_t body_size, bytes::byte_view raw_properties, bytes::buffer& out);

// Appends a whole content header frame (type 2), from properties or from raw properties.
void write_content_header_frame(bytes::buffer& out, uint16_t channel, uint64_t body_size,
                                const basic_properties& p);
void write_content_header_frame(bytes::buffer& out, uint16_t channel, uint64_t body_size,
                                bytes::byte_view raw_properties);

// A compact rendering for logs, present properties only:
// {content-type="text/plain", delivery-mode=2, headers={...}}.
std::string to_debug_string(const basic_properties& p);

}  // namespace tern::amqp
