#pragma once
// DeleteTopics (key 20), v0-4 (flexible from 4).

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct delete_topics_request {
  static constexpr kafka::api_key api = api_key::delete_topics;

  std::vector<std::string> topic_names;
  int32_t timeout_ms = 0;

  template <class V>
  void visit(V& v) {
    v(topic_names);
    v(timeout_ms);
  }
};

struct delete_topics_response {
  static constexpr kafka::api_key api = api_key::delete_topics;

  struct deletable_topic_result {
    std::string name;
    int16_t error_code = 0;
    template <class V>
    void visit(V& v) {
      v(name);
      v(error_code);
    }
  };

  int32_t throttle_time_ms = 0;
  std::vector<deletable_topic_result> responses;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(1));
    v(responses);
  }
};

}  // namespace tern::kafka
