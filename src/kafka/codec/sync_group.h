#pragma once
// SyncGroup (key 14), v0-4 (flexible from 4): the leader hands out assignments (opaque
// bytes of the consumer protocol); every member gets its own back.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct sync_group_request {
  static constexpr kafka::api_key api = api_key::sync_group;

  struct sync_group_request_assignment {
    std::string member_id;
    bytes::buffer assignment;
    template <class V>
    void visit(V& v) {
      v(member_id);
      v(assignment);
    }
  };

  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<sync_group_request_assignment> assignments;

  template <class V>
  void visit(V& v) {
    v(group_id);
    v(generation_id);
    v(member_id);
    v(group_instance_id, since(3));
    v(assignments);
  }
};

struct sync_group_response {
  static constexpr kafka::api_key api = api_key::sync_group;

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  bytes::buffer assignment;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(1));
    v(error_code);
    v(assignment);
  }
};

}  // namespace tern::kafka
