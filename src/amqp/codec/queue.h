#pragma once
// Class queue (50): declaring, binding, purging and deleting queues.
// Descriptions in the form of schema.h; fields are the spec's, defaults its default values.

#include <cstdint>
#include <string>

#include "amqp/codec/schema.h"

namespace tern::amqp {

struct queue_declare {
  static constexpr method_traits traits{.class_id = 50,
                                        .method_id = 10,
                                        .name = "queue.declare",
                                        .synchronous = true,
                                        .reply = {50, 11}};

  uint16_t ticket = 0;
  std::string queue;
  bool passive = false;
  bool durable = false;
  bool exclusive = false;
  bool auto_delete = false;
  bool nowait = false;
  field_table arguments;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
    v("queue", queue);
    v("passive", passive);
    v("durable", durable);
    v("exclusive", exclusive);
    v("auto-delete", auto_delete);
    v("nowait", nowait);
    v("arguments", arguments);
  }
  bool operator==(const queue_declare&) const = default;
};

struct queue_declare_ok {
  static constexpr method_traits traits{
      .class_id = 50, .method_id = 11, .name = "queue.declare-ok"};

  std::string queue;
  uint32_t message_count = 0;
  uint32_t consumer_count = 0;

  template <class V>
  void visit(V& v) {
    v("queue", queue);
    v("message-count", message_count);
    v("consumer-count", consumer_count);
  }
  bool operator==(const queue_declare_ok&) const = default;
};

struct queue_bind {
  static constexpr method_traits traits{.class_id = 50,
                                        .method_id = 20,
                                        .name = "queue.bind",
                                        .synchronous = true,
                                        .reply = {50, 21}};

  uint16_t ticket = 0;
  std::string queue;
  std::string exchange;
  std::string routing_key;
  bool nowait = false;
  field_table arguments;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
    v("queue", queue);
    v("exchange", exchange);
    v("routing-key", routing_key);
    v("nowait", nowait);
    v("arguments", arguments);
  }
  bool operator==(const queue_bind&) const = default;
};

struct queue_bind_ok {
  static constexpr method_traits traits{.class_id = 50, .method_id = 21, .name = "queue.bind-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const queue_bind_ok&) const = default;
};

struct queue_purge {
  static constexpr method_traits traits{.class_id = 50,
                                        .method_id = 30,
                                        .name = "queue.purge",
                                        .synchronous = true,
                                        .reply = {50, 31}};

  uint16_t ticket = 0;
  std::string queue;
  bool nowait = false;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
    v("queue", queue);
    v("nowait", nowait);
  }
  bool operator==(const queue_purge&) const = default;
};

struct queue_purge_ok {
  static constexpr method_traits traits{.class_id = 50, .method_id = 31, .name = "queue.purge-ok"};

  uint32_t message_count = 0;

  template <class V>
  void visit(V& v) {
    v("message-count", message_count);
  }
  bool operator==(const queue_purge_ok&) const = default;
};

struct queue_delete {
  static constexpr method_traits traits{.class_id = 50,
                                        .method_id = 40,
                                        .name = "queue.delete",
                                        .synchronous = true,
                                        .reply = {50, 41}};

  uint16_t ticket = 0;
  std::string queue;
  bool if_unused = false;
  bool if_empty = false;
  bool nowait = false;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
    v("queue", queue);
    v("if-unused", if_unused);
    v("if-empty", if_empty);
    v("nowait", nowait);
  }
  bool operator==(const queue_delete&) const = default;
};

struct queue_delete_ok {
  static constexpr method_traits traits{.class_id = 50, .method_id = 41, .name = "queue.delete-ok"};

  uint32_t message_count = 0;

  template <class V>
  void visit(V& v) {
    v("message-count", message_count);
  }
  bool operator==(const queue_delete_ok&) const = default;
};

struct queue_unbind {
  static constexpr method_traits traits{.class_id = 50,
                                        .method_id = 50,
                                        .name = "queue.unbind",
                                        .synchronous = true,
                                        .reply = {50, 51}};

  uint16_t ticket = 0;
  std::string queue;
  std::string exchange;
  std::string routing_key;
  field_table arguments;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
    v("queue", queue);
    v("exchange", exchange);
    v("routing-key", routing_key);
    v("arguments", arguments);
  }
  bool operator==(const queue_unbind&) const = default;
};

struct queue_unbind_ok {
  static constexpr method_traits traits{.class_id = 50, .method_id = 51, .name = "queue.unbind-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const queue_unbind_ok&) const = default;
};

}  // namespace tern::amqp
