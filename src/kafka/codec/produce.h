#pragma once
// Produce (key 0), v0-8 (no flexible version in range). v3+ carries record batch v2.
// `records` of a decoded request view the request frame (zero copy; schema.h, codec.h).

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct produce_request {
  static constexpr kafka::api_key api = api_key::produce;

  struct partition_produce_data {
    int32_t index = 0;
    kafka::records records;
    template <class V>
    void visit(V& v) {
      v(index);
      v(records);
    }
  };
  struct topic_produce_data {
    std::string name;
    std::vector<partition_produce_data> partition_data;
    template <class V>
    void visit(V& v) {
      v(name);
      v(partition_data);
    }
  };

  std::optional<std::string> transactional_id;
  int16_t acks = 0;
  int32_t timeout_ms = 0;
  std::vector<topic_produce_data> topic_data;

  template <class V>
  void visit(V& v) {
    v(transactional_id, since(3));
    v(acks);
    v(timeout_ms);
    v(topic_data);
  }
};

struct produce_response {
  static constexpr kafka::api_key api = api_key::produce;

  struct batch_index_and_error_message {
    int32_t batch_index = 0;
    std::optional<std::string> batch_index_error_message;
    template <class V>
    void visit(V& v) {
      v(batch_index);
      v(batch_index_error_message);
    }
  };
  struct partition_produce_response {
    int32_t index = 0;
    int16_t error_code = 0;
    int64_t base_offset = 0;
    int64_t log_append_time_ms = -1;
    int64_t log_start_offset = -1;
    std::vector<batch_index_and_error_message> record_errors;
    std::optional<std::string> error_message;
    template <class V>
    void visit(V& v) {
      v(index);
      v(error_code);
      v(base_offset);
      v(log_append_time_ms, since(2));
      v(log_start_offset, since(5));
      v(record_errors, since(8));
      v(error_message, since(8));
    }
  };
  struct topic_produce_response {
    std::string name;
    std::vector<partition_produce_response> partition_responses;
    template <class V>
    void visit(V& v) {
      v(name);
      v(partition_responses);
    }
  };

  std::vector<topic_produce_response> responses;
  int32_t throttle_time_ms = 0;

  template <class V>
  void visit(V& v) {
    v(responses);
    v(throttle_time_ms, since(1));
  }
};

}  // namespace tern::kafka
