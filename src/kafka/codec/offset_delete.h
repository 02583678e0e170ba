#pragma once
// OffsetDelete (key 47), v0 only (never flexible): drops a group's committed offsets.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct offset_delete_request {
  static constexpr kafka::api_key api = api_key::offset_delete;

  struct offset_delete_request_partition {
    int32_t partition_index = 0;
    template <class V>
    void visit(V& v) {
      v(partition_index);
    }
  };
  struct offset_delete_request_topic {
    std::string name;
    std::vector<offset_delete_request_partition> partitions;
    template <class V>
    void visit(V& v) {
      v(name);
      v(partitions);
    }
  };

  std::string group_id;
  std::vector<offset_delete_request_topic> topics;

  template <class V>
  void visit(V& v) {
    v(group_id);
    v(topics);
  }
};

struct offset_delete_response {
  static constexpr kafka::api_key api = api_key::offset_delete;

  struct offset_delete_response_partition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    template <class V>
    void visit(V& v) {
      v(partition_index);
      v(error_code);
    }
  };
  struct offset_delete_response_topic {
    std::string name;
    std::vector<offset_delete_response_partition> partitions;
    template <class V>
    void visit(V& v) {
      v(name);
      v(partitions);
    }
  };

  int16_t error_code = 0;
  int32_t throttle_time_ms = 0;
  std::vector<offset_delete_response_topic> topics;

  template <class V>
  void visit(V& v) {
    v(error_code);
    v(throttle_time_ms);
    v(topics);
  }
};

}  // namespace tern::kafka
