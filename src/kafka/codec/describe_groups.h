#pragma once
// DescribeGroups (key 15), v0-5 (flexible from 5).

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct describe_groups_request {
  static constexpr kafka::api_key api = api_key::describe_groups;

  std::vector<std::string> groups;
  bool include_authorized_operations = false;

  template <class V>
  void visit(V& v) {
    v(groups);
    v(include_authorized_operations, since(3));
  }
};

struct describe_groups_response {
  static constexpr kafka::api_key api = api_key::describe_groups;

  struct described_group_member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    bytes::buffer member_metadata;
    bytes::buffer member_assignment;
    template <class V>
    void visit(V& v) {
      v(member_id);
      v(group_instance_id, since(4));
      v(client_id);
      v(client_host);
      v(member_metadata);
      v(member_assignment);
    }
  };
  struct described_group {
    int16_t error_code = 0;
    std::string group_id;
    std::string group_state;
    std::string protocol_type;
    std::string protocol_data;
    std::vector<described_group_member> members;
    int32_t authorized_operations = std::numeric_limits<int32_t>::min();
    template <class V>
    void visit(V& v) {
      v(error_code);
      v(group_id);
      v(group_state);
      v(protocol_type);
      v(protocol_data);
      v(members);
      v(authorized_operations, since(3));
    }
  };

  int32_t throttle_time_ms = 0;
  std::vector<described_group> groups;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(1));
    v(groups);
  }
};

}  // namespace tern::kafka
