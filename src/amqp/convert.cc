#include "amqp/convert.h"

#include <charconv>

#include "base/clock.h"

namespace tern::amqp {

broker::header_value to_header_value(const field_value& v) {
  return std::visit(
      [](const auto& x) -> broker::header_value {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return {};
        } else if constexpr (std::is_same_v<T, bool>) {
          return broker::header_value(x);
        } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
          return broker::header_value(double(x));
        } else if constexpr (std::is_integral_v<T>) {
          return broker::header_value(int64_t(x));
        } else if constexpr (std::is_same_v<T, decimal>) {
          return broker::header_value(std::to_string(x.value) + "e-" + std::to_string(x.scale));
        } else if constexpr (std::is_same_v<T, std::string>) {
          return broker::header_value(x);
        } else if constexpr (std::is_same_v<T, byte_array>) {
          return broker::header_value(std::string(x.data.begin(), x.data.end()));
        } else if constexpr (std::is_same_v<T, timestamp>) {
          return broker::header_value(int64_t(x.seconds));
        } else if constexpr (std::is_same_v<T, field_array>) {
          broker::header_array a;
          for (auto& e : x) a.push_back(to_header_value(e));
          return broker::header_value(std::move(a));
        } else {
          return broker::header_value(to_header_table(x));
        }
      },
      v.as_variant());
}

broker::header_table to_header_table(const field_table& t) {
  broker::header_table out;
  out.reserve(t.entries.size());
  for (auto& e : t.entries) out.emplace_back(e.name, to_header_value(e.value));
  return out;
}

std::optional<broker::queue_message> to_queue_message(const std::string& exchange,
                                                      const std::string& routing_key,
                                                      const content_header& header,
                                                      bytes::buffer body, std::string* why) {
  broker::queue_message m;
  const auto& p = header.properties;
  if (p.expiration) {
    int64_t ttl = -1;
    auto& s = *p.expiration;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), ttl);
    if (ec != std::errc() || ptr != s.data() + s.size() || ttl < 0) {
      *why = "invalid expiration '" + s + "'";
      return std::nullopt;
    }
    m.ttl_ms = ttl;
  }
  m.exchange = exchange;
  m.routing_key = routing_key;
  m.properties.assign(header.raw_properties.begin(), header.raw_properties.end());
  if (m.properties.empty()) encode_basic_properties(p, m.properties);
  m.body = std::move(body);
  m.persistent = p.delivery_mode.value_or(1) == 2;
  m.priority = p.priority.value_or(0);
  m.timestamp_ms = system_now_ms();
  return m;
}

std::pair<broker::message_ptr, broker::header_table> dead_letter_rewrite(
    const broker::queue_message& m, const broker::dead_letter_event& ev) {
  auto props = decode_basic_properties(m.properties);
  basic_properties p = props ? *props : basic_properties{};
  field_table headers = p.headers.value_or(field_table{});

  field_array deaths;
  if (auto* existing = headers.get_array("x-death")) deaths = *existing;
  const char* reason = broker::removal_reason_name(ev.reason);
  // One entry per (queue, reason), most recent first, with a count.
  int64_t count = 1;
  for (auto it = deaths.begin(); it != deaths.end(); ++it) {
    auto* t = std::get_if<field_table>(&it->as_variant());
    if (!t) continue;
    auto q = t->get_string("queue");
    auto r = t->get_string("reason");
    if (q && r && *q == ev.queue && *r == reason) {
      count = t->get_int("count").value_or(0) + 1;
      deaths.erase(it);
      break;
    }
  }
  field_table death;
  death.set("count", int64_t(count));
  death.set("reason", std::string(reason));
  death.set("queue", ev.queue);
  death.set("time", timestamp{uint64_t(system_now_ms() / 1000)});
  death.set("exchange", m.exchange);
  death.set("routing-keys", field_array{field_value(m.routing_key)});
  if (p.expiration) death.set("original-expiration", *p.expiration);
  deaths.insert(deaths.begin(), field_value(std::move(death)));
  headers.set("x-death", std::move(deaths));
  if (!headers.contains("x-first-death-reason")) {
    headers.set("x-first-death-reason", std::string(reason));
    headers.set("x-first-death-queue", ev.queue);
    headers.set("x-first-death-exchange", m.exchange);
  }
  headers.set("x-last-death-reason", std::string(reason));
  headers.set("x-last-death-queue", ev.queue);
  headers.set("x-last-death-exchange", m.exchange);
  p.expiration.reset();
  auto routing_headers = to_header_table(headers);
  p.headers = std::move(headers);

  auto out = std::make_shared<broker::queue_message>();
  out->exchange = ev.exchange;
  out->routing_key = ev.routing_key;
  encode_basic_properties(p, out->properties);
  out->body = m.body;
  out->persistent = m.persistent;
  out->priority = m.priority;
  out->timestamp_ms = system_now_ms();
  return {std::move(out), std::move(routing_headers)};
}

}  // namespace tern::amqp
