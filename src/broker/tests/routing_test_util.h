#pragma once
// Shorthands for the routing_table tests.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker/routing_table.h"

namespace tern::broker::testing {

inline exchange_declaration decl(std::string name, std::string type, bool durable = false,
                                 bool auto_delete = false, bool internal = false,
                                 header_table args = {}) {
  return {.name = std::move(name),
          .type = std::move(type),
          .passive = false,
          .durable = durable,
          .auto_delete = auto_delete,
          .internal = internal,
          .arguments = std::move(args)};
}

inline exchange_declaration passive(std::string name) {
  return {.name = std::move(name), .type = "", .passive = true};
}

inline binding to_queue(std::string source, std::string queue, std::string key = "",
                        header_table args = {}) {
  return {std::move(source), destination_kind::queue, std::move(queue), std::move(key),
          std::move(args)};
}

inline binding to_exchange(std::string source, std::string dest, std::string key = "",
                           header_table args = {}) {
  return {std::move(source), destination_kind::exchange, std::move(dest), std::move(key),
          std::move(args)};
}

using names = std::vector<std::string>;

// The queues of a successful route.
inline names route(const routing_table& t, std::string_view exchange, std::string_view key,
                   const header_table& headers = {}) {
  auto r = t.route(exchange, key, headers);
  EXPECT_TRUE(r.status) << r.status.message();
  return r.queues;
}

#define EXPECT_ROUTING_OK(expr)                         \
  do {                                                  \
    auto _st = (expr);                                  \
    EXPECT_TRUE(_st) << #expr << ": " << _st.message(); \
  } while (0)

#define ASSERT_ROUTING_OK(expr)                         \
  do {                                                  \
    auto _st = (expr);                                  \
    ASSERT_TRUE(_st) << #expr << ": " << _st.message(); \
  } while (0)

}  // namespace tern::broker::testing
