#pragma once
// Fetch (key 1), v0-11 (no flexible version in range). v4+ carries record batch v2 and the
// aborted transactions; v7+ adds fetch sessions (KIP-227); v11 the rack of the consumer.
// A response's `records` are usually file ranges of segment files, sent with sendfile.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct fetch_request {
  static constexpr kafka::api_key api = api_key::fetch;

  struct fetch_partition {
    int32_t partition = 0;
    int32_t current_leader_epoch = -1;
    int64_t fetch_offset = 0;
    int64_t log_start_offset = -1;
    int32_t partition_max_bytes = 0;
    template <class V>
    void visit(V& v) {
      v(partition);
      v(current_leader_epoch, since(9));
      v(fetch_offset);
      v(log_start_offset, since(5));
      v(partition_max_bytes);
    }
  };
  struct fetch_topic {
    std::string topic;
    std::vector<fetch_partition> partitions;
    template <class V>
    void visit(V& v) {
      v(topic);
      v(partitions);
    }
  };
  struct forgotten_topic {
    std::string topic;
    std::vector<int32_t> partitions;
    template <class V>
    void visit(V& v) {
      v(topic);
      v(partitions);
    }
  };

  int32_t replica_id = -1;
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = 0x7fffffff;
  int8_t isolation_level = 0;
  int32_t session_id = 0;
  int32_t session_epoch = -1;
  std::vector<fetch_topic> topics;
  std::vector<forgotten_topic> forgotten_topics_data;
  std::string rack_id;

  template <class V>
  void visit(V& v) {
    v(replica_id);
    v(max_wait_ms);
    v(min_bytes);
    v(max_bytes, since(3));
    v(isolation_level, since(4));
    v(session_id, since(7));
    v(session_epoch, since(7));
    v(topics);
    v(forgotten_topics_data, since(7));
    v(rack_id, since(11));
  }
};

struct fetch_response {
  static constexpr kafka::api_key api = api_key::fetch;

  struct aborted_transaction {
    int64_t producer_id = 0;
    int64_t first_offset = 0;
    template <class V>
    void visit(V& v) {
      v(producer_id);
      v(first_offset);
    }
  };
  struct partition_data {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    int64_t high_watermark = 0;
    int64_t last_stable_offset = -1;
    int64_t log_start_offset = -1;
    std::optional<std::vector<aborted_transaction>> aborted_transactions;
    int32_t preferred_read_replica = -1;
    kafka::records records;
    template <class V>
    void visit(V& v) {
      v(partition_index);
      v(error_code);
      v(high_watermark);
      v(last_stable_offset, since(4));
      v(log_start_offset, since(5));
      v(aborted_transactions, since(4));
      v(preferred_read_replica, since(11));
      v(records);
    }
  };
  struct fetchable_topic_response {
    std::string topic;
    std::vector<partition_data> partitions;
    template <class V>
    void visit(V& v) {
      v(topic);
      v(partitions);
    }
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int32_t session_id = 0;
  std::vector<fetchable_topic_response> responses;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(1));
    v(error_code, since(7));
    v(session_id, since(7));
    v(responses);
  }
};

}  // namespace tern::kafka
