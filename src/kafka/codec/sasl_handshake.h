#pragma once
// SaslHandshake (key 17), v0-1 (never flexible). v0 is followed by raw SASL tokens on the
// socket; v1 by SaslAuthenticate requests (what librdkafka needs).

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct sasl_handshake_request {
  static constexpr kafka::api_key api = api_key::sasl_handshake;

  std::string mechanism;

  template <class V>
  void visit(V& v) {
    v(mechanism);
  }
};

struct sasl_handshake_response {
  static constexpr kafka::api_key api = api_key::sasl_handshake;

  int16_t error_code = 0;
  std::vector<std::string> mechanisms;

  template <class V>
  void visit(V& v) {
    v(error_code);
    v(mechanisms);
  }
};

}  // namespace tern::kafka
