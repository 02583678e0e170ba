#pragma once
// Class exchange (40): declaring, deleting and binding exchanges.
// exchange.bind/unbind (exchange-to-exchange bindings) are RabbitMQ extensions.
// Descriptions in the form of schema.h; fields are the spec's, defaults its default values.

#include <cstdint>
#include <string>

#include "amqp/codec/schema.h"

namespace tern::amqp {

struct exchange_declare {
  static constexpr method_traits traits{.class_id = 40,
                                        .method_id = 10,
                                        .name = "exchange.declare",
                                        .synchronous = true,
                                        .reply = {40, 11}};

  uint16_t ticket = 0;
  std::string exchange;
  std::string type = "direct";
  bool passive = false;
  bool durable = false;
  bool auto_delete = false;
  bool internal = false;
  bool nowait = false;
  field_table arguments;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
    v("exchange", exchange);
    v("type", type);
    v("passive", passive);
    v("durable", durable);
    v("auto-delete", auto_delete);
    v("internal", internal);
    v("nowait", nowait);
    v("arguments", arguments);
  }
  bool operator==(const exchange_declare&) const = default;
};

struct exchange_declare_ok {
  static constexpr method_traits traits{
      .class_id = 40, .method_id = 11, .name = "exchange.declare-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const exchange_declare_ok&) const = default;
};

struct exchange_delete {
  static constexpr method_traits traits{.class_id = 40,
                                        .method_id = 20,
                                        .name = "exchange.delete",
                                        .synchronous = true,
                                        .reply = {40, 21}};

  uint16_t ticket = 0;
  std::string exchange;
  bool if_unused = false;
  bool nowait = false;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
    v("exchange", exchange);
    v("if-unused", if_unused);
    v("nowait", nowait);
  }
  bool operator==(const exchange_delete&) const = default;
};

struct exchange_delete_ok {
  static constexpr method_traits traits{
      .class_id = 40, .method_id = 21, .name = "exchange.delete-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const exchange_delete_ok&) const = default;
};

struct exchange_bind {
  static constexpr method_traits traits{.class_id = 40,
                                        .method_id = 30,
                                        .name = "exchange.bind",
                                        .synchronous = true,
                                        .reply = {40, 31}};

  uint16_t ticket = 0;
  std::string destination;
  std::string source;
  std::string routing_key;
  bool nowait = false;
  field_table arguments;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
    v("destination", destination);
    v("source", source);
    v("routing-key", routing_key);
    v("nowait", nowait);
    v("arguments", arguments);
  }
  bool operator==(const exchange_bind&) const = default;
};

struct exchange_bind_ok {
  static constexpr method_traits traits{
      .class_id = 40, .method_id = 31, .name = "exchange.bind-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const exchange_bind_ok&) const = default;
};

struct exchange_unbind {
  static constexpr method_traits traits{.class_id = 40,
                                        .method_id = 40,
                                        .name = "exchange.unbind",
                                        .synchronous = true,
                                        .reply = {40, 51}};

  uint16_t ticket = 0;
  std::string destination;
  std::string source;
  std::string routing_key;
  bool nowait = false;
  field_table arguments;

  template <class V>
  void visit(V& v) {
    v("ticket", ticket);
    v("destination", destination);
    v("source", source);
    v("routing-key", routing_key);
    v("nowait", nowait);
    v("arguments", arguments);
  }
  bool operator==(const exchange_unbind&) const = default;
};

struct exchange_unbind_ok {
  static constexpr method_traits traits{
      .class_id = 40, .method_id = 51, .name = "exchange.unbind-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const exchange_unbind_ok&) const = default;
};

}  // namespace tern::amqp
