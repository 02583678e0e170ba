#pragma once
// Class access (30): deprecated in 0-9-1; RabbitMQ answers access.request with
// request-ok and ignores tickets. Kept so that old clients decode.
// Descriptions in the form of schema.h; fields are the spec's, defaults its default values.

#include <cstdint>
#include <string>

#include "amqp/codec/schema.h"

namespace tern::amqp {

struct access_request {
  static constexpr method_traits traits{.class_id = 30,
                                        .method_id = 10,
                                        .name = "access.request",
                                        .synchronous = true,
                                        .reply = {30, 11}};

  std::string realm = "/data";
  bool exclusive = false;
  bool passive = true;
  bool active = true;
  bool write = true;
  bool read = true;

  template <class V>
  void visit(V& v) {
    v("realm", realm);
    v("exclusive", exclusive);
    v("passive", passive);
    v("active", active);
    v("write", write);
    v("read", read);
  }
  bool operator==(const access_request&) const = default;
};

struct access_request_ok {
  static constexpr method_traits traits{
      .class_id = 30, .method_id = 11, .name = "access.request-ok"};

  uint16_t ticket = 1;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
  }
  bool operator==(const access_request_ok&) const = default;
};

}  // namespace tern::amqp
