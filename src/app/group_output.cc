#include "app/group_output.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/kafka_error_names.h"
#include "app/topic_output.h"

namespace tern::app {
namespace {

std::string number_or_dash(int64_t v) { return v < 0 ? "-" : std::to_string(v); }
std::string text_or_dash(const std::string& s) { return s.empty() ? "-" : s; }
nlohmann::json number_or_null(int64_t v) { return v < 0 ? nlohmann::json() : nlohmann::json(v); }
nlohmann::json text_or_null(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}

}  // namespace

std::optional<int64_t> group_partition_row::lag() const {
  if (current_offset < 0 || log_end_offset < 0) return std::nullopt;
  return log_end_offset - current_offset;
}

std::vector<group_partition_row> group_rows(const group_view& group,
                                            const std::vector<partition_offset>& committed,
                                            const std::vector<partition_offset>& log_end) {
  std::map<topic_partition, group_partition_row> by_tp;
  for (auto& c : committed) {
    auto& row = by_tp[c.tp];
    row.tp = c.tp;
    row.current_offset = c.error_code == 0 ? c.offset : -1;
  }
  std::vector<group_partition_row> idle;
  for (auto& m : group.members) {
    for (auto& tp : m.assignment) {
      auto& row = by_tp[tp];
      row.tp = tp;
      row.consumer_id = m.member_id;
      row.host = m.client_host;
      row.client_id = m.client_id;
    }
    if (m.assignment.empty()) {
      group_partition_row row;
      row.has_partition = false;
      row.consumer_id = m.member_id;
      row.host = m.client_host;
      row.client_id = m.client_id;
      idle.push_back(std::move(row));
    }
  }
  for (auto& l : log_end)
    if (auto it = by_tp.find(l.tp); it != by_tp.end())
      it->second.log_end_offset = l.error_code == 0 ? l.offset : -1;
  std::vector<group_partition_row> rows;
  for (auto& [tp, row] : by_tp) rows.push_back(std::move(row));
  for (auto& row : idle) rows.push_back(std::move(row));  // members are sorted already
  return rows;
}

std::string format_group_list(const std::vector<group_listing>& groups, bool json) {
  if (json) {
    auto j = nlohmann::json::array();
    for (auto& g : groups)
      j.push_back({{"group", g.group_id},
                   {"protocol_type", g.protocol_type},
                   {"state", text_or_null(g.state)}});
    return j.dump() + "\n";
  }
  std::vector<std::vector<std::string>> rows{{"GROUP", "PROTOCOL-TYPE", "STATE"}};
  for (auto& g : groups)
    rows.push_back({g.group_id, text_or_dash(g.protocol_type), text_or_dash(g.state)});
  return format_table(rows);
}

std::string format_group_description(const group_description& d, bool json) {
  const group_view& g = d.group;
  if (json) {
    nlohmann::json j{{"group", g.group_id},
                     {"state", g.state},
                     {"protocol_type", g.protocol_type},
                     {"protocol", g.protocol},
                     {"member_count", g.members.size()},
                     {"members", nlohmann::json::array()},
                     {"partitions", nlohmann::json::array()}};
    for (auto& m : g.members) {
      std::map<std::string, std::vector<int32_t>> assigned;
      for (auto& tp : m.assignment) assigned[tp.topic].push_back(tp.partition);
      auto a = nlohmann::json::array();
      for (auto& [topic, parts] : assigned) a.push_back({{"topic", topic}, {"partitions", parts}});
      nlohmann::json mj{
          {"member_id", m.member_id},
          {"group_instance_id",
           m.group_instance_id ? nlohmann::json(*m.group_instance_id) : nlohmann::json()},
          {"client_id", m.client_id},
          {"host", m.client_host},
          {"assignment", std::move(a)}};
      if (m.assignment_undecodable) mj["assignment_error"] = "undecodable consumer assignment";
      j["members"].push_back(std::move(mj));
    }
    for (auto& r : d.rows) {
      if (!r.has_partition) continue;  // members without partitions are in "members"
      auto lag = r.lag();
      j["partitions"].push_back({{"topic", r.tp.topic},
                                 {"partition", r.tp.partition},
                                 {"current_offset", number_or_null(r.current_offset)},
                                 {"log_end_offset", number_or_null(r.log_end_offset)},
                                 {"lag", lag ? nlohmann::json(*lag) : nlohmann::json()},
                                 {"consumer_id", text_or_null(r.consumer_id)},
                                 {"host", text_or_null(r.host)},
                                 {"client_id", text_or_null(r.client_id)}});
    }
    return j.dump() + "\n";
  }
  std::string out = fmt::format("Group: {}\nState: {}\n", g.group_id, g.state);
  if (!g.protocol_type.empty())
    out += fmt::format("Protocol: {}{}\n", g.protocol_type,
                       g.protocol.empty() ? "" : "/" + g.protocol);
  out += fmt::format("Members: {}\n", g.members.size());
  for (auto& m : g.members)
    if (m.assignment_undecodable)
      out += fmt::format("(the assignment of member {} does not decode)\n", m.member_id);
  std::vector<std::vector<std::string>> rows{{"TOPIC", "PARTITION", "CURRENT-OFFSET",
                                              "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
                                              "CLIENT-ID"}};
  for (auto& r : d.rows) {
    auto lag = r.lag();
    rows.push_back({r.has_partition ? r.tp.topic : "-",
                    r.has_partition ? std::to_string(r.tp.partition) : "-",
                    number_or_dash(r.current_offset), number_or_dash(r.log_end_offset),
                    lag ? std::to_string(*lag) : "-", text_or_dash(r.consumer_id),
                    text_or_dash(r.host), text_or_dash(r.client_id)});
  }
  if (d.rows.empty())
    return out + "\nThe group has no committed offsets and no assigned partitions.\n";
  return out + "\n" + format_table(rows);
}

std::string format_group_deletions(const std::vector<group_deletion_view>& results, bool json) {
  if (json) {
    auto j = nlohmann::json::array();
    for (auto& r : results) {
      nlohmann::json rj{{"group", r.group_id}, {"deleted", r.error_code == 0}};
      if (r.error_code != 0) rj["error"] = kafka_error_name(r.error_code);
      j.push_back(std::move(rj));
    }
    return j.dump() + "\n";
  }
  std::string out;
  for (auto& r : results)
    if (r.error_code == 0) out += fmt::format("Deleted group {}.\n", r.group_id);
  return out;
}

std::string format_reset_plan(const std::string& group_id,
                              const std::vector<partition_offset>& offsets, bool executed,
                              bool json) {
  if (json) {
    nlohmann::json j{
        {"group", group_id}, {"executed", executed}, {"offsets", nlohmann::json::array()}};
    for (auto& o : offsets)
      j["offsets"].push_back(
          {{"topic", o.tp.topic}, {"partition", o.tp.partition}, {"new_offset", o.offset}});
    return j.dump() + "\n";
  }
  std::vector<std::vector<std::string>> rows{{"TOPIC", "PARTITION", "NEW-OFFSET"}};
  for (auto& o : offsets)
    rows.push_back({o.tp.topic, std::to_string(o.tp.partition), std::to_string(o.offset)});
  std::string out = format_table(rows);
  if (executed)
    out += fmt::format("\nCommitted {} offset{} for group {}.\n", offsets.size(),
                       offsets.size() == 1 ? "" : "s", group_id);
  return out;
}

}  // namespace tern::app
