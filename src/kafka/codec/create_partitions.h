#pragma once
// CreatePartitions (key 37), v0-2 (flexible from 2): grows a topic to `count` partitions.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct create_partitions_request {
  static constexpr kafka::api_key api = api_key::create_partitions;

  struct create_partitions_assignment {
    std::vector<int32_t> broker_ids;
    template <class V>
    void visit(V& v) {
      v(broker_ids);
    }
  };
  struct create_partitions_topic {
    std::string name;
    int32_t count = 0;
    std::optional<std::vector<create_partitions_assignment>> assignments;
    template <class V>
    void visit(V& v) {
      v(name);
      v(count);
      v(assignments);
    }
  };

  std::vector<create_partitions_topic> topics;
  int32_t timeout_ms = 0;
  bool validate_only = false;

  template <class V>
  void visit(V& v) {
    v(topics);
    v(timeout_ms);
    v(validate_only);
  }
};

struct create_partitions_response {
  static constexpr kafka::api_key api = api_key::create_partitions;

  struct create_partitions_topic_result {
    std::string name;
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    template <class V>
    void visit(V& v) {
      v(name);
      v(error_code);
      v(error_message);
    }
  };

  int32_t throttle_time_ms = 0;
  std::vector<create_partitions_topic_result> results;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms);
    v(results);
  }
};

}  // namespace tern::kafka
