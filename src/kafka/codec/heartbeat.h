#pragma once
// Heartbeat (key 12), v0-4 (flexible from 4).

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct heartbeat_request {
  static constexpr kafka::api_key api = api_key::heartbeat;

  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;

  template <class V>
  void visit(V& v) {
    v(group_id);
    v(generation_id);
    v(member_id);
    v(group_instance_id, since(3));
  }
};

struct heartbeat_response {
  static constexpr kafka::api_key api = api_key::heartbeat;

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(1));
    v(error_code);
  }
};

}  // namespace tern::kafka
