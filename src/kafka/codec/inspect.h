#pragma once
// Generic helpers over message descriptions that are not wire codecs: deep equality (tests,
// the fuzzer) and a compact one-line dump for logs. Both walk the same `visit` lists.
//
// The dump has no field names (descriptions carry none): fields print positionally in wire
// order, e.g. {-1, 30000, [{"test", [{0, records(68)}]}]}.

#include <cstdio>
#include <string>
#include <vector>

#include "kafka/codec/schema.h"

namespace tern::kafka {

template <class T>
bool deep_equal(const T& a, const T& b);

namespace detail {
template <class S>
bool struct_equal(const S& a, const S& b) {
  std::vector<const void*> other;
  schema::for_each_field(b, [&](const auto& f, field_opts) { other.push_back(&f); });
  size_t i = 0;
  bool same = true;
  schema::for_each_field(a, [&](const auto& f, field_opts) {
    using T = std::decay_t<decltype(f)>;
    same = same && deep_equal(f, *static_cast<const T*>(other[i]));
    ++i;
  });
  return same;
}
}  // namespace detail

template <class T>
bool deep_equal(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, records>) {
    if (a.data.has_value() != b.data.has_value()) return false;
    if (a.data && !std::equal(a.data->begin(), a.data->end(), b.data->begin(), b.data->end()))
      return false;
    if (a.files.size() != b.files.size()) return false;
    for (size_t i = 0; i < a.files.size(); ++i) {
      auto &x = a.files[i], &y = b.files[i];
      if (x.fd != y.fd || x.offset != y.offset || x.length != y.length) return false;
    }
    return true;
  } else if constexpr (schema::described<T>) {
    return detail::struct_equal(a, b);
  } else if constexpr (schema::is_array_v<T>) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!deep_equal(a[i], b[i])) return false;
    return true;
  } else if constexpr (schema::is_optional_v<T>) {
    if (a.has_value() != b.has_value()) return false;
    return !a || deep_equal(*a, *b);
  } else {
    return a == b;  // scalars, strings, bytes, uuid
  }
}

template <class T>
void append_debug_string(std::string& out, const T& v) {
  if constexpr (std::is_same_v<T, records>) {
    if (v.is_null()) {
      out += "null";
    } else {
      out += "records(" + std::to_string(v.size()) + ")";
    }
  } else if constexpr (schema::described<T>) {
    out += '{';
    bool first = true;
    schema::for_each_field(v, [&](const auto& f, field_opts) {
      if (!first) out += ", ";
      first = false;
      append_debug_string(out, f);
    });
    out += '}';
  } else if constexpr (schema::is_array_v<T>) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out += ", ";
      append_debug_string(out, v[i]);
    }
    out += ']';
  } else if constexpr (schema::is_optional_v<T>) {
    if (v) {
      append_debug_string(out, *v);
    } else {
      out += "null";
    }
  } else if constexpr (std::is_same_v<T, std::string>) {
    out += '"' + v + '"';
  } else if constexpr (std::is_same_v<T, bool>) {
    out += v ? "true" : "false";
  } else if constexpr (std::is_arithmetic_v<T>) {
    out += std::to_string(v);
  } else {  // bytes, uuid: hex
    out += "0x";
    char hex[3];
    for (uint8_t b : v) {
      std::snprintf(hex, sizeof hex, "%02x", b);
      out += hex;
    }
  }
}

template <class T>
std::string to_debug_string(const T& v) {
  std::string out;
  append_debug_string(out, v);
  return out;
}

}  // namespace tern::kafka
