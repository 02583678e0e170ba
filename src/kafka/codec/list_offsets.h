#pragma once
// ListOffsets (key 2), v0-5 (no flexible version in range): the offset for a timestamp, or
// for -1 (latest) / -2 (earliest). v0 answers a list of offsets (old_style_offsets); v1+ one
// timestamp/offset pair.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct list_offsets_request {
  static constexpr kafka::api_key api = api_key::list_offsets;

  struct list_offsets_partition {
    int32_t partition_index = 0;
    int32_t current_leader_epoch = -1;
    int64_t timestamp = 0;
    int32_t max_num_offsets = 1;
    template <class V>
    void visit(V& v) {
      v(partition_index);
      v(current_leader_epoch, since(4));
      v(timestamp);
      v(max_num_offsets, until(0));
    }
  };
  struct list_offsets_topic {
    std::string name;
    std::vector<list_offsets_partition> partitions;
    template <class V>
    void visit(V& v) {
      v(name);
      v(partitions);
    }
  };

  int32_t replica_id = 0;
  int8_t isolation_level = 0;
  std::vector<list_offsets_topic> topics;

  template <class V>
  void visit(V& v) {
    v(replica_id);
    v(isolation_level, since(2));
    v(topics);
  }
};

struct list_offsets_response {
  static constexpr kafka::api_key api = api_key::list_offsets;

  struct list_offsets_partition_response {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    std::vector<int64_t> old_style_offsets;
    int64_t timestamp = -1;
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    template <class V>
    void visit(V& v) {
      v(partition_index);
      v(error_code);
      v(old_style_offsets, until(0));
      v(timestamp, since(1));
      v(offset, since(1));
      v(leader_epoch, since(4));
    }
  };
  struct list_offsets_topic_response {
    std::string name;
    std::vector<list_offsets_partition_response> partitions;
    template <class V>
    void visit(V& v) {
      v(name);
      v(partitions);
    }
  };

  int32_t throttle_time_ms = 0;
  std::vector<list_offsets_topic_response> topics;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(2));
    v(topics);
  }
};

}  // namespace tern::kafka
