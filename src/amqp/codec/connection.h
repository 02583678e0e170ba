#pragma once
// Class connection (10): opening, tuning and closing a connection, on channel 0.
// Order: server start, client start-ok (SASL response), [secure, secure-ok]*, server tune,
// client tune-ok, client open, server open-ok. Either side may close; close-ok answers it.
// blocked/unblocked are RabbitMQ's extension (server to client, capability
// "connection.blocked"); update-secret is its credential refresh.
// Descriptions in the form of schema.h; fields are the spec's, defaults its default values.

#include <cstdint>
#include <string>

#include "amqp/codec/schema.h"

namespace tern::amqp {

struct connection_start {
  static constexpr method_traits traits{.class_id = 10,
                                        .method_id = 10,
                                        .name = "connection.start",
                                        .synchronous = true,
                                        .reply = {10, 11}};

  uint8_t version_major = 0;
  uint8_t version_minor = 9;
  field_table server_properties;
  std::string mechanisms = "PLAIN";
  std::string locales = "en_US";

  template <class V>
  void visit(V& v) {
    v("version-major", version_major);
    v("version-minor", version_minor);
    v("server-properties", server_properties);
    v("mechanisms", mechanisms, longstr);
    v("locales", locales, longstr);
  }
  bool operator==(const connection_start&) const = default;
};

struct connection_start_ok {
  static constexpr method_traits traits{
      .class_id = 10, .method_id = 11, .name = "connection.start-ok"};

  field_table client_properties;
  std::string mechanism = "PLAIN";
  std::string response;
  std::string locale = "en_US";

  template <class V>
  void visit(V& v) {
    v("client-properties", client_properties);
    v("mechanism", mechanism);
    v("response", response, longstr);
    v("locale", locale);
  }
  bool operator==(const connection_start_ok&) const = default;
};

struct connection_secure {
  static constexpr method_traits traits{.class_id = 10,
                                        .method_id = 20,
                                        .name = "connection.secure",
                                        .synchronous = true,
                                        .reply = {10, 21}};

  std::string challenge;

  template <class V>
  void visit(V& v) {
    v("challenge", challenge, longstr);
  }
  bool operator==(const connection_secure&) const = default;
};

struct connection_secure_ok {
  static constexpr method_traits traits{
      .class_id = 10, .method_id = 21, .name = "connection.secure-ok"};

  std::string response;

  template <class V>
  void visit(V& v) {
    v("response", response, longstr);
  }
  bool operator==(const connection_secure_ok&) const = default;
};

struct connection_tune {
  static constexpr method_traits traits{.class_id = 10,
                                        .method_id = 30,
                                        .name = "connection.tune",
                                        .synchronous = true,
                                        .reply = {10, 31}};

  uint16_t channel_max = 0;
  uint32_t frame_max = 0;
  uint16_t heartbeat = 0;

  template <class V>
  void visit(V& v) {
    v("channel-max", channel_max);
    v("frame-max", frame_max);
    v("heartbeat", heartbeat);
  }
  bool operator==(const connection_tune&) const = default;
};

struct connection_tune_ok {
  static constexpr method_traits traits{
      .class_id = 10, .method_id = 31, .name = "connection.tune-ok"};

  uint16_t channel_max = 0;
  uint32_t frame_max = 0;
  uint16_t heartbeat = 0;

  template <class V>
  void visit(V& v) {
    v("channel-max", channel_max);
    v("frame-max", frame_max);
    v("heartbeat", heartbeat);
  }
  bool operator==(const connection_tune_ok&) const = default;
};

struct connection_open {
  static constexpr method_traits traits{.class_id = 10,
                                        .method_id = 40,
                                        .name = "connection.open",
                                        .synchronous = true,
                                        .reply = {10, 41}};

  std::string virtual_host = "/";
  std::string capabilities;
  bool insist = false;

  template <class V>
  void visit(V& v) {
    v("virtual-host", virtual_host);
    v("capabilities", capabilities);
    v("insist", insist);
  }
  bool operator==(const connection_open&) const = default;
};

struct connection_open_ok {
  static constexpr method_traits traits{
      .class_id = 10, .method_id = 41, .name = "connection.open-ok"};

  std::string known_hosts;

  template <class V>
  void visit(V& v) {
    v("known-hosts", known_hosts);
  }
  bool operator==(const connection_open_ok&) const = default;
};

struct connection_close {
  static constexpr method_traits traits{.class_id = 10,
                                        .method_id = 50,
                                        .name = "connection.close",
                                        .synchronous = true,
                                        .reply = {10, 51}};

  uint16_t reply_code = 0;
  std::string reply_text;
  uint16_t class_id = 0;
  uint16_t method_id = 0;

  template <class V>
  void visit(V& v) {
    v("reply-code", reply_code);
    v("reply-text", reply_text);
    v("class-id", class_id);
    v("method-id", method_id);
  }
  bool operator==(const connection_close&) const = default;
};

struct connection_close_ok {
  static constexpr method_traits traits{
      .class_id = 10, .method_id = 51, .name = "connection.close-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const connection_close_ok&) const = default;
};

struct connection_blocked {
  static constexpr method_traits traits{
      .class_id = 10, .method_id = 60, .name = "connection.blocked"};

  std::string reason;

  template <class V>
  void visit(V& v) {
    v("reason", reason);
  }
  bool operator==(const connection_blocked&) const = default;
};

struct connection_unblocked {
  static constexpr method_traits traits{
      .class_id = 10, .method_id = 61, .name = "connection.unblocked"};

  template <class V>
  void visit(V&) {}
  bool operator==(const connection_unblocked&) const = default;
};

struct connection_update_secret {
  static constexpr method_traits traits{.class_id = 10,
                                        .method_id = 70,
                                        .name = "connection.update-secret",
                                        .synchronous = true,
                                        .reply = {10, 71}};

  std::string new_secret;
  std::string reason;

  template <class V>
  void visit(V& v) {
    v("new-secret", new_secret, longstr);
    v("reason", reason);
  }
  bool operator==(const connection_update_secret&) const = default;
};

struct connection_update_secret_ok {
  static constexpr method_traits traits{
      .class_id = 10, .method_id = 71, .name = "connection.update-secret-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const connection_update_secret_ok&) const = default;
};

}  // namespace tern::amqp
