#pragma once
// Metadata (key 3), v0-9 (flexible from 9): brokers, topics and partition leaders.
// Which topics: v0 sends an empty array for "all topics", v1+ sends null (an empty array then
// means none). A null `topics` encodes as the empty array in v0, so both mean "all".

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct metadata_request {
  static constexpr kafka::api_key api = api_key::metadata;

  struct metadata_request_topic {
    std::string name;
    template <class V>
    void visit(V& v) {
      v(name);
    }
  };

  std::optional<std::vector<metadata_request_topic>> topics;
  bool allow_auto_topic_creation = true;  // v0-3 brokers always auto-created
  bool include_cluster_authorized_operations = false;
  bool include_topic_authorized_operations = false;

  template <class V>
  void visit(V& v) {
    v(topics, nullable_from(1));
    v(allow_auto_topic_creation, since(4));
    v(include_cluster_authorized_operations, since(8));
    v(include_topic_authorized_operations, since(8));
  }
};

struct metadata_response {
  static constexpr kafka::api_key api = api_key::metadata;

  struct metadata_response_broker {
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;
    template <class V>
    void visit(V& v) {
      v(node_id);
      v(host);
      v(port);
      v(rack, since(1));
    }
  };
  struct metadata_response_partition {
    int16_t error_code = 0;
    int32_t partition_index = 0;
    int32_t leader_id = 0;
    int32_t leader_epoch = -1;
    std::vector<int32_t> replica_nodes;
    std::vector<int32_t> isr_nodes;
    std::vector<int32_t> offline_replicas;
    template <class V>
    void visit(V& v) {
      v(error_code);
      v(partition_index);
      v(leader_id);
      v(leader_epoch, since(7));
      v(replica_nodes);
      v(isr_nodes);
      v(offline_replicas, since(5));
    }
  };
  struct metadata_response_topic {
    int16_t error_code = 0;
    std::string name;
    bool is_internal = false;
    std::vector<metadata_response_partition> partitions;
    int32_t topic_authorized_operations = std::numeric_limits<int32_t>::min();
    template <class V>
    void visit(V& v) {
      v(error_code);
      v(name);
      v(is_internal, since(1));
      v(partitions);
      v(topic_authorized_operations, since(8));
    }
  };

  int32_t throttle_time_ms = 0;
  std::vector<metadata_response_broker> brokers;
  std::optional<std::string> cluster_id;
  int32_t controller_id = -1;
  std::vector<metadata_response_topic> topics;
  int32_t cluster_authorized_operations = std::numeric_limits<int32_t>::min();

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(3));
    v(brokers);
    v(cluster_id, since(2));
    v(controller_id, since(1));
    v(topics);
    v(cluster_authorized_operations, since(8));
  }
};

}  // namespace tern::kafka
