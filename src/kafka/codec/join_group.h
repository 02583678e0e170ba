#pragma once
// JoinGroup (key 11), v0-6 (flexible from 6). Protocol metadata and member metadata are
// opaque bytes (the consumer protocol's subscription), kept as the client sent them.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct join_group_request {
  static constexpr kafka::api_key api = api_key::join_group;

  struct join_group_request_protocol {
    std::string name;
    bytes::buffer metadata;
    template <class V>
    void visit(V& v) {
      v(name);
      v(metadata);
    }
  };

  std::string group_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;  // v0: the session timeout serves as both
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string protocol_type;
  std::vector<join_group_request_protocol> protocols;

  template <class V>
  void visit(V& v) {
    v(group_id);
    v(session_timeout_ms);
    v(rebalance_timeout_ms, since(1));
    v(member_id);
    v(group_instance_id, since(5));
    v(protocol_type);
    v(protocols);
  }
};

struct join_group_response {
  static constexpr kafka::api_key api = api_key::join_group;

  struct join_group_response_member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    bytes::buffer metadata;
    template <class V>
    void visit(V& v) {
      v(member_id);
      v(group_instance_id, since(5));
      v(metadata);
    }
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int32_t generation_id = -1;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  std::vector<join_group_response_member> members;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(2));
    v(error_code);
    v(generation_id);
    v(protocol_name);
    v(leader);
    v(member_id);
    v(members);
  }
};

}  // namespace tern::kafka
