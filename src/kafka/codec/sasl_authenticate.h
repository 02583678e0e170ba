#pragma once
// SaslAuthenticate (key 36), v0-2 (flexible from 2): one SASL token each way.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct sasl_authenticate_request {
  static constexpr kafka::api_key api = api_key::sasl_authenticate;

  bytes::buffer auth_bytes;

  template <class V>
  void visit(V& v) {
    v(auth_bytes);
  }
};

struct sasl_authenticate_response {
  static constexpr kafka::api_key api = api_key::sasl_authenticate;

  int16_t error_code = 0;
  std::optional<std::string> error_message;
  bytes::buffer auth_bytes;
  int64_t session_lifetime_ms = 0;  // v1+: 0 means the session does not expire

  template <class V>
  void visit(V& v) {
    v(error_code);
    v(error_message);
    v(auth_bytes);
    v(session_lifetime_ms, since(1));
  }
};

}  // namespace tern::kafka
