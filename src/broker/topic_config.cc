#include "broker/topic_config.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>

#include "broker/errc.h"

namespace tern::broker {
namespace {

std::optional<int64_t> parse_long(const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(const std::string& s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

// Kafka prints 0.5 as "0.5": the shortest form that reads back.
std::string format_double(double v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, p) : std::to_string(v);
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// cleanup.policy is a list: "delete", "compact", "compact,delete" (any order, spaces around
// the commas allowed, as Kafka's list parser does). {delete, compact}, or nullopt.
std::optional<std::pair<bool, bool>> parse_cleanup_policy(const std::string& v) {
  bool del = false, compact = false;
  size_t at = 0;
  while (true) {
    size_t comma = v.find(',', at);
    std::string item =
        trim(v.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (item == "delete" && !del)
      del = true;
    else if (item == "compact" && !compact)
      compact = true;
    else
      return std::nullopt;
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return std::make_pair(del, compact);
}

std::string policy_name(storage::flush_policy p) {
  switch (p) {
    case storage::flush_policy::always: return "always";
    case storage::flush_policy::interval: return "interval";
    case storage::flush_policy::never: return "never";
  }
  return "always";
}

struct key_def {
  const char* name;
  // Validates a value; returns an empty string when valid, the reason otherwise.
  std::function<std::string(const std::string&)> validate;
  // The default value shown by DescribeConfigs.
  std::function<std::string(const storage::log_config&)> default_value;
  // Applies a validated value.
  std::function<void(storage::log_config&, const std::string&)> apply;
};

std::function<std::string(const std::string&)> long_at_least(int64_t min, int64_t max = INT64_MAX) {
  return [min, max](const std::string& v) -> std::string {
    auto n = parse_long(v);
    if (!n) return "not a number";
    if (*n < min) return "must be at least " + std::to_string(min);
    if (*n > max) return "must be at most " + std::to_string(max);
    return "";
  };
}

std::function<std::string(const std::string&)> one_of(std::vector<std::string> allowed,
                                                       std::string refused_reason = "") {
  return [allowed, refused_reason](const std::string& v) -> std::string {
    for (auto& a : allowed)
      if (a == v) return "";
    if (!refused_reason.empty()) return refused_reason;
    std::string s = "must be one of:";
    for (auto& a : allowed) s += " " + a;
    return s;
  };
}

const std::vector<key_def>& keys() {
  static const std::vector<key_def> k = {
      {"cleanup.policy",
       [](const std::string& v) -> std::string {
         return parse_cleanup_policy(v) ? "" : "must be delete, compact or compact,delete";
       },
       [](const storage::log_config& c) {
         return std::string(c.cleanup_compact && c.cleanup_delete ? "compact,delete"
                            : c.cleanup_compact                   ? "compact"
                                                                  : "delete");
       },
       [](storage::log_config& c, const std::string& v) {
         auto p = *parse_cleanup_policy(v);
         c.cleanup_delete = p.first;
         c.cleanup_compact = p.second;
       }},
      {"min.cleanable.dirty.ratio",
       [](const std::string& v) -> std::string {
         auto d = parse_double(v);
         if (!d) return "not a number";
         if (*d < 0 || *d > 1) return "must be between 0 and 1";
         return "";
       },
       [](const storage::log_config& c) { return format_double(c.min_cleanable_dirty_ratio); },
       [](storage::log_config& c, const std::string& v) {
         c.min_cleanable_dirty_ratio = *parse_double(v);
       }},
      {"delete.retention.ms", long_at_least(0),
       [](const storage::log_config& c) { return std::to_string(c.delete_retention_ms); },
       [](storage::log_config& c, const std::string& v) {
         c.delete_retention_ms = *parse_long(v);
       }},
      {"min.compaction.lag.ms", long_at_least(0),
       [](const storage::log_config& c) { return std::to_string(c.min_compaction_lag_ms); },
       [](storage::log_config& c, const std::string& v) {
         c.min_compaction_lag_ms = *parse_long(v);
       }},
      {"compression.type",
       one_of({"producer"}, "the broker keeps batches as produced: only compression.type=producer"),
       [](auto&) { return std::string("producer"); }, [](auto&, auto&) {}},
      {"retention.ms", long_at_least(-1),
       [](const storage::log_config& c) { return std::to_string(c.retention_ms); },
       [](storage::log_config& c, const std::string& v) { c.retention_ms = *parse_long(v); }},
      {"retention.bytes", long_at_least(-1),
       [](const storage::log_config& c) { return std::to_string(c.retention_bytes); },
       [](storage::log_config& c, const std::string& v) { c.retention_bytes = *parse_long(v); }},
      {"segment.bytes", long_at_least(1024, INT32_MAX),
       [](const storage::log_config& c) { return std::to_string(c.segment_bytes); },
       [](storage::log_config& c, const std::string& v) { c.segment_bytes = *parse_long(v); }},
      {"segment.ms", long_at_least(1),
       [](const storage::log_config& c) { return std::to_string(c.segment_ms); },
       [](storage::log_config& c, const std::string& v) { c.segment_ms = *parse_long(v); }},
      {"index.interval.bytes", long_at_least(1, INT32_MAX),
       [](const storage::log_config& c) { return std::to_string(c.index_interval_bytes); },
       [](storage::log_config& c, const std::string& v) {
         c.index_interval_bytes = uint32_t(*parse_long(v));
       }},
      {"max.message.bytes", long_at_least(0, INT32_MAX),
       [](const storage::log_config& c) { return std::to_string(c.max_message_bytes); },
       [](storage::log_config& c, const std::string& v) {
         c.max_message_bytes = uint32_t(*parse_long(v));
       }},
      {"message.timestamp.type", one_of({"CreateTime", "LogAppendTime"}),
       [](const storage::log_config& c) {
         return std::string(c.log_append_time ? "LogAppendTime" : "CreateTime");
       },
       [](storage::log_config& c, const std::string& v) { c.log_append_time = v == "LogAppendTime"; }},
      {"flush.policy", one_of({"always", "interval", "never"}),
       [](const storage::log_config& c) { return policy_name(c.flush); },
       [](storage::log_config& c, const std::string& v) {
         c.flush = v == "never"      ? storage::flush_policy::never
                   : v == "interval" ? storage::flush_policy::interval
                                     : storage::flush_policy::always;
       }},
      {"flush.ms", long_at_least(0),
       [](const storage::log_config& c) { return std::to_string(c.flush_interval_ms); },
       [](storage::log_config& c, const std::string& v) { c.flush_interval_ms = *parse_long(v); }},
      {"min.insync.replicas", one_of({"1"}, "a single-node broker has one replica: only 1"),
       [](auto&) { return std::string("1"); }, [](auto&, auto&) {}},
  };
  return k;
}

const key_def* find(const std::string& key) {
  for (auto& k : keys())
    if (key == k.name) return &k;
  return nullptr;
}

}  // namespace

bool is_known_topic_config(const std::string& key) { return find(key) != nullptr; }

result<void> validate_topic_config(const std::string& key, const std::string& value,
                                   std::string* why) {
  auto* k = find(key);
  if (!k) {
    if (why) *why = "unknown or unsupported topic config " + key;
    return errc::invalid_config;
  }
  std::string reason = k->validate(value);
  if (!reason.empty()) {
    if (why) *why = "invalid value '" + value + "' for " + key + ": " + reason;
    return errc::invalid_config;
  }
  return ok();
}

storage::log_config resolve_log_config(const config_map& overrides,
                                       const storage::log_config& defaults) {
  storage::log_config c = defaults;
  for (auto& [key, value] : overrides)
    if (auto* k = find(key)) k->apply(c, value);
  return c;
}

std::vector<described_config> describe_topic_config(const config_map& overrides,
                                                    const storage::log_config& defaults) {
  std::vector<described_config> out;
  for (auto& k : keys()) {
    described_config d;
    d.name = k.name;
    if (auto it = overrides.find(k.name); it != overrides.end()) {
      d.value = it->second;
      d.is_default = false;
    } else {
      d.value = k.default_value(defaults);
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace tern::broker
