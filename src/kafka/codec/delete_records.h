#pragma once
// DeleteRecords (key 21), v0-1 (no flexible version in range): moves a partition's log start
// offset forward to `offset` (-1: the high watermark).

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct delete_records_request {
  static constexpr kafka::api_key api = api_key::delete_records;

  struct delete_records_partition {
    int32_t partition_index = 0;
    int64_t offset = 0;
    template <class V>
    void visit(V& v) {
      v(partition_index);
      v(offset);
    }
  };
  struct delete_records_topic {
    std::string name;
    std::vector<delete_records_partition> partitions;
    template <class V>
    void visit(V& v) {
      v(name);
      v(partitions);
    }
  };

  std::vector<delete_records_topic> topics;
  int32_t timeout_ms = 0;

  template <class V>
  void visit(V& v) {
    v(topics);
    v(timeout_ms);
  }
};

struct delete_records_response {
  static constexpr kafka::api_key api = api_key::delete_records;

  struct delete_records_partition_result {
    int32_t partition_index = 0;
    int64_t low_watermark = 0;
    int16_t error_code = 0;
    template <class V>
    void visit(V& v) {
      v(partition_index);
      v(low_watermark);
      v(error_code);
    }
  };
  struct delete_records_topic_result {
    std::string name;
    std::vector<delete_records_partition_result> partitions;
    template <class V>
    void visit(V& v) {
      v(name);
      v(partitions);
    }
  };

  int32_t throttle_time_ms = 0;
  std::vector<delete_records_topic_result> topics;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms);
    v(topics);
  }
};

}  // namespace tern::kafka
