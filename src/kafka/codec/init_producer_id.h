#pragma once
// InitProducerId (key 22), v0-4 (flexible from 2): a producer id and epoch for idempotent
// and transactional producers. v3+ lets a producer bump its own epoch (producer_id/epoch).

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct init_producer_id_request {
  static constexpr kafka::api_key api = api_key::init_producer_id;

  std::optional<std::string> transactional_id;  // null: idempotence only
  int32_t transaction_timeout_ms = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;

  template <class V>
  void visit(V& v) {
    v(transactional_id);
    v(transaction_timeout_ms);
    v(producer_id, since(3));
    v(producer_epoch, since(3));
  }
};

struct init_producer_id_response {
  static constexpr kafka::api_key api = api_key::init_producer_id;

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = 0;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms);
    v(error_code);
    v(producer_id);
    v(producer_epoch);
  }
};

}  // namespace tern::kafka
