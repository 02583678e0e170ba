#include "app/topic_output.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/kafka_error_names.h"

namespace tern::app {
namespace {

std::string join_ids(const std::vector<int32_t>& ids) {
  return ids.empty() ? "-" : fmt::format("{}", fmt::join(ids, ","));
}

std::string offset_text(int64_t o) { return o < 0 ? "-" : std::to_string(o); }

nlohmann::json offset_json(int64_t o) { return o < 0 ? nlohmann::json() : nlohmann::json(o); }

}  // namespace

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (i >= width.size()) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  std::string out;
  for (auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    // An empty last cell must not leave trailing blanks.
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string format_topic_list(const std::vector<topic_view>& topics, bool json) {
  if (json) {
    auto j = nlohmann::json::array();
    for (auto& t : topics)
      j.push_back({{"name", t.name}, {"partitions", t.partition_count}, {"internal", t.internal}});
    return j.dump() + "\n";
  }
  std::vector<std::vector<std::string>> rows{{"NAME", "PARTITIONS"}};
  for (auto& t : topics)
    rows.push_back(
        {t.internal ? t.name + " (internal)" : t.name, std::to_string(t.partition_count)});
  return format_table(rows);
}

std::string format_topic_description(const topic_view& topic, bool json) {
  if (json) {
    nlohmann::json j{{"name", topic.name},
                     {"internal", topic.internal},
                     {"partitions", nlohmann::json::array()},
                     {"configs", nlohmann::json::array()}};
    for (auto& p : topic.partitions) {
      nlohmann::json pj{{"partition", p.partition},
                        {"leader", p.leader},
                        {"replicas", p.replicas},
                        {"isr", p.isr},
                        {"earliest_offset", offset_json(p.earliest_offset)},
                        {"latest_offset", offset_json(p.latest_offset)}};
      if (p.error_code != 0) pj["error"] = kafka_error_name(p.error_code);
      j["partitions"].push_back(std::move(pj));
    }
    for (auto& c : topic.configs)
      j["configs"].push_back({{"name", c.name},
                              {"value", c.value ? nlohmann::json(*c.value) : nlohmann::json()},
                              {"source", c.source},
                              {"read_only", c.read_only},
                              {"sensitive", c.sensitive}});
    return j.dump() + "\n";
  }
  std::string out = fmt::format("Topic: {}{}\nPartitions: {}\n\n", topic.name,
                                topic.internal ? " (internal)" : "", topic.partition_count);
  std::vector<std::vector<std::string>> rows{
      {"PARTITION", "LEADER", "REPLICAS", "ISR", "EARLIEST", "LATEST", "ERROR"}};
  for (auto& p : topic.partitions)
    rows.push_back({std::to_string(p.partition), p.leader < 0 ? "-" : std::to_string(p.leader),
                    join_ids(p.replicas), join_ids(p.isr), offset_text(p.earliest_offset),
                    offset_text(p.latest_offset),
                    p.error_code ? std::string(kafka_error_name(p.error_code)) : ""});
  // The ERROR column only when some partition has one.
  bool any_error = std::any_of(topic.partitions.begin(), topic.partitions.end(),
                               [](auto& p) { return p.error_code != 0; });
  if (!any_error)
    for (auto& r : rows) r.pop_back();
  out += format_table(rows);
  if (!topic.configs.empty()) {
    std::vector<std::vector<std::string>> crows{{"CONFIG", "VALUE", "SOURCE"}};
    for (auto& c : topic.configs)
      crows.push_back({c.name, c.sensitive ? "(sensitive)" : c.value.value_or("(null)"), c.source});
    out += "\n" + format_table(crows);
  }
  return out;
}

std::string format_topic_created(const topic_view& topic, bool json) {
  if (json)
    return nlohmann::json{{"name", topic.name}, {"partitions", topic.partition_count}}.dump() +
           "\n";
  // The count is unknown when the broker chose it and a follow-up Metadata failed.
  if (topic.partition_count <= 0) return fmt::format("Created topic {}.\n", topic.name);
  return fmt::format("Created topic {} with {} partition{}.\n", topic.name, topic.partition_count,
                     topic.partition_count == 1 ? "" : "s");
}

std::string format_topic_deleted(const std::string& name, bool json) {
  if (json) return nlohmann::json{{"name", name}, {"deleted", true}}.dump() + "\n";
  return fmt::format("Deleted topic {}.\n", name);
}

}  // namespace tern::app
