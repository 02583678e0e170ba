#pragma once
// The broker's configuration: one struct, filled in layers
//
//   defaults  <  TOML file (--config / TERN_CONFIG)  <  TERN_* environment  <  command-line flags
//
// Every key is described once, in the table behind config_keys() (config_keys.cc); the TOML
// reader, the environment reader, the `tern serve` flags, their --help text and
// docs/configuration.md all follow that table, so a key cannot exist in one place and not
// another. A bad value or an unknown TOML key is an error that names the key as the user wrote
// it (file key, variable or flag); the broker refuses to start rather than guess.
//
// Loaded once in main() before any shard starts; read-only afterwards, so every shard may read
// one shared instance.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tern::app {

inline constexpr int64_t k_day_ms = 24ll * 60 * 60 * 1000;

struct config {
  std::filesystem::path data_dir = "./data";
  unsigned smp = 0;                             // shards; 0 = one per core
  std::string kafka_listen = "127.0.0.1:9092";  // HOST:PORT; "" disables the listener
  std::string amqp_listen = "127.0.0.1:5672";   // HOST:PORT; "" disables the listener
  uint32_t amqp_frame_max = 131072;             // offered in connection.tune
  uint16_t amqp_heartbeat_s = 60;               // offered in connection.tune; 0 = off
  std::string http_listen = "127.0.0.1:8080";   // admin API, HOST:PORT; "" disables it
  std::string advertised_host;                  // host advertised in Metadata; "" = listen host
  int32_t node_id = 0;
  std::string log_level = "info";
  bool auto_create_topics = true;
  int32_t default_partitions = 1;
  uint64_t max_request_bytes = 100 << 20;       // checked before allocating a request
  uint64_t connection_memory_bytes = 64 << 20;  // in-flight request bytes per connection
  uint64_t global_memory_bytes = 1ull << 30;    // in-flight request bytes, whole broker
  int64_t request_timeout_ms = 30000;           // a started request must arrive whole (slow-loris)
  int64_t idle_timeout_ms = 600000;             // connections.max.idle.ms
  unsigned flusher_threads = 2;
  // Defaults for topic configs (Kafka names in brackets); a topic may override them.
  uint64_t segment_bytes = 1ull << 30;           // segment.bytes
  int64_t segment_ms = 7 * k_day_ms;             // segment.ms
  int64_t retention_ms = 7 * k_day_ms;           // retention.ms (-1 forever)
  int64_t retention_bytes = -1;                  // retention.bytes (-1 unlimited)
  std::string flush = "always";                  // flush policy: always | interval | never
  int64_t flush_interval_ms = 1000;              // flush.ms, for flush = interval
  uint32_t max_message_bytes = 1048588;          // max.message.bytes
  int64_t retention_check_interval_ms = 300000;  // log.retention.check.interval.ms
  int64_t compaction_check_interval_ms = 15000;  // log.cleaner.backoff.ms
  // Consumer groups (Kafka names in brackets).
  int64_t group_initial_rebalance_delay_ms = 3000;   // group.initial.rebalance.delay.ms
  int64_t group_min_session_timeout_ms = 6000;       // group.min.session.timeout.ms
  int64_t group_max_session_timeout_ms = 1800000;    // group.max.session.timeout.ms
  int32_t offsets_topic_partitions = 16;             // offsets.topic.num.partitions
  int64_t offsets_segment_bytes = 100ll << 20;       // offsets.topic.segment.bytes
};

// kafka_listen split into its parts. Accepts "host:port", "[v6addr]:port" and ":port" (all
// interfaces); port 0 asks the OS for a free port (tests).
struct host_port {
  std::string host;
  uint16_t port = 0;
};
std::optional<host_port> parse_host_port(std::string_view text);

// Where load_config() takes each layer from. Every member is optional so tests can exercise one
// layer at a time without touching the real environment.
struct config_sources {
  std::optional<std::filesystem::path> file;       // TOML file; none = no file layer
  std::function<const char*(const char*)> getenv;  // environment lookup; empty = no env layer
  std::vector<std::pair<std::string, std::string>> flags;  // {key path, text}, applied last
};

// Fills `cfg` (start from a default-constructed config) from the layers in `src`, then checks
// the values that depend on each other. Returns "" on success, else one line naming the bad key,
// e.g. `tern.toml: storage.flush: "sometimes" is not one of always, interval, never`.
[[nodiscard]] std::string load_config(config& cfg, const config_sources& src);

// The layers on their own, for tests and for load_config(). Each returns "" or an error line.
// `origin` names the document in messages (a file name).
[[nodiscard]] std::string apply_toml(config& cfg, std::string_view toml_text,
                                     std::string_view origin);
[[nodiscard]] std::string apply_env(config& cfg,
                                    const std::function<const char*(const char*)>& getenv);
// Sets one key from text, as written in the environment or on the command line. `key` is the
// dotted TOML path ("storage.flush"); the error names `origin` (a variable or flag name).
[[nodiscard]] std::string set_key(config& cfg, std::string_view key, std::string_view text,
                                  std::string_view origin);
// Cross-key checks (each key's own range is checked when it is set).
[[nodiscard]] std::string validate(const config& cfg);

}  // namespace tern::app
