#pragma once
// CreateTopics (key 19), v0-5 (flexible from 5). v5 answers the created topic's
// configuration, and a tagged error code for reading it.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct create_topics_request {
  static constexpr kafka::api_key api = api_key::create_topics;

  struct creatable_replica_assignment {
    int32_t partition_index = 0;
    std::vector<int32_t> broker_ids;
    template <class V>
    void visit(V& v) {
      v(partition_index);
      v(broker_ids);
    }
  };
  struct creatable_topic_config {
    std::string name;
    std::optional<std::string> value;
    template <class V>
    void visit(V& v) {
      v(name);
      v(value);
    }
  };
  struct creatable_topic {
    std::string name;
    int32_t num_partitions = 0;  // -1: the broker default (v4+)
    int16_t replication_factor = 0;
    std::vector<creatable_replica_assignment> assignments;
    std::vector<creatable_topic_config> configs;
    template <class V>
    void visit(V& v) {
      v(name);
      v(num_partitions);
      v(replication_factor);
      v(assignments);
      v(configs);
    }
  };

  std::vector<creatable_topic> topics;
  int32_t timeout_ms = 60000;
  bool validate_only = false;

  template <class V>
  void visit(V& v) {
    v(topics);
    v(timeout_ms);
    v(validate_only, since(1));
  }
};

struct create_topics_response {
  static constexpr kafka::api_key api = api_key::create_topics;

  struct creatable_topic_configs {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    int8_t config_source = -1;
    bool is_sensitive = false;
    template <class V>
    void visit(V& v) {
      v(name);
      v(value);
      v(read_only);
      v(config_source);
      v(is_sensitive);
    }
  };
  struct creatable_topic_result {
    std::string name;
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    int16_t topic_config_error_code = 0;
    int32_t num_partitions = -1;
    int16_t replication_factor = -1;
    std::optional<std::vector<creatable_topic_configs>> configs;
    template <class V>
    void visit(V& v) {
      v(name);
      v(error_code);
      v(error_message, since(1));
      v(topic_config_error_code, tagged(0, since(5)));
      v(num_partitions, since(5));
      v(replication_factor, since(5));
      v(configs, since(5));
    }
  };

  int32_t throttle_time_ms = 0;
  std::vector<creatable_topic_result> topics;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(2));
    v(topics);
  }
};

}  // namespace tern::kafka
