#pragma once
// Header values in a protocol-neutral form: message headers that headers exchanges match,
// binding arguments and exchange arguments. The AMQP layer converts its field tables into
// these (and back); other protocols can map their attributes the same way.
//
//   AMQP field type                      header_value
//   V (void)                             std::monostate
//   t (boolean)                          bool
//   b B s u I i l T (integers, timestamp) int64_t   (every AMQP integer fits)
//   f d (float, double)                  double
//   D (decimal)                          the AMQP layer's choice (a string, say)
//   S x (long string, byte array)        std::string (bytes, not necessarily UTF-8)
//   A (array)                            header_array
//   F (table)                            header_table
//
// A header_table is ordered and may repeat a name, as an AMQP table on the wire can; lookups
// take the first occurrence.

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "broker/routing_errc.h"

namespace tern::broker {

struct header_value;
using header_array = std::vector<header_value>;
using header_field = std::pair<std::string, header_value>;
using header_table = std::vector<header_field>;

// The integers a header_value holds exactly: not bool, not uint64_t.
template <class I>
concept header_integer = std::integral<I> && !std::same_as<I, bool> &&
                         (std::is_signed_v<I> || sizeof(I) < sizeof(int64_t));

struct header_value {
  using storage =
      std::variant<std::monostate, bool, int64_t, double, std::string, header_array, header_table>;
  storage v;

  header_value() = default;
  header_value(std::monostate) {}  // NOLINT: implicit by design, like the others
  header_value(bool b) : v(b) {}   // NOLINT
  template <header_integer I>
  header_value(I i) : v(static_cast<int64_t>(i)) {}        // NOLINT
  header_value(double d) : v(d) {}                         // NOLINT
  header_value(std::string s) : v(std::move(s)) {}         // NOLINT
  header_value(std::string_view s) : v(std::string(s)) {}  // NOLINT
  header_value(const char* s) : v(std::string(s)) {}       // NOLINT: not bool
  header_value(header_array a) : v(std::move(a)) {}        // NOLINT
  header_value(header_table t) : v(std::move(t)) {}        // NOLINT

  bool is_void() const { return std::holds_alternative<std::monostate>(v); }
  const bool* as_bool() const { return std::get_if<bool>(&v); }
  const int64_t* as_int() const { return std::get_if<int64_t>(&v); }
  const double* as_double() const { return std::get_if<double>(&v); }
  const std::string* as_string() const { return std::get_if<std::string>(&v); }
  const header_array* as_array() const { return std::get_if<header_array>(&v); }
  const header_table* as_table() const { return std::get_if<header_table>(&v); }

  // Strict equality: same alternative, equal contents (1 != 1.0, NaN != NaN).
  friend bool operator==(const header_value&, const header_value&) = default;
};

// "void", "bool", "int", "double", "string", "array" or "table".
std::string_view type_name(const header_value& v);

// A short human-readable rendering for error messages: strings as they are, numbers and
// booleans as literals, "void", and "[...]"/"{...}" for arrays and tables.
std::string display(const header_value& v);

// The first field named `name`, or nullptr.
const header_value* find_header(const header_table& t, std::string_view name);

// Headers-exchange value equality, as RabbitMQ compares with Erlang's `==`: numbers by value
// whatever their type (1 matches 1.0), strings by bytes, arrays and tables element by element
// with the same rule. A void binding value is a presence test and never reaches this.
bool header_values_match(const header_value& binding_value, const header_value& message_value);

// The fields sorted by name, stable for repeated names (RabbitMQ's sort_field_table): binding
// arguments are kept in this order so that {a,b} and {b,a} are the same binding.
header_table sorted_by_name(header_table t);

// An injective byte encoding of a table (type-tagged, length-prefixed): two tables have the
// same encoding iff they are strictly equal (doubles by bit pattern). Used as the identity of
// a binding's arguments.
std::string canonical_bytes(const header_table& t);

// --- JSON (durable metadata; see routing_table.h for the file) -----------------------------
// Strings that are valid UTF-8 become JSON strings, others {"hex": "..."}, so dump() never
// throws. Values: null, true/false, integers, finite doubles as JSON numbers (non-finite as
// {"double": "nan" | "inf" | "-inf"}), {"array": [...]}, {"table": [[name, value], ...]}.
// A table at the top level is the bare [[name, value], ...] list.
nlohmann::json bytes_to_json(std::string_view bytes);
bool bytes_from_json(const nlohmann::json& j, std::string& out);
nlohmann::json header_table_to_json(const header_table& t);
// Rejects anything to_json would not have written, and nesting deeper than max_depth.
routing_status header_table_from_json(const nlohmann::json& j, header_table& out,
                                      int max_depth = 64);

bool is_valid_utf8(std::string_view s);

}  // namespace tern::broker
