// routing_table's durable metadata: to_json / load_json (format in src/broker/README.md).

#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "broker/routing_table.h"
#include "broker/routing_table_nodes.h"

namespace tern::broker {
namespace {

constexpr int kFormat = 1;

std::string_view kind_name(destination_kind k) {
  return k == destination_kind::queue ? "queue" : "exchange";
}

// Field readers that never throw: false when the field is missing or of the wrong type.
bool read_bytes(const nlohmann::json& obj, const char* field, std::string& out) {
  auto it = obj.find(field);
  return it != obj.end() && bytes_from_json(*it, out);
}

bool read_bool(const nlohmann::json& obj, const char* field, bool& out) {
  auto it = obj.find(field);
  if (it == obj.end() || !it->is_boolean()) return false;
  out = it->get<bool>();
  return true;
}

}  // namespace

nlohmann::json routing_table::to_json() const {
  auto exchanges = nlohmann::json::array();
  auto bindings = nlohmann::json::array();
  for (auto& [name, x] : _exchanges) {
    if (x->info.durable && !is_predeclared_exchange(name)) {
      exchanges.push_back({{"name", bytes_to_json(name)},
                           {"type", to_string(x->info.type)},
                           {"auto_delete", x->info.auto_delete},
                           {"internal", x->info.internal},
                           {"arguments", header_table_to_json(x->info.arguments)}});
    }
    for (auto& [id, rec] : x->out) {
      if (!rec->durable) continue;
      bindings.push_back({{"source", bytes_to_json(rec->b.source)},
                          {"destination_kind", kind_name(rec->b.kind)},
                          {"destination", bytes_to_json(rec->b.destination)},
                          {"routing_key", bytes_to_json(rec->b.routing_key)},
                          {"arguments", header_table_to_json(rec->b.arguments)}});
    }
  }
  return {{"format", kFormat},
          {"vhost", bytes_to_json(_vhost)},
          {"exchanges", std::move(exchanges)},
          {"bindings", std::move(bindings)}};
}

std::string routing_table::to_json_string() const { return to_json().dump(); }

load_result routing_table::load_json(const nlohmann::json& j) {
  load_result r;
  auto fail = [&](const std::string& what) {
    r = load_result{};
    r.status = {routing_errc::corrupt_metadata,
                "routing metadata of vhost '" + _vhost + "': " + what};
    return r;
  };
  if (!j.is_object()) return fail("not a JSON object");
  auto format = j.find("format");
  if (format == j.end() || !format->is_number_integer() || format->get<int64_t>() != kFormat)
    return fail("unknown format");
  std::string vhost;
  if (!read_bytes(j, "vhost", vhost)) return fail("no vhost");
  if (vhost != _vhost) return fail("written for vhost '" + vhost + "'");
  auto xs = j.find("exchanges");
  auto bs = j.find("bindings");
  if (xs == j.end() || !xs->is_array() || bs == j.end() || !bs->is_array())
    return fail("no exchanges or bindings list");

  // Check everything first, apply after: a corrupt document changes nothing.
  std::map<std::string, exchange_info, std::less<>> staged;
  for (auto& e : *xs) {
    exchange_declaration d;
    d.durable = true;
    if (!e.is_object() || !read_bytes(e, "name", d.name) || !read_bytes(e, "type", d.type) ||
        !read_bool(e, "auto_delete", d.auto_delete) || !read_bool(e, "internal", d.internal) ||
        !e.contains("arguments"))
      return fail("malformed exchange");
    if (auto st = header_table_from_json(e["arguments"], d.arguments); !st)
      return fail("exchange '" + d.name + "': " + st.message());
    if (d.name.empty() || d.name.starts_with("amq."))
      return fail("reserved exchange name '" + d.name + "'");
    if (staged.contains(d.name) || find_node(d.name))
      return fail("exchange '" + d.name + "' appears twice or already exists");
    exchange_info info;
    if (auto st = make_exchange_info(d, _vhost, info); !st)
      return fail("exchange '" + d.name + "': " + st.message());
    staged.emplace(info.name, std::move(info));
  }

  struct staged_binding {
    binding b;
    x_match match;
  };
  std::vector<staged_binding> staged_bindings;
  // The routing type of an exchange of the document or of the table; nullopt if neither.
  auto routing_type_of = [&](std::string_view name) -> std::optional<exchange_type> {
    if (auto it = staged.find(name); it != staged.end()) return it->second.routing_type;
    if (const exchange_node* x = find_node(name)) return x->info.routing_type;
    return std::nullopt;
  };
  for (auto& e : *bs) {
    staged_binding sb{};
    std::string kind;
    if (!e.is_object() || !read_bytes(e, "source", sb.b.source) ||
        !read_bytes(e, "destination_kind", kind) ||
        !read_bytes(e, "destination", sb.b.destination) ||
        !read_bytes(e, "routing_key", sb.b.routing_key) || !e.contains("arguments"))
      return fail("malformed binding");
    if (auto st = header_table_from_json(e["arguments"], sb.b.arguments); !st)
      return fail("binding of '" + sb.b.source + "': " + st.message());
    if (kind == "queue")
      sb.b.kind = destination_kind::queue;
    else if (kind == "exchange")
      sb.b.kind = destination_kind::exchange;
    else
      return fail("unknown destination kind '" + kind + "'");
    auto source_type = sb.b.source.empty() ? std::nullopt : routing_type_of(sb.b.source);
    if (!source_type) return fail("binding from unknown exchange '" + sb.b.source + "'");
    sb.match = x_match::all;
    if (*source_type == exchange_type::headers) {
      if (auto st = parse_x_match(sb.b.arguments, sb.match); !st)
        return fail("binding of '" + sb.b.source + "': " + st.message());
    }
    if (sb.b.kind == destination_kind::exchange) {
      if (sb.b.destination.empty() || !routing_type_of(sb.b.destination))
        return fail("binding to unknown exchange '" + sb.b.destination + "'");
    } else if (!has_queue(sb.b.destination)) {
      ++r.dropped_bindings;
      continue;
    }
    sb.b.arguments = sorted_by_name(std::move(sb.b.arguments));
    staged_bindings.push_back(std::move(sb));
  }

  for (auto& [name, info] : staged) {
    create_exchange(std::move(info));
    ++r.exchanges;
  }
  for (auto& sb : staged_bindings) {
    exchange_node* src = find_node(sb.b.source);
    if (find_binding(src, sb.b)) continue;
    add_binding(src, std::move(sb.b), sb.match);
    ++r.bindings;
  }
  return r;
}

load_result routing_table::load_json_string(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    load_result r;
    r.status = {routing_errc::corrupt_metadata,
                "routing metadata of vhost '" + _vhost + "': not JSON"};
    return r;
  }
  return load_json(j);
}

}  // namespace tern::broker
