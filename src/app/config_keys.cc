#include "app/config_keys.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <vector>

#include <fmt/format.h>

namespace tern::app {
namespace {

constexpr int64_t k_int32_max = std::numeric_limits<int32_t>::max();

// Integer field with an inclusive range. Ranges are those Kafka enforces for the same setting
// where there is one; sizes that travel as Kafka INT32 (segment.bytes, max.message.bytes,
// message sizes) are capped at INT32_MAX so DescribeConfigs can report them truthfully.
// Nothing may exceed INT64_MAX: TOML integers are 64-bit signed (`tern serve --print-config`
// must print a file that loads back).
template <class T>
constexpr T k_max = T(std::min<uint64_t>(std::numeric_limits<T>::max(), INT64_MAX));

template <class T>
config_key integer_key(std::string_view path, std::string_view flag, std::string_view help,
                       T config::*field, T min, T max = k_max<T>) {
  auto set = [field, min, max](config& c, std::string_view text) -> std::string {
    T v{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc::result_out_of_range)
      return fmt::format("{} is out of range ({} to {})", text, min, max);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
      return fmt::format("\"{}\" is not {} integer", text,
                         std::is_unsigned_v<T> ? "a non-negative" : "an");
    if (v < min || v > max) return fmt::format("{} is out of range ({} to {})", v, min, max);
    c.*field = v;
    return {};
  };
  auto get = [field](const config& c) { return std::to_string(c.*field); };
  return {path, flag, "N", help, value_kind::integer, set, get};
}

config_key boolean_key(std::string_view path, std::string_view flag, std::string_view help,
                       bool config::*field) {
  auto set = [field](config& c, std::string_view text) -> std::string {
    std::string t(text);
    std::transform(t.begin(), t.end(), t.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (t == "true" || t == "1" || t == "yes" || t == "on") {
      c.*field = true;
    } else if (t == "false" || t == "0" || t == "no" || t == "off") {
      c.*field = false;
    } else {
      return fmt::format("\"{}\" is not a boolean (true or false)", text);
    }
    return {};
  };
  auto get = [field](const config& c) -> std::string { return c.*field ? "true" : "false"; };
  return {path, flag, "BOOL", help, value_kind::boolean, set, get};
}

// A string field limited to a fixed set of words (flush policy, log level).
template <size_t N>
config_key choice_key(std::string_view path, std::string_view flag, std::string_view value_name,
                      std::string_view help, std::string config::*field,
                      std::array<std::string_view, N> choices) {
  auto set = [field, choices](config& c, std::string_view text) -> std::string {
    if (std::find(choices.begin(), choices.end(), text) == choices.end())
      return fmt::format("\"{}\" is not one of {}", text, fmt::join(choices, ", "));
    c.*field = std::string(text);
    return {};
  };
  auto get = [field](const config& c) { return c.*field; };
  return {path, flag, value_name, help, value_kind::string, set, get};
}

bool is_host(std::string_view h) {
  if (h.empty() || h.size() > 255) return false;
  return std::all_of(h.begin(), h.end(), [](unsigned char ch) {
    return std::isalnum(ch) || ch == '.' || ch == '-' || ch == '_' || ch == ':';
  });
}

std::vector<config_key> make_keys() {
  std::vector<config_key> k;
  k.push_back({"data", "data", "DIR", "directory holding every partition's log; created if missing",
               value_kind::string,
               [](config& c, std::string_view t) -> std::string {
                 if (t.empty()) return "must not be empty";
                 c.data_dir = std::filesystem::path(t);
                 return {};
               },
               [](const config& c) { return c.data_dir.string(); }});
  k.push_back(integer_key<unsigned>(
      "smp", "smp", "number of shards (one event-loop thread each); 0 = one per core", &config::smp,
      0, 1024));
  k.push_back(integer_key<int32_t>("node_id", "node-id",
                                   "this broker's id, as reported in Metadata (Kafka broker.id)",
                                   &config::node_id, 0, k_int32_max));
  k.push_back(choice_key<7>("log_level", "log-level", "LEVEL",
                            "least severe log level written: trace, debug, info, warn, error, "
                            "critical or off",
                            &config::log_level,
                            {"trace", "debug", "info", "warn", "error", "critical", "off"}));

  k.push_back({"kafka.listen", "kafka-listen", "HOST:PORT",
               "address of the Kafka listener ([v6]:port for IPv6, :port for all interfaces, "
               "port 0 for any free port); empty disables it",
               value_kind::string,
               [](config& c, std::string_view t) -> std::string {
                 if (!t.empty() && !parse_host_port(t))
                   return fmt::format("\"{}\" is not HOST:PORT", t);
                 c.kafka_listen = std::string(t);
                 return {};
               },
               [](const config& c) { return c.kafka_listen; }});
  k.push_back({"kafka.advertised_host", "advertised-host", "HOST",
               "host name clients are told to connect to (Metadata); empty = the listen host",
               value_kind::string,
               [](config& c, std::string_view t) -> std::string {
                 if (!t.empty() && !is_host(t)) return fmt::format("\"{}\" is not a host name", t);
                 c.advertised_host = std::string(t);
                 return {};
               },
               [](const config& c) { return c.advertised_host; }});
  k.push_back(boolean_key("kafka.auto_create_topics", "auto-create-topics",
                          "create a topic when a client asks for one that does not exist "
                          "(auto.create.topics.enable)",
                          &config::auto_create_topics));
  k.push_back(integer_key<int32_t>("kafka.default_partitions", "default-partitions",
                                   "partitions of a topic created without a count (num.partitions)",
                                   &config::default_partitions, 1, 1'000'000));
  k.push_back(integer_key<uint64_t>("kafka.max_request_bytes", "max-request-bytes",
                                    "largest request accepted; larger ones close the connection "
                                    "before anything is allocated (socket.request.max.bytes)",
                                    &config::max_request_bytes, 1024, k_int32_max));

  k.push_back({"amqp.listen", "amqp-listen", "HOST:PORT",
               "address of the AMQP 0-9-1 listener (same forms as kafka.listen); empty "
               "disables it",
               value_kind::string,
               [](config& c, std::string_view t) -> std::string {
                 if (!t.empty() && !parse_host_port(t))
                   return fmt::format("\"{}\" is not HOST:PORT", t);
                 c.amqp_listen = std::string(t);
                 return {};
               },
               [](const config& c) { return c.amqp_listen; }});
  k.push_back(integer_key<uint32_t>("amqp.frame_max", "amqp-frame-max",
                                    "largest AMQP frame offered to clients (connection.tune)",
                                    &config::amqp_frame_max, 4096, 1u << 24));
  k.push_back(integer_key<uint16_t>("amqp.heartbeat_s", "amqp-heartbeat",
                                    "AMQP heartbeat interval offered to clients, in seconds; "
                                    "0 = none (a peer silent for two intervals is disconnected)",
                                    &config::amqp_heartbeat_s, 0, 65535));
  k.push_back({"http.listen", "http-listen", "HOST:PORT",
               "address of the HTTP admin API (same forms as kafka.listen); it has no "
               "authentication yet, so keep it on a loopback address; empty disables it",
               value_kind::string,
               [](config& c, std::string_view t) -> std::string {
                 if (!t.empty() && !parse_host_port(t))
                   return fmt::format("\"{}\" is not HOST:PORT", t);
                 c.http_listen = std::string(t);
                 return {};
               },
               [](const config& c) { return c.http_listen; }});

  k.push_back(integer_key<uint64_t>("limits.connection_memory_bytes", "connection-memory-bytes",
                                    "in-flight request bytes one connection may hold before the "
                                    "broker stops reading from it",
                                    &config::connection_memory_bytes, 1));
  k.push_back(integer_key<uint64_t>("limits.global_memory_bytes", "global-memory-bytes",
                                    "in-flight request bytes all connections together may hold",
                                    &config::global_memory_bytes, 1));
  k.push_back(integer_key<int64_t>("limits.request_timeout_ms", "request-timeout-ms",
                                   "a request whose first byte arrived must be complete within "
                                   "this, or the connection is closed (slow clients)",
                                   &config::request_timeout_ms, 1));
  k.push_back(integer_key<int64_t>("limits.idle_timeout_ms", "idle-timeout-ms",
                                   "close connections idle for this long (connections.max.idle.ms)",
                                   &config::idle_timeout_ms, 1));

  k.push_back(integer_key<unsigned>("storage.flusher_threads", "flusher-threads",
                                    "threads that fdatasync logs, so syncs never block a shard",
                                    &config::flusher_threads, 1, 256));
  k.push_back(integer_key<uint64_t>("storage.segment_bytes", "segment-bytes",
                                    "roll to a new segment file past this size (segment.bytes)",
                                    &config::segment_bytes, 1, k_int32_max));
  k.push_back(integer_key<int64_t>("storage.segment_ms", "segment-ms",
                                   "roll to a new segment after this long, even if not full "
                                   "(segment.ms)",
                                   &config::segment_ms, 1));
  k.push_back(integer_key<int64_t>("storage.retention_ms", "retention-ms",
                                   "delete segments whose newest record is older; -1 keeps them "
                                   "forever (retention.ms)",
                                   &config::retention_ms, -1));
  k.push_back(integer_key<int64_t>("storage.retention_bytes", "retention-bytes",
                                   "delete the oldest segments while a partition is larger; -1 = "
                                   "no limit (retention.bytes)",
                                   &config::retention_bytes, -1));
  k.push_back(choice_key<3>("storage.flush", "flush", "POLICY",
                            "when an append is acknowledged: always (after fdatasync), interval "
                            "(sync every flush_interval_ms), never (page cache only)",
                            &config::flush, {"always", "interval", "never"}));
  k.push_back(integer_key<int64_t>("storage.flush_interval_ms", "flush-interval-ms",
                                   "sync period for flush = interval (flush.ms)",
                                   &config::flush_interval_ms, 1));
  k.push_back(integer_key<uint32_t>("storage.max_message_bytes", "max-message-bytes",
                                    "largest record batch a producer may append "
                                    "(max.message.bytes)",
                                    &config::max_message_bytes, 1, k_int32_max));
  k.push_back(integer_key<int64_t>("storage.retention_check_interval_ms",
                                   "retention-check-interval-ms",
                                   "how often retention looks for segments to delete "
                                   "(log.retention.check.interval.ms)",
                                   &config::retention_check_interval_ms, 1));
  k.push_back(integer_key<int64_t>("storage.compaction_check_interval_ms",
                                   "compaction-check-interval-ms",
                                   "how often compacted topics are checked for a compaction pass "
                                   "(log.cleaner.backoff.ms)",
                                   &config::compaction_check_interval_ms, 1));

  k.push_back(integer_key<int64_t>("groups.initial_rebalance_delay_ms",
                                   "group-initial-rebalance-delay-ms",
                                   "how long the first rebalance of an empty group waits for more "
                                   "members to join (group.initial.rebalance.delay.ms)",
                                   &config::group_initial_rebalance_delay_ms, 0));
  k.push_back(integer_key<int64_t>("groups.min_session_timeout_ms", "group-min-session-timeout-ms",
                                   "smallest session.timeout.ms a consumer may ask for "
                                   "(group.min.session.timeout.ms)",
                                   &config::group_min_session_timeout_ms, 1));
  k.push_back(integer_key<int64_t>("groups.max_session_timeout_ms", "group-max-session-timeout-ms",
                                   "largest session.timeout.ms a consumer may ask for "
                                   "(group.max.session.timeout.ms)",
                                   &config::group_max_session_timeout_ms, 1));
  k.push_back(integer_key<int32_t>("groups.offsets_partitions", "offsets-partitions",
                                   "partitions of the internal __consumer_offsets topic, fixed "
                                   "when it is first created (offsets.topic.num.partitions)",
                                   &config::offsets_topic_partitions, 1, 1000));
  k.push_back(integer_key<int64_t>("groups.offsets_segment_bytes", "offsets-segment-bytes",
                                   "segment size of the compacted __consumer_offsets topic, "
                                   "applied at every start (offsets.topic.segment.bytes)",
                                   &config::offsets_segment_bytes, 1024, k_int32_max));
  return k;
}

}  // namespace

std::span<const config_key> config_keys() {
  static const std::vector<config_key> keys = make_keys();
  return keys;
}

const config_key* find_config_key(std::string_view path) {
  for (auto& k : config_keys())
    if (k.path == path) return &k;
  return nullptr;
}

std::string env_name(const config_key& key) {
  std::string name = "TERN_";
  for (char ch : key.path) name += ch == '.' ? '_' : char(std::toupper((unsigned char)ch));
  return name;
}

}  // namespace tern::app
