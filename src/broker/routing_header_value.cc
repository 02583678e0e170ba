#include "broker/routing_header_value.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace tern::broker {
namespace {

bool int_equals_double(int64_t i, double d) {
  // Exact comparison: 2^63 is not representable as int64, and -2^63 is.
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return false;
  if (std::trunc(d) != d) return false;
  return static_cast<int64_t>(d) == i;
}

void put_u64(std::string& out, uint64_t n) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
}

void put_bytes(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out.append(s);
}

void put_canonical(const header_value& v, std::string& out);

void put_canonical_table(const header_table& t, std::string& out) {
  put_u64(out, t.size());
  for (auto& [name, value] : t) {
    put_bytes(out, name);
    put_canonical(value, out);
  }
}

void put_canonical(const header_value& v, std::string& out) {
  struct visitor {
    std::string& out;
    void operator()(std::monostate) { out.push_back('V'); }
    void operator()(bool b) {
      out.push_back('t');
      out.push_back(b ? 1 : 0);
    }
    void operator()(int64_t i) {
      out.push_back('l');
      put_u64(out, static_cast<uint64_t>(i));
    }
    void operator()(double d) {
      out.push_back('d');
      put_u64(out, std::bit_cast<uint64_t>(d));
    }
    void operator()(const std::string& s) {
      out.push_back('S');
      put_bytes(out, s);
    }
    void operator()(const header_array& a) {
      out.push_back('A');
      put_u64(out, a.size());
      for (auto& e : a) put_canonical(e, out);
    }
    void operator()(const header_table& t) {
      out.push_back('F');
      put_canonical_table(t, out);
    }
  };
  std::visit(visitor{out}, v.v);
}

constexpr char kHex[] = "0123456789abcdef";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

nlohmann::json value_to_json(const header_value& v);

nlohmann::json table_to_json(const header_table& t) {
  auto j = nlohmann::json::array();
  for (auto& [name, value] : t)
    j.push_back(nlohmann::json::array({bytes_to_json(name), value_to_json(value)}));
  return j;
}

nlohmann::json value_to_json(const header_value& v) {
  struct visitor {
    nlohmann::json operator()(std::monostate) { return nullptr; }
    nlohmann::json operator()(bool b) { return b; }
    nlohmann::json operator()(int64_t i) { return i; }
    nlohmann::json operator()(double d) {
      if (std::isfinite(d)) return d;
      return {{"double", std::isnan(d) ? "nan" : d > 0 ? "inf" : "-inf"}};
    }
    nlohmann::json operator()(const std::string& s) { return bytes_to_json(s); }
    nlohmann::json operator()(const header_array& a) {
      auto arr = nlohmann::json::array();
      for (auto& e : a) arr.push_back(value_to_json(e));
      return {{"array", std::move(arr)}};
    }
    nlohmann::json operator()(const header_table& t) { return {{"table", table_to_json(t)}}; }
  };
  return std::visit(visitor{}, v.v);
}

routing_status corrupt(std::string what) {
  return {routing_errc::corrupt_metadata, std::move(what)};
}

routing_status value_from_json(const nlohmann::json& j, header_value& out, int depth_left);

routing_status table_from_json(const nlohmann::json& j, header_table& out, int depth_left) {
  if (depth_left <= 0) return corrupt("header table nested too deeply");
  if (!j.is_array()) return corrupt("a header table is not a JSON array");
  out.clear();
  out.reserve(j.size());
  for (auto& field : j) {
    if (!field.is_array() || field.size() != 2)
      return corrupt("a header field is not [name, value]");
    std::string name;
    if (!bytes_from_json(field[0], name)) return corrupt("a header name is not a string");
    header_value value;
    if (auto st = value_from_json(field[1], value, depth_left - 1); !st) return st;
    out.emplace_back(std::move(name), std::move(value));
  }
  return {};
}

routing_status value_from_json(const nlohmann::json& j, header_value& out, int depth_left) {
  if (depth_left <= 0) return corrupt("header value nested too deeply");
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      out = header_value{};
      return {};
    case nlohmann::json::value_t::boolean:
      out = j.get<bool>();
      return {};
    case nlohmann::json::value_t::number_integer:
      out = j.get<int64_t>();
      return {};
    case nlohmann::json::value_t::number_unsigned: {
      auto u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return corrupt("integer header out of range");
      out = static_cast<int64_t>(u);
      return {};
    }
    case nlohmann::json::value_t::number_float:
      out = j.get<double>();
      return {};
    case nlohmann::json::value_t::string:
      out = j.get<std::string>();
      return {};
    case nlohmann::json::value_t::object: {
      if (j.size() != 1) break;
      auto it = j.begin();
      if (it.key() == "hex") {
        std::string s;
        if (!bytes_from_json(j, s)) break;
        out = std::move(s);
        return {};
      }
      if (it.key() == "double" && it->is_string()) {
        auto& s = it->get_ref<const std::string&>();
        if (s == "nan")
          out = std::nan("");
        else if (s == "inf")
          out = HUGE_VAL;
        else if (s == "-inf")
          out = -HUGE_VAL;
        else
          break;
        return {};
      }
      if (it.key() == "array" && it->is_array()) {
        header_array a;
        a.reserve(it->size());
        for (auto& e : *it) {
          header_value v;
          if (auto st = value_from_json(e, v, depth_left - 1); !st) return st;
          a.push_back(std::move(v));
        }
        out = std::move(a);
        return {};
      }
      if (it.key() == "table") {
        header_table t;
        if (auto st = table_from_json(*it, t, depth_left - 1); !st) return st;
        out = std::move(t);
        return {};
      }
      break;
    }
    default:
      break;
  }
  return corrupt("unrecognised header value");
}

}  // namespace

std::string_view type_name(const header_value& v) {
  static constexpr std::string_view names[] = {"void",   "bool",  "int",  "double",
                                               "string", "array", "table"};
  return names[v.v.index()];
}

std::string display(const header_value& v) {
  struct visitor {
    std::string operator()(std::monostate) { return "void"; }
    std::string operator()(bool b) { return b ? "true" : "false"; }
    std::string operator()(int64_t i) { return std::to_string(i); }
    std::string operator()(double d) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      return buf;
    }
    std::string operator()(const std::string& s) { return s; }
    std::string operator()(const header_array&) { return "[...]"; }
    std::string operator()(const header_table&) { return "{...}"; }
  };
  return std::visit(visitor{}, v.v);
}

const header_value* find_header(const header_table& t, std::string_view name) {
  for (auto& [n, v] : t)
    if (n == name) return &v;
  return nullptr;
}

bool header_values_match(const header_value& a, const header_value& b) {
  if (auto ai = a.as_int()) {
    if (auto bi = b.as_int()) return *ai == *bi;
    if (auto bd = b.as_double()) return int_equals_double(*ai, *bd);
    return false;
  }
  if (auto ad = a.as_double()) {
    if (auto bd = b.as_double()) return *ad == *bd;
    if (auto bi = b.as_int()) return int_equals_double(*bi, *ad);
    return false;
  }
  if (a.v.index() != b.v.index()) return false;
  if (auto aa = a.as_array()) {
    auto& ba = *b.as_array();
    if (aa->size() != ba.size()) return false;
    for (size_t i = 0; i < aa->size(); ++i)
      if (!header_values_match((*aa)[i], ba[i])) return false;
    return true;
  }
  if (auto at = a.as_table()) {
    auto& bt = *b.as_table();
    if (at->size() != bt.size()) return false;
    for (size_t i = 0; i < at->size(); ++i)
      if ((*at)[i].first != bt[i].first || !header_values_match((*at)[i].second, bt[i].second))
        return false;
    return true;
  }
  return a == b;  // void, bool, string
}

header_table sorted_by_name(header_table t) {
  std::stable_sort(t.begin(), t.end(),
                   [](const header_field& x, const header_field& y) { return x.first < y.first; });
  return t;
}

std::string canonical_bytes(const header_table& t) {
  std::string out;
  put_canonical_table(t, out);
  return out;
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0)
      len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
      len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
      len = 4, cp = c & 0x07;
    else
      return false;
    if (n - i < static_cast<size_t>(len)) return false;
    for (int k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

nlohmann::json bytes_to_json(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  return {{"hex", std::move(hex)}};
}

bool bytes_from_json(const nlohmann::json& j, std::string& out) {
  if (j.is_string()) {
    out = j.get<std::string>();
    return true;
  }
  if (!j.is_object() || j.size() != 1 || !j.contains("hex") || !j["hex"].is_string()) return false;
  auto& hex = j["hex"].get_ref<const std::string&>();
  if (hex.size() % 2 != 0) return false;
  out.clear();
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

nlohmann::json header_table_to_json(const header_table& t) { return table_to_json(t); }

routing_status header_table_from_json(const nlohmann::json& j, header_table& out, int max_depth) {
  return table_from_json(j, out, max_depth);
}

}  // namespace tern::broker
