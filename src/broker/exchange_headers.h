#pragma once
// Headers-exchange matching, with RabbitMQ's semantics (rabbit_exchange_type_headers). A
// binding's arguments are the pattern; its "x-match" argument says how to combine them:
//
//   x-match       pattern fields compared                    matches when
//   all (default) those whose name does not start with "x-"  every one matches
//   any           those whose name does not start with "x-"  at least one matches
//   all-with-x    all but "x-match" itself                   every one matches
//   any-with-x    all but "x-match" itself                   at least one matches
//
// A pattern field matches when the message has a header of that name and either the
// pattern value is void (a presence test) or the values are equal by header_values_match
// (numbers by value: 1 matches 1.0 and any integer width). Consequences worth knowing: "all"
// with no fields to compare matches every message, "any" with none matches nothing.

#include <string_view>
#include <utility>
#include <vector>

#include "broker/routing_errc.h"
#include "broker/routing_header_value.h"

namespace tern::broker {

enum class x_match { all, any, all_with_x, any_with_x };

// Reads and validates the "x-match" argument of a binding to a headers exchange (absent:
// all). precondition_failed, with RabbitMQ's text, for a value other than the four strings.
routing_status parse_x_match(const header_table& binding_args, x_match& out);

// A message's headers sorted once per route, so that each binding's fields are binary
// searches. Views into `headers`, which must outlive the index. Repeated names: the first
// occurrence counts.
class header_index {
 public:
  explicit header_index(const header_table& headers);
  const header_value* find(std::string_view name) const;

 private:
  std::vector<std::pair<std::string_view, const header_value*>> _sorted;
};

bool headers_match(x_match mode, const header_table& binding_args, const header_index& message);

}  // namespace tern::broker
