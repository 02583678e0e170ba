#pragma once
// FindCoordinator (key 10), v0-3 (flexible from 3): which broker coordinates a group
// (key_type 0) or a transactional id (key_type 1, v1+).

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct find_coordinator_request {
  static constexpr kafka::api_key api = api_key::find_coordinator;

  std::string key;
  int8_t key_type = 0;

  template <class V>
  void visit(V& v) {
    v(key);
    v(key_type, since(1));
  }
};

struct find_coordinator_response {
  static constexpr kafka::api_key api = api_key::find_coordinator;

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::optional<std::string> error_message;
  int32_t node_id = 0;
  std::string host;
  int32_t port = 0;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms, since(1));
    v(error_code);
    v(error_message, since(1));
    v(node_id);
    v(host);
    v(port);
  }
};

}  // namespace tern::kafka
