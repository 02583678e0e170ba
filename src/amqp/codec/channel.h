#pragma once
// Class channel (20): opening, flow control and closing of a channel.
// Descriptions in the form of schema.h; fields are the spec's, defaults its default values.

#include <cstdint>
#include <string>

#include "amqp/codec/schema.h"

namespace tern::amqp {

struct channel_open {
  static constexpr method_traits traits{.class_id = 20,
                                        .method_id = 10,
                                        .name = "channel.open",
                                        .synchronous = true,
                                        .reply = {20, 11}};

  std::string out_of_band;

  template <class V>
  void visit(V& v) {
    v("out-of-band", out_of_band);
  }
  bool operator==(const channel_open&) const = default;
};

struct channel_open_ok {
  static constexpr method_traits traits{.class_id = 20, .method_id = 11, .name = "channel.open-ok"};

  std::string channel_id;

  template <class V>
  void visit(V& v) {
    v("channel-id", channel_id, longstr);
  }
  bool operator==(const channel_open_ok&) const = default;
};

struct channel_flow {
  static constexpr method_traits traits{.class_id = 20,
                                        .method_id = 20,
                                        .name = "channel.flow",
                                        .synchronous = true,
                                        .reply = {20, 21}};

  bool active = false;

  template <class V>
  void visit(V& v) {
    v("active", active);
  }
  bool operator==(const channel_flow&) const = default;
};

struct channel_flow_ok {
  static constexpr method_traits traits{.class_id = 20, .method_id = 21, .name = "channel.flow-ok"};

  bool active = false;

  template <class V>
  void visit(V& v) {
    v("active", active);
  }
  bool operator==(const channel_flow_ok&) const = default;
};

struct channel_close {
  static constexpr method_traits traits{.class_id = 20,
                                        .method_id = 40,
                                        .name = "channel.close",
                                        .synchronous = true,
                                        .reply = {20, 41}};

  uint16_t reply_code = 0;
  std::string reply_text;
  uint16_t class_id = 0;
  uint16_t method_id = 0;

  template <class V>
  void visit(V& v) {
    v("reply-code", reply_code);
    v("reply-text", reply_text);
    v("class-id", class_id);
    v("method-id", method_id);
  }
  bool operator==(const channel_close&) const = default;
};

struct channel_close_ok {
  static constexpr method_traits traits{
      .class_id = 20, .method_id = 41, .name = "channel.close-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const channel_close_ok&) const = default;
};

}  // namespace tern::amqp
