#pragma once
// OffsetCommit (key 8), v0-8 (flexible from 8). v0 commits to ZooKeeper-era storage (no
// generation); v1 alone carries a per-partition commit timestamp; v2-4 a retention time.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct offset_commit_request {
  static constexpr kafka::api_key api = api_key::offset_commit;

  struct offset_commit_request_partition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;
    int64_t commit_timestamp = -1;
    std::optional<std::string> committed_metadata;
    template <class V>
    void visit(V& v) {
      v(partition_index);
      v(committed_offset);
      v(committed_leader_epoch, since(6));
      v(commit_timestamp, versions(1, 1));
      v(committed_metadata);
    }
  };
  struct offset_commit_request_topic {
    std::string name;
    std::vector<offset_commit_request_partition> partitions;
    template <class V>
    void visit(V& v) {
      v(name);
      v(partitions);
    }
  };

  std::string group_id;
  int32_t generation_id_or_member_epoch = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  int64_t retention_time_ms = -1;
  std::vector<offset_commit_request_topic> topics;

  template <class V>
  void visit(V& v) {
    v(group_id);
    v(generation_id_or_member_epoch, since(1));
    v(member_id, since(1));
    v(group_instance_id, since(7));
    v(retention_time_ms, versions(2, 4));
    v(topics);
  }
};

struct offset_commit_response {
  static constexpr kafka::api_key api = api_key::offset_commit;

  struct offset_commit_response_partition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    template <class V>
    void visit(V& v) {
      v(partition_index);
      v(error_code);
    }
  };
  struct offset_commit_response_topic {
    std::string name;
    std::vector<offset_commit_response_partition> partitions;
    template <class V>
    void visit(V& v) {
      v(name);
      v(partitions);
    }
  };

  int32_t throttle_time_ms = 0;
  std::vector<offset_commit_response_topic> topics;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(3));
    v(topics);
  }
};

}  // namespace tern::kafka
