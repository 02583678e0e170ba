#pragma once
// ListGroups (key 16), v0-4 (flexible from 3). v4 filters by state and answers the state.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct list_groups_request {
  static constexpr kafka::api_key api = api_key::list_groups;

  std::vector<std::string> states_filter;

  template <class V>
  void visit(V& v) {
    v(states_filter, since(4));
  }
};

struct list_groups_response {
  static constexpr kafka::api_key api = api_key::list_groups;

  struct listed_group {
    std::string group_id;
    std::string protocol_type;
    std::string group_state;
    template <class V>
    void visit(V& v) {
      v(group_id);
      v(protocol_type);
      v(group_state, since(4));
    }
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::vector<listed_group> groups;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(1));
    v(error_code);
    v(groups);
  }
};

}  // namespace tern::kafka
