#pragma once
// Class tx (90): transactions over publishes and acks on one channel.
// Descriptions in the form of schema.h; fields are the spec's, defaults its default values.

#include <cstdint>
#include <string>

#include "amqp/codec/schema.h"

namespace tern::amqp {

struct tx_select {
  static constexpr method_traits traits{
      .class_id = 90, .method_id = 10, .name = "tx.select", .synchronous = true, .reply = {90, 11}};

  template <class V>
  void visit(V&) {}
  bool operator==(const tx_select&) const = default;
};

struct tx_select_ok {
  static constexpr method_traits traits{.class_id = 90, .method_id = 11, .name = "tx.select-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const tx_select_ok&) const = default;
};

struct tx_commit {
  static constexpr method_traits traits{
      .class_id = 90, .method_id = 20, .name = "tx.commit", .synchronous = true, .reply = {90, 21}};

  template <class V>
  void visit(V&) {}
  bool operator==(const tx_commit&) const = default;
};

struct tx_commit_ok {
  static constexpr method_traits traits{.class_id = 90, .method_id = 21, .name = "tx.commit-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const tx_commit_ok&) const = default;
};

struct tx_rollback {
  static constexpr method_traits traits{.class_id = 90,
                                        .method_id = 30,
                                        .name = "tx.rollback",
                                        .synchronous = true,
                                        .reply = {90, 31}};

  template <class V>
  void visit(V&) {}
  bool operator==(const tx_rollback&) const = default;
};

struct tx_rollback_ok {
  static constexpr method_traits traits{.class_id = 90, .method_id = 31, .name = "tx.rollback-ok"};

  template <class V>
  void visit(V&) {}
  bool operator==(const tx_rollback_ok&) const = default;
};

}  // namespace tern::amqp
