#pragma once
// Class basic (60): publishing, consuming, getting and acknowledging messages.
// publish, return, deliver and get-ok carry content (a content header and body frames
// follow). nack (RabbitMQ extension, capability "basic.nack") also goes server to client
// with publisher confirms; ack does too.
// Descriptions in the form of schema.h; fields are the spec's, defaults its default values.

#include <cstdint>
#include <string>

#include "amqp/codec/schema.h"

namespace tern::amqp {

struct basic_qos {
  static constexpr method_traits traits{
      .class_id = 60, .method_id = 10, .name = "basic.qos", .synchronous = true, .reply = {60, 11}};

  uint32_t prefetch_size = 0;
  uint16_t prefetch_count = 0;
  bool global = false;

  template <class V>
  void visit(V& v) {
    v("prefetch-size", prefetch_size);
    v("prefetch-count", prefetch_count);
    v("global", global);
  }
  bool operator==(const basic_qos&) const = default;
};

struct basic_qos_ok {
  static constexpr method_traits traits{.class_id = 60, .method_id = 11, .name = "basic.qos-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const basic_qos_ok&) const = default;
};

struct basic_consume {
  static constexpr method_traits traits{.class_id = 60,
                                        .method_id = 20,
                                        .name = "basic.consume",
                                        .synchronous = true,
                                        .reply = {60, 21}};

  uint16_t ticket = 0;
  std::string queue;
  std::string consumer_tag;
  bool no_local = false;
  bool no_ack = false;
  bool exclusive = false;
  bool nowait = false;
  field_table arguments;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
    v("queue", queue);
    v("consumer-tag", consumer_tag);
    v("no-local", no_local);
    v("no-ack", no_ack);
    v("exclusive", exclusive);
    v("nowait", nowait);
    v("arguments", arguments);
  }
  bool operator==(const basic_consume&) const = default;
};

struct basic_consume_ok {
  static constexpr method_traits traits{
      .class_id = 60, .method_id = 21, .name = "basic.consume-ok"};

  std::string consumer_tag;

  template <class V>
  void visit(V& v) {
    v("consumer-tag", consumer_tag);
  }
  bool operator==(const basic_consume_ok&) const = default;
};

struct basic_cancel {
  static constexpr method_traits traits{.class_id = 60,
                                        .method_id = 30,
                                        .name = "basic.cancel",
                                        .synchronous = true,
                                        .reply = {60, 31}};

  std::string consumer_tag;
  bool nowait = false;

  template <class V>
  void visit(V& v) {
    v("consumer-tag", consumer_tag);
    v("nowait", nowait);
  }
  bool operator==(const basic_cancel&) const = default;
};

struct basic_cancel_ok {
  static constexpr method_traits traits{.class_id = 60, .method_id = 31, .name = "basic.cancel-ok"};

  std::string consumer_tag;

  template <class V>
  void visit(V& v) {
    v("consumer-tag", consumer_tag);
  }
  bool operator==(const basic_cancel_ok&) const = default;
};

struct basic_publish {
  static constexpr method_traits traits{
      .class_id = 60, .method_id = 40, .name = "basic.publish", .content = true};

  uint16_t ticket = 0;
  std::string exchange;
  std::string routing_key;
  bool mandatory = false;
  bool immediate = false;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
    v("exchange", exchange);
    v("routing-key", routing_key);
    v("mandatory", mandatory);
    v("immediate", immediate);
  }
  bool operator==(const basic_publish&) const = default;
};

struct basic_return {
  static constexpr method_traits traits{
      .class_id = 60, .method_id = 50, .name = "basic.return", .content = true};

  uint16_t reply_code = 0;
  std::string reply_text;
  std::string exchange;
  std::string routing_key;

  template <class V>
  void visit(V& v) {
    v("reply-code", reply_code);
    v("reply-text", reply_text);
    v("exchange", exchange);
    v("routing-key", routing_key);
  }
  bool operator==(const basic_return&) const = default;
};

struct basic_deliver {
  static constexpr method_traits traits{
      .class_id = 60, .method_id = 60, .name = "basic.deliver", .content = true};

  std::string consumer_tag;
  uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;

  template <class V>
  void visit(V& v) {
    v("consumer-tag", consumer_tag);
    v("delivery-tag", delivery_tag);
    v("redelivered", redelivered);
    v("exchange", exchange);
    v("routing-key", routing_key);
  }
  bool operator==(const basic_deliver&) const = default;
};

struct basic_get {
  static constexpr method_traits traits{.class_id = 60,
                                        .method_id = 70,
                                        .name = "basic.get",
                                        .synchronous = true,
                                        .reply = {60, 71},
                                        .alt_reply = {60, 72}};

  uint16_t ticket = 0;
  std::string queue;
  bool no_ack = false;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
    v("queue", queue);
    v("no-ack", no_ack);
  }
  bool operator==(const basic_get&) const = default;
};

struct basic_get_ok {
  static constexpr method_traits traits{
      .class_id = 60, .method_id = 71, .name = "basic.get-ok", .content = true};

  uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  uint32_t message_count = 0;

  template <class V>
  void visit(V& v) {
    v("delivery-tag", delivery_tag);
    v("redelivered", redelivered);
    v("exchange", exchange);
    v("routing-key", routing_key);
    v("message-count", message_count);
  }
  bool operator==(const basic_get_ok&) const = default;
};

struct basic_get_empty {
  static constexpr method_traits traits{.class_id = 60, .method_id = 72, .name = "basic.get-empty"};

  std::string cluster_id;

  template <class V>
  void visit(V& v) {
    v("cluster-id", cluster_id);
  }
  bool operator==(const basic_get_empty&) const = default;
};

struct basic_ack {
  static constexpr method_traits traits{.class_id = 60, .method_id = 80, .name = "basic.ack"};

  uint64_t delivery_tag = 0;
  bool multiple = false;

  template <class V>
  void visit(V& v) {
    v("delivery-tag", delivery_tag);
    v("multiple", multiple);
  }
  bool operator==(const basic_ack&) const = default;
};

struct basic_reject {
  static constexpr method_traits traits{.class_id = 60, .method_id = 90, .name = "basic.reject"};

  uint64_t delivery_tag = 0;
  bool requeue = true;

  template <class V>
  void visit(V& v) {
    v("delivery-tag", delivery_tag);
    v("requeue", requeue);
  }
  bool operator==(const basic_reject&) const = default;
};

struct basic_recover_async {
  static constexpr method_traits traits{
      .class_id = 60, .method_id = 100, .name = "basic.recover-async"};

  bool requeue = false;

  template <class V>
  void visit(V& v) {
    v("requeue", requeue);
  }
  bool operator==(const basic_recover_async&) const = default;
};

struct basic_recover {
  static constexpr method_traits traits{.class_id = 60,
                                        .method_id = 110,
                                        .name = "basic.recover",
                                        .synchronous = true,
                                        .reply = {60, 111}};

  bool requeue = false;

  template <class V>
  void visit(V& v) {
    v("requeue", requeue);
  }
  bool operator==(const basic_recover&) const = default;
};

struct basic_recover_ok {
  static constexpr method_traits traits{
      .class_id = 60, .method_id = 111, .name = "basic.recover-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const basic_recover_ok&) const = default;
};

struct basic_nack {
  static constexpr method_traits traits{.class_id = 60, .method_id = 120, .name = "basic.nack"};

  uint64_t delivery_tag = 0;
  bool multiple = false;
  bool requeue = true;

  template <class V>
  void visit(V& v) {
    v("delivery-tag", delivery_tag);
    v("multiple", multiple);
    v("requeue", requeue);
  }
  bool operator==(const basic_nack&) const = default;
};

}  // namespace tern::amqp
