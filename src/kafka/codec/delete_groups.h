#pragma once
// DeleteGroups (key 42), v0-2 (flexible from 2).

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct delete_groups_request {
  static constexpr kafka::api_key api = api_key::delete_groups;

  std::vector<std::string> groups_names;  // sic: the schema's name is GroupsNames

  template <class V>
  void visit(V& v) {
    v(groups_names);
  }
};

struct delete_groups_response {
  static constexpr kafka::api_key api = api_key::delete_groups;

  struct deletable_group_result {
    std::string group_id;
    int16_t error_code = 0;
    template <class V>
    void visit(V& v) {
      v(group_id);
      v(error_code);
    }
  };

  int32_t throttle_time_ms = 0;
  std::vector<deletable_group_result> results;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms);
    v(results);
  }
};

}  // namespace tern::kafka
