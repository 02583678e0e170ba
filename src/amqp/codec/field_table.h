#pragma once
// AMQP field tables and field values, with RabbitMQ's type set (its errata to the 0-9-1
// spec, which is what every client implements):
//
//   tag  type              C++                tag  type              C++
//   t    boolean           bool               f    float             float
//   b    int8              int8_t             d    double            double
//   B    uint8             uint8_t            D    decimal           amqp::decimal
//   s    int16             int16_t            S    long string       std::string
//   u    uint16            uint16_t           x    byte array        amqp::byte_array
//   I    int32             int32_t            A    array             field_array
//   i    uint32            uint32_t           T    timestamp (u64)   amqp::timestamp
//   l    int64             int64_t            F    table             field_table
//   V    void              std::monostate
//
// On the wire a table is a u32 byte length, then entries: a shortstr name, a type tag, the
// value. An array is a u32 byte length, then tagged values. A table keeps its entries in wire
// order, duplicates included, so re-encoding gives back the bytes it came from.
//
// Decoding is bounded: every length is checked against the bytes left before anything is
// allocated for it, and tables and arrays nest at most max_table_depth deep (a deeper one is a
// 502 SYNTAX_ERROR, as is an unknown type tag; input that ends early is a 501 FRAME_ERROR).
// A decoded value takes at most about 80 bytes of memory per input byte (a 2-byte entry is a
// 72-byte field_entry, and vectors may double), so a table stays within ~80x its frame.
//
// Reading arguments (handlers):
//   const field_table& args = declare.arguments;
//   if (auto* v = args.find("x-message-ttl")) {
//     auto ttl = as_int(*v);               // any integer type, widened to int64
//     if (!ttl) return precondition_failed("invalid arg 'x-message-ttl': " + type_name(*v));
//   }
//   std::optional<std::string_view> dlx = args.get_string("x-dead-letter-exchange");

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "amqp/codec/errors.h"
#include "bytes/buffer.h"

namespace tern::amqp {

inline constexpr int max_table_depth = 32;

struct decimal {
  uint8_t scale = 0;   // number of decimal digits after the point
  uint32_t value = 0;  // unscaled value
  bool operator==(const decimal&) const = default;
};

struct byte_array {
  bytes::buffer data;
  bool operator==(const byte_array&) const = default;
};

struct timestamp {
  uint64_t seconds = 0;  // POSIX time
  bool operator==(const timestamp&) const = default;
};

struct field_value;
struct field_entry;
using field_array = std::vector<field_value>;

struct field_table {
  field_table();
  field_table(std::initializer_list<field_entry> entries);
  // Out of line: field_entry is incomplete here, and field_value's variant needs these.
  field_table(const field_table&);
  field_table(field_table&&) noexcept;
  field_table& operator=(const field_table&);
  field_table& operator=(field_table&&) noexcept;
  ~field_table();

  // Entries in wire order. Names are not necessarily unique (the wire allows duplicates).
  std::vector<field_entry> entries;

  bool empty() const;
  size_t size() const;

  // The first entry with this name, or nullptr.
  const field_value* find(std::string_view name) const;
  field_value* find(std::string_view name);
  bool contains(std::string_view name) const { return find(name) != nullptr; }

  // Typed lookups: nullopt when the entry is absent OR of another type (use find + as_*
  // when the difference matters, e.g. to reject a mistyped argument).
  std::optional<int64_t> get_int(std::string_view name) const;              // b B s u I i l
  std::optional<std::string_view> get_string(std::string_view name) const;  // S
  std::optional<bool> get_bool(std::string_view name) const;                // t
  const field_table* get_table(std::string_view name) const;                // F
  const field_array* get_array(std::string_view name) const;                // A

  // Replaces the first entry with this name, or appends one.
  void set(std::string_view name, field_value value);
  // Removes every entry with this name; returns how many there were.
  size_t erase(std::string_view name);

  friend bool operator==(const field_table& a, const field_table& b);
};

struct field_value : std::variant<std::monostate, bool, int8_t, uint8_t, int16_t, uint16_t, int32_t,
                                  uint32_t, int64_t, float, double, decimal, std::string,
                                  byte_array, field_array, timestamp, field_table> {
  using variant::variant;
  using variant::operator=;
  field_value() = default;
  // A C string is a long string (not a bool).
  field_value(const char* s) : variant(std::string(s)) {}  // NOLINT: implicit by design

  const variant& as_variant() const { return *this; }
  variant& as_variant() { return *this; }

  friend bool operator==(const field_value& a, const field_value& b);
};

struct field_entry {
  std::string name;  // a shortstr on the wire: at most 255 bytes (longer is cut when encoded)
  field_value value;
  friend bool operator==(const field_entry& a, const field_entry& b);
};

inline bool field_table::empty() const { return entries.empty(); }
inline size_t field_table::size() const { return entries.size(); }

// The wire tag of a value ('t', 'I', 'S', ...).
char type_tag(const field_value& v);
// RabbitMQ's name for a value's type ("long", "signedint", "longstr", "table", ...), the
// word its error texts use: "invalid arg 'x-max-length' for queue 'q':
// {unacceptable_type,longstr}".
std::string_view type_name(const field_value& v);

// Value conversions; nullopt/nullptr for another type. as_int widens every integer type
// (b B s u I i l) to int64; as_double takes f and d and every integer type; as_string takes
// S only (RabbitMQ too wants a long string, not a byte array, for names in arguments).
std::optional<int64_t> as_int(const field_value& v);
std::optional<double> as_double(const field_value& v);
std::optional<std::string_view> as_string(const field_value& v);
std::optional<bool> as_bool(const field_value& v);

// Reads a table (u32 length, then entries) from r. On failure r is left failed and the error
// says why (501 for input that ends early, 502 for illegal content).
outcome<field_table> decode_field_table(bytes::byte_reader& r);

// Appends a table: u32 length, then entries in order.
void encode_field_table(const field_table& t, bytes::buffer& out);
bytes::buffer encode_field_table(const field_table& t);
// The encoded size of a table, length prefix included.
size_t encoded_size(const field_table& t);

// A compact rendering for logs: {"x-message-ttl": I 1000, "x-dead-letter-exchange": S "dlx"}.
std::string to_debug_string(const field_table& t);
std::string to_debug_string(const field_value& v);

namespace detail {
// The decoder behind decode_field_table, for the method and property decoders: reads a table
// (length prefix included) into `out`. False on failure, with `err` set and r failed.
bool read_table(bytes::byte_reader& r, field_table& out, error& err);
// Appends s in double quotes for a log line, escaping what is not printable, cut at 100 bytes.
void append_quoted(std::string& out, std::string_view s);
}  // namespace detail

}  // namespace tern::amqp
