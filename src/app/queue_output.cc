#include "app/queue_output.h"

#include <fmt/format.h>

#include "app/topic_output.h"

namespace tern::app {
namespace {

using nlohmann::json;

std::string text(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "-";
  auto& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return "-";
}

bool flag(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_boolean() && j[key].get<bool>();
}

std::string flags(const json& q) {
  std::string out;
  for (auto [key, name] : {std::pair{"durable", "durable"}, std::pair{"exclusive", "exclusive"},
                           std::pair{"auto_delete", "auto-delete"}})
    if (flag(q, key)) out += (out.empty() ? "" : ",") + std::string(name);
  return out.empty() ? "-" : out;
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string format_queue_list(const json& queues, bool as_json) {
  if (as_json) return dump(queues);
  std::vector<std::vector<std::string>> rows{
      {"VHOST", "NAME", "MESSAGES", "READY", "UNACKED", "CONSUMERS", "FLAGS"}};
  if (queues.is_array())
    for (auto& q : queues)
      rows.push_back({text(q, "vhost"), text(q, "name"), text(q, "messages"),
                      text(q, "messages_ready"), text(q, "messages_unacknowledged"),
                      text(q, "consumers"), flags(q)});
  return format_table(rows);
}

std::string format_queue_description(const json& q, bool as_json) {
  if (as_json) return dump(q);
  std::vector<std::vector<std::string>> rows{{"Queue:", text(q, "name")},
                                             {"Vhost:", text(q, "vhost")},
                                             {"Durable:", text(q, "durable")},
                                             {"Exclusive:", text(q, "exclusive")},
                                             {"Auto-delete:", text(q, "auto_delete")},
                                             {"Messages:", text(q, "messages")},
                                             {"Ready:", text(q, "messages_ready")},
                                             {"Unacked:", text(q, "messages_unacknowledged")},
                                             {"Ready bytes:", text(q, "message_bytes_ready")},
                                             {"Consumers:", text(q, "consumers")}};
  return format_table(rows);
}

std::string format_queue_purged(const json& a, bool as_json) {
  if (as_json) return dump(a);
  return fmt::format("Purged {} messages from queue {} in vhost {}.\n", text(a, "messages_purged"),
                     text(a, "name"), text(a, "vhost"));
}

std::string format_queue_deleted(const json& a, bool as_json) {
  if (as_json) return dump(a);
  return fmt::format("Deleted queue {} in vhost {} ({} messages).\n", text(a, "name"),
                     text(a, "vhost"), text(a, "messages_deleted"));
}

std::string format_vhost_list(const json& vhosts, bool as_json) {
  if (as_json) return dump(vhosts);
  std::vector<std::vector<std::string>> rows{{"NAME"}};
  if (vhosts.is_array())
    for (auto& v : vhosts) rows.push_back({text(v, "name")});
  return format_table(rows);
}

}  // namespace tern::app
