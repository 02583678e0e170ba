#include "broker/exchange.h"

namespace tern::broker {
namespace {

constexpr predeclared_exchange kPredeclared[] = {
    {"", exchange_type::direct},
    {"amq.direct", exchange_type::direct},
    {"amq.fanout", exchange_type::fanout},
    {"amq.topic", exchange_type::topic},
    {"amq.headers", exchange_type::headers},
    {"amq.match", exchange_type::headers},
};

}  // namespace

std::optional<exchange_type> parse_exchange_type(std::string_view name) {
  if (name == "direct") return exchange_type::direct;
  if (name == "fanout") return exchange_type::fanout;
  if (name == "topic") return exchange_type::topic;
  if (name == "headers") return exchange_type::headers;
  if (name == "x-delayed-message") return exchange_type::delayed_message;
  return std::nullopt;
}

std::string_view to_string(exchange_type t) {
  switch (t) {
    case exchange_type::direct:
      return "direct";
    case exchange_type::fanout:
      return "fanout";
    case exchange_type::topic:
      return "topic";
    case exchange_type::headers:
      return "headers";
    case exchange_type::delayed_message:
      return "x-delayed-message";
  }
  return "unknown";
}

std::span<const predeclared_exchange> predeclared_exchanges() { return kPredeclared; }

bool is_predeclared_exchange(std::string_view name) {
  for (auto& p : kPredeclared)
    if (p.name == name) return true;
  return false;
}

std::string describe_exchange(std::string_view vhost, std::string_view name) {
  return "exchange '" + std::string(name) + "' in vhost '" + std::string(vhost) + "'";
}

std::string describe_queue(std::string_view vhost, std::string_view name) {
  return "queue '" + std::string(name) + "' in vhost '" + std::string(vhost) + "'";
}

routing_status make_exchange_info(const exchange_declaration& d, std::string_view vhost,
                                  exchange_info& out) {
  auto type = parse_exchange_type(d.type);
  if (!type) return {routing_errc::precondition_failed, "unknown exchange type '" + d.type + "'"};
  out = exchange_info{};
  out.name = d.name;
  out.type = out.routing_type = *type;
  out.durable = d.durable;
  out.auto_delete = d.auto_delete;
  out.internal = d.internal;
  out.arguments = d.arguments;
  if (const header_value* ae = find_header(d.arguments, "alternate-exchange")) {
    const std::string* s = ae->as_string();
    if (!s)
      return {routing_errc::precondition_failed, "invalid type '" + std::string(type_name(*ae)) +
                                                     "' for arg 'alternate-exchange' in " +
                                                     describe_exchange(vhost, d.name)};
    out.alternate_exchange = *s;
  }
  if (*type == exchange_type::delayed_message) {
    // The texts of rabbitmq-delayed-message-exchange.
    const header_value* dt = find_header(d.arguments, "x-delayed-type");
    const std::string* s = dt ? dt->as_string() : nullptr;
    if (s && *s == "x-delayed-message")
      return {routing_errc::precondition_failed,
              "Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'"};
    auto routing = s ? parse_exchange_type(*s) : std::nullopt;
    if (!routing)
      return {routing_errc::precondition_failed,
              "Invalid argument, 'x-delayed-type' must be an existing exchange type"};
    out.routing_type = *routing;
  }
  return {};
}

}  // namespace tern::broker
