#pragma once
// OffsetFetch (key 9), v0-7 (flexible from 6). One group per request in this range (the
// multi-group form is v8+). Null `topics` (v2+) asks for every partition of the group.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct offset_fetch_request {
  static constexpr kafka::api_key api = api_key::offset_fetch;

  struct offset_fetch_request_topic {
    std::string name;
    std::vector<int32_t> partition_indexes;
    template <class V>
    void visit(V& v) {
      v(name);
      v(partition_indexes);
    }
  };

  std::string group_id;
  std::optional<std::vector<offset_fetch_request_topic>> topics;
  bool require_stable = false;

  template <class V>
  void visit(V& v) {
    v(group_id);
    v(topics, nullable_from(2));
    v(require_stable, since(7));
  }
};

struct offset_fetch_response {
  static constexpr kafka::api_key api = api_key::offset_fetch;

  struct offset_fetch_response_partition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;
    std::optional<std::string> metadata;
    int16_t error_code = 0;
    template <class V>
    void visit(V& v) {
      v(partition_index);
      v(committed_offset);
      v(committed_leader_epoch, since(5));
      v(metadata);
      v(error_code);
    }
  };
  struct offset_fetch_response_topic {
    std::string name;
    std::vector<offset_fetch_response_partition> partitions;
    template <class V>
    void visit(V& v) {
      v(name);
      v(partitions);
    }
  };

  int32_t throttle_time_ms = 0;
  std::vector<offset_fetch_response_topic> topics;
  int16_t error_code = 0;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(3));
    v(topics);
    v(error_code, since(2));
  }
};

}  // namespace tern::kafka
