#pragma once
// LeaveGroup (key 13), v0-4 (flexible from 4). v0-2 name one member (member_id); v3+ a batch
// of members (KIP-345), each with its own error.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct leave_group_request {
  static constexpr kafka::api_key api = api_key::leave_group;

  struct member_identity {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    template <class V>
    void visit(V& v) {
      v(member_id);
      v(group_instance_id);
    }
  };

  std::string group_id;
  std::string member_id;
  std::vector<member_identity> members;

  template <class V>
  void visit(V& v) {
    v(group_id);
    v(member_id, until(2));
    v(members, since(3));
  }
};

struct leave_group_response {
  static constexpr kafka::api_key api = api_key::leave_group;

  struct member_response {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    int16_t error_code = 0;
    template <class V>
    void visit(V& v) {
      v(member_id);
      v(group_instance_id);
      v(error_code);
    }
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::vector<member_response> members;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(1));
    v(error_code);
    v(members, since(3));
  }
};

}  // namespace tern::kafka
