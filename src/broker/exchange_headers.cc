#include "broker/exchange_headers.h"

#include <algorithm>

namespace tern::broker {

routing_status parse_x_match(const header_table& binding_args, x_match& out) {
  out = x_match::all;
  const header_value* v = find_header(binding_args, "x-match");
  if (!v) return {};
  const std::string* s = v->as_string();
  if (!s)
    return {routing_errc::precondition_failed, "Invalid x-match field type " +
                                                   std::string(type_name(*v)) + " (value " +
                                                   display(*v) + "); expected longstr"};
  if (*s == "all")
    out = x_match::all;
  else if (*s == "any")
    out = x_match::any;
  else if (*s == "all-with-x")
    out = x_match::all_with_x;
  else if (*s == "any-with-x")
    out = x_match::any_with_x;
  else
    return {routing_errc::precondition_failed,
            "Invalid x-match field value " + *s + "; expected all, any, all-with-x, or any-with-x"};
  return {};
}

header_index::header_index(const header_table& headers) {
  _sorted.reserve(headers.size());
  for (auto& [name, value] : headers) _sorted.emplace_back(name, &value);
  // Stable, so that lower_bound finds the first of repeated names.
  std::stable_sort(_sorted.begin(), _sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

const header_value* header_index::find(std::string_view name) const {
  auto it = std::lower_bound(_sorted.begin(), _sorted.end(), name,
                             [](const auto& e, std::string_view n) { return e.first < n; });
  return it != _sorted.end() && it->first == name ? it->second : nullptr;
}

bool headers_match(x_match mode, const header_table& binding_args, const header_index& message) {
  const bool with_x = mode == x_match::all_with_x || mode == x_match::any_with_x;
  const bool want_all = mode == x_match::all || mode == x_match::all_with_x;
  for (auto& [name, pattern] : binding_args) {
    if (name == "x-match") continue;
    if (!with_x && name.starts_with("x-")) continue;
    const header_value* h = message.find(name);
    bool field_matches = h && (pattern.is_void() || header_values_match(pattern, *h));
    if (want_all && !field_matches) return false;
    if (!want_all && field_matches) return true;
  }
  return want_all;
}

}  // namespace tern::broker
