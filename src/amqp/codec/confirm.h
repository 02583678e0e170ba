#pragma once
// Class confirm (85): publisher confirms (RabbitMQ extension).
// Descriptions in the form of schema.h; fields are the spec's, defaults its default values.

#include <cstdint>
#include <string>

#include "amqp/codec/schema.h"

namespace tern::amqp {

struct confirm_select {
  static constexpr method_traits traits{.class_id = 85,
                                        .method_id = 10,
                                        .name = "confirm.select",
                                        .synchronous = true,
                                        .reply = {85, 11}};

  bool nowait = false;

  template <class V>
  void visit(V& v) {
    v("nowait", nowait);
  }
  bool operator==(const confirm_select&) const = default;
};

struct confirm_select_ok {
  static constexpr method_traits traits{
      .class_id = 85, .method_id = 11, .name = "confirm.select-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const confirm_select_ok&) const = default;
};

}  // namespace tern::amqp
