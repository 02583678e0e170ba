#include "amqp/codec/field_table.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <limits>

#include "base/check.h"

namespace tern::amqp {
using detail::append_quoted;

namespace {

// The wire tag of each field_value alternative, by variant index.
constexpr std::string_view kTags = "VtbBsuIilfdDSxATF";
static_assert(kTags.size() == std::variant_size_v<field_value::variant>);

// Reads tables and values, remembering the first error. Recursion is bounded by
// max_table_depth, so the stack is too.
class value_reader {
 public:
  error err;

  bool table(bytes::byte_reader& r, field_table& out, int depth) {
    if (depth > max_table_depth) return too_deep();
    bytes::byte_reader body;
    if (!section(r, body, "table")) return false;
    while (!body.empty()) {
      uint8_t name_len = body.u8();
      bytes::byte_view name = body.bytes(name_len);
      uint8_t tag = body.u8();
      if (!body.ok()) return truncated("a table entry");
      field_entry& e = out.entries.emplace_back();
      e.name.assign(bytes::as_chars(name));
      if (!value(body, e.value, tag, depth)) return false;
    }
    return true;
  }

 private:
  bool array(bytes::byte_reader& r, field_array& out, int depth) {
    if (depth > max_table_depth) return too_deep();
    bytes::byte_reader body;
    if (!section(r, body, "array")) return false;
    while (!body.empty()) {
      uint8_t tag = body.u8();
      if (!value(body, out.emplace_back(), tag, depth)) return false;
    }
    return true;
  }

  // A u32 length and that many bytes, viewed (not copied) by `body`.
  bool section(bytes::byte_reader& r, bytes::byte_reader& body, const char* what) {
    uint32_t len = r.u32();
    if (!r.ok()) return truncated(std::string("the length of a ") + what);
    if (len > r.remaining()) {
      r.fail();
      return truncated(std::string("a ") + what + " of " + std::to_string(len) + " bytes");
    }
    body = bytes::byte_reader(r.bytes(len));
    return true;
  }

  bool value(bytes::byte_reader& r, field_value& v, uint8_t tag, int depth) {
    switch (tag) {
      case 'V':
        v = std::monostate{};
        break;
      case 't':
        v = r.u8() != 0;
        break;
      case 'b':
        v = r.i8();
        break;
      case 'B':
        v = r.u8();
        break;
      case 's':
        v = r.i16();
        break;
      case 'u':
        v = r.u16();
        break;
      case 'I':
        v = r.i32();
        break;
      case 'i':
        v = r.u32();
        break;
      case 'l':
        v = r.i64();
        break;
      case 'f':
        v = std::bit_cast<float>(r.u32());
        break;
      case 'd':
        v = r.f64();
        break;
      case 'D': {
        decimal d;
        d.scale = r.u8();
        d.value = r.u32();
        v = d;
        break;
      }
      case 'T':
        v = timestamp{r.u64()};
        break;
      case 'S':
      case 'x': {
        uint32_t len = r.u32();
        if (len > r.remaining()) r.fail();  // before allocating
        bytes::byte_view b = r.bytes(len);
        if (!r.ok()) break;
        if (tag == 'S') {
          v = std::string(bytes::as_chars(b));
        } else {
          v = byte_array{bytes::buffer(b.begin(), b.end())};
        }
        break;
      }
      case 'A':
        return array(r, v.emplace<field_array>(), depth + 1);
      case 'F':
        return table(r, v.emplace<field_table>(), depth + 1);
      default: {
        r.fail();
        char text[64];
        std::snprintf(text, sizeof text, "unknown field value type 0x%02x", tag);
        return illegal(text);
      }
    }
    if (!r.ok()) {
      std::string what = "a value of type ";
      what += char(tag);
      return truncated(what);
    }
    return true;
  }

  bool truncated(const std::string& what) {
    return fail(reply_code::frame_error, "input ends inside " + what);
  }
  bool illegal(std::string text) { return fail(reply_code::syntax_error, std::move(text)); }
  bool too_deep() {
    return illegal("field tables and arrays nested deeper than " + std::to_string(max_table_depth) +
                   " levels");
  }
  bool fail(reply_code code, std::string text) {
    if (err.text.empty()) err = error{code, std::move(text)};
    return false;
  }
};

void write_value(bytes::byte_writer& w, const field_value& v);

void write_table(bytes::byte_writer& w, const field_table& t) {
  size_t at = w.placeholder<uint32_t>();
  for (const field_entry& e : t.entries) {
    std::string_view name = std::string_view(e.name).substr(0, 255);
    w.u8(uint8_t(name.size()));
    w.bytes(name);
    write_value(w, e.value);
  }
  size_t len = w.size() - at - sizeof(uint32_t);
  TERN_CHECK(len <= std::numeric_limits<uint32_t>::max());
  w.patch_be<uint32_t>(at, uint32_t(len));
}

void write_long_bytes(bytes::byte_writer& w, bytes::byte_view b) {
  TERN_CHECK(b.size() <= std::numeric_limits<uint32_t>::max());
  w.u32(uint32_t(b.size()));
  w.bytes(b);
}

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

void write_value(bytes::byte_writer& w, const field_value& v) {
  w.u8(uint8_t(type_tag(v)));
  std::visit(overloaded{
                 [](std::monostate) {}, [&](bool b) { w.u8(b ? 1 : 0); },
                 [&](float f) { w.u32(std::bit_cast<uint32_t>(f)); }, [&](double d) { w.f64(d); },
                 [&](const decimal& d) {
                   w.u8(d.scale);
                   w.u32(d.value);
                 },
                 [&](const std::string& s) { write_long_bytes(w, bytes::as_bytes(s)); },
                 [&](const byte_array& b) { write_long_bytes(w, b.data); },
                 [&](const timestamp& t) { w.u64(t.seconds); },
                 [&](const field_table& t) { write_table(w, t); },
                 [&](const field_array& a) {
                   size_t at = w.placeholder<uint32_t>();
                   for (const field_value& e : a) write_value(w, e);
                   size_t len = w.size() - at - sizeof(uint32_t);
                   TERN_CHECK(len <= std::numeric_limits<uint32_t>::max());
                   w.patch_be<uint32_t>(at, uint32_t(len));
                 },
                 [&](auto i) { w.write_be(i); },  // the integer types
             },
             v.as_variant());
}

size_t value_size(const field_value& v);

size_t table_size(const field_table& t) {
  size_t n = 4;
  for (const field_entry& e : t.entries)
    n += 1 + std::min<size_t>(e.name.size(), 255) + value_size(e.value);
  return n;
}

size_t value_size(const field_value& v) {
  return 1 + std::visit(
                 overloaded{
                     [](std::monostate) -> size_t { return 0; }, [](bool) -> size_t { return 1; },
                     [](const decimal&) -> size_t { return 5; },
                     [](const std::string& s) -> size_t { return 4 + s.size(); },
                     [](const byte_array& b) -> size_t { return 4 + b.data.size(); },
                     [](const timestamp&) -> size_t { return 8; },
                     [](const field_table& t) -> size_t { return table_size(t); },
                     [](const field_array& a) -> size_t {
                       size_t n = 4;
                       for (const field_value& e : a) n += value_size(e);
                       return n;
                     },
                     [](auto x) -> size_t { return sizeof(x); },  // numbers
                 },
                 v.as_variant());
}

void append_value(std::string& out, const field_value& v);

void append_table(std::string& out, const field_table& t) {
  out += '{';
  for (size_t i = 0; i < t.entries.size(); ++i) {
    if (i) out += ", ";
    append_quoted(out, t.entries[i].name);
    out += ": ";
    append_value(out, t.entries[i].value);
  }
  out += '}';
}

void append_value(std::string& out, const field_value& v) {
  out += type_tag(v);
  out += ':';
  std::visit(
      overloaded{
          [&](std::monostate) { out += "void"; }, [&](bool b) { out += b ? "true" : "false"; },
          [&](const decimal& d) {
            out += std::to_string(d.value) + "e-" + std::to_string(d.scale);
          },
          [&](const std::string& s) { append_quoted(out, s); },
          [&](const byte_array& b) { out += "<" + std::to_string(b.data.size()) + " bytes>"; },
          [&](const timestamp& t) { out += std::to_string(t.seconds); },
          [&](const field_table& t) { append_table(out, t); },
          [&](const field_array& a) {
            out += '[';
            for (size_t i = 0; i < a.size(); ++i) {
              if (i) out += ", ";
              append_value(out, a[i]);
            }
            out += ']';
          },
          [&](auto x) { out += std::to_string(x); },  // numbers
      },
      v.as_variant());
}

}  // namespace

field_table::field_table() = default;
field_table::field_table(std::initializer_list<field_entry> e) : entries(e) {}
field_table::field_table(const field_table&) = default;
field_table::field_table(field_table&&) noexcept = default;
field_table& field_table::operator=(const field_table&) = default;
field_table& field_table::operator=(field_table&&) noexcept = default;
field_table::~field_table() = default;

const field_value* field_table::find(std::string_view name) const {
  for (const field_entry& e : entries)
    if (e.name == name) return &e.value;
  return nullptr;
}

field_value* field_table::find(std::string_view name) {
  for (field_entry& e : entries)
    if (e.name == name) return &e.value;
  return nullptr;
}

std::optional<int64_t> field_table::get_int(std::string_view name) const {
  const field_value* v = find(name);
  return v ? as_int(*v) : std::nullopt;
}

std::optional<std::string_view> field_table::get_string(std::string_view name) const {
  const field_value* v = find(name);
  return v ? as_string(*v) : std::nullopt;
}

std::optional<bool> field_table::get_bool(std::string_view name) const {
  const field_value* v = find(name);
  return v ? as_bool(*v) : std::nullopt;
}

const field_table* field_table::get_table(std::string_view name) const {
  const field_value* v = find(name);
  return v ? std::get_if<field_table>(&v->as_variant()) : nullptr;
}

const field_array* field_table::get_array(std::string_view name) const {
  const field_value* v = find(name);
  return v ? std::get_if<field_array>(&v->as_variant()) : nullptr;
}

void field_table::set(std::string_view name, field_value value) {
  if (field_value* v = find(name)) {
    *v = std::move(value);
  } else {
    entries.push_back({std::string(name), std::move(value)});
  }
}

size_t field_table::erase(std::string_view name) {
  return std::erase_if(entries, [&](const field_entry& e) { return e.name == name; });
}

bool operator==(const field_table& a, const field_table& b) { return a.entries == b.entries; }
bool operator==(const field_value& a, const field_value& b) {
  return a.as_variant() == b.as_variant();
}
bool operator==(const field_entry& a, const field_entry& b) {
  return a.name == b.name && a.value == b.value;
}

char type_tag(const field_value& v) { return kTags[v.index()]; }

std::string_view type_name(const field_value& v) {
  switch (type_tag(v)) {
    case 't':
      return "bool";
    case 'b':
      return "byte";
    case 'B':
      return "unsignedbyte";
    case 's':
      return "short";
    case 'u':
      return "unsignedshort";
    case 'I':
      return "signedint";
    case 'i':
      return "unsignedint";
    case 'l':
      return "long";
    case 'f':
      return "float";
    case 'd':
      return "double";
    case 'D':
      return "decimal";
    case 'S':
      return "longstr";
    case 'x':
      return "binary";
    case 'A':
      return "array";
    case 'T':
      return "timestamp";
    case 'F':
      return "table";
    default:
      return "void";
  }
}

std::optional<int64_t> as_int(const field_value& v) {
  return std::visit(
      [](const auto& x) -> std::optional<int64_t> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          return int64_t(x);
        } else {
          return std::nullopt;
        }
      },
      v.as_variant());
}

std::optional<double> as_double(const field_value& v) {
  return std::visit(
      [](const auto& x) -> std::optional<double> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
          return double(x);
        } else {
          return std::nullopt;
        }
      },
      v.as_variant());
}

std::optional<std::string_view> as_string(const field_value& v) {
  if (auto* s = std::get_if<std::string>(&v.as_variant())) return std::string_view(*s);
  return std::nullopt;
}

std::optional<bool> as_bool(const field_value& v) {
  if (auto* b = std::get_if<bool>(&v.as_variant())) return *b;
  return std::nullopt;
}

namespace detail {
void append_quoted(std::string& out, std::string_view s) {
  constexpr size_t kMax = 100;
  out += '"';
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += char(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (s.size() > kMax) out += "...";
  out += '"';
}

bool read_table(bytes::byte_reader& r, field_table& out, error& err) {
  value_reader vr;
  if (vr.table(r, out, 1)) return true;
  r.fail();
  err = std::move(vr.err);
  return false;
}
}  // namespace detail

outcome<field_table> decode_field_table(bytes::byte_reader& r) {
  field_table t;
  error err;
  if (!detail::read_table(r, t, err)) return err;
  return t;
}

void encode_field_table(const field_table& t, bytes::buffer& out) {
  bytes::byte_writer w(out);
  write_table(w, t);
}

bytes::buffer encode_field_table(const field_table& t) {
  bytes::buffer out;
  encode_field_table(t, out);
  return out;
}

size_t encoded_size(const field_table& t) { return table_size(t); }

std::string to_debug_string(const field_table& t) {
  std::string out;
  append_table(out, t);
  return out;
}

std::string to_debug_string(const field_value& v) {
  std::string out;
  append_value(out, v);
  return out;
}

}  // namespace tern::amqp
