#pragma once
// A small blocking Kafka admin client for the `tern topic ...` and `tern group ...` commands. It
// speaks to one broker over a blocking_socket, with Tern's own codec, one request at a time; every
// call waits at most `admin_options::timeout`.
//
//   auto client = admin_client::connect({.bootstrap = "127.0.0.1:9092"});
//   if (!client) die(client.error().message);
//   auto topics = client->list_topics();
//
// Tern is single-node today, so every request goes to the bootstrap broker, including those
// Kafka sends to a partition's leader (ListOffsets) or to a group's coordinator (the group
// APIs: no FindCoordinator). When clustering arrives, per-leader
// connections belong here.
//
// Blocking: for command-line tools and tests only, never on a shard.

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "app/blocking_socket.h"
#include "kafka/codec/codec.h"

namespace tern::app {

// Why an admin operation failed, as one line for the user.
struct admin_error {
  int16_t kafka_code = 0;  // the broker's Kafka error code; 0 for connection/protocol failures
  std::string message;     // e.g. "TOPIC_ALREADY_EXISTS: topic 'orders' already exists"
};

// A value or an admin_error (base/result.h carries only error codes, which cannot say which
// topic failed or repeat the broker's error_message).
template <class T>
class [[nodiscard]] admin_result {
 public:
  admin_result(T v) : _v(std::in_place_index<0>, std::move(v)) {}  // NOLINT: implicit by design
  admin_result(admin_error e) : _v(std::in_place_index<1>, std::move(e)) {}  // NOLINT
  explicit operator bool() const { return _v.index() == 0; }
  T& operator*() { return std::get<0>(_v); }
  const T& operator*() const { return std::get<0>(_v); }
  T* operator->() { return &std::get<0>(_v); }
  const T* operator->() const { return &std::get<0>(_v); }
  const admin_error& error() const { return std::get<1>(_v); }

 private:
  std::variant<T, admin_error> _v;
};

// An error from a Kafka error code: "<NAME>: <broker message or fallback>".
admin_error kafka_error(int16_t code, const std::optional<std::string>& broker_message,
                        std::string_view fallback);

struct admin_options {
  std::string bootstrap = "127.0.0.1:9092";
  std::chrono::milliseconds timeout{10000};  // connect, and each request's round trip
  std::string client_id = "tern-cli";
};

// What the topic commands show, gathered from Metadata, ListOffsets and DescribeConfigs.
struct partition_view {
  int32_t partition = 0;
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  int16_t error_code = 0;
  int64_t earliest_offset = -1;  // -1: unknown (ListOffsets failed for this partition)
  int64_t latest_offset = -1;    // the high watermark: the offset the next record gets
};

struct config_view {
  std::string name;
  std::optional<std::string> value;  // null for sensitive values
  std::string source;                // "TOPIC_CONFIG", "DEFAULT_CONFIG", ... (Kafka's names)
  bool read_only = false;
  bool sensitive = false;
};

struct topic_view {
  std::string name;
  bool internal = false;
  int32_t partition_count = 0;
  std::vector<partition_view> partitions;  // describe only
  std::vector<config_view> configs;        // describe only
};

// One partition of one topic; ordered by topic, then partition.
struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const topic_partition&) const = default;
};

// An offset of a partition (committed, or found by ListOffsets), or why there is none.
struct partition_offset {
  topic_partition tp;
  int64_t offset = -1;     // -1: none (nothing committed; no record at or after a timestamp)
  int16_t error_code = 0;  // the broker's per-partition error
  std::string metadata;    // OffsetFetch only: the metadata committed with the offset
};

// What the group commands show, gathered from ListGroups and DescribeGroups.
struct group_listing {
  std::string group_id;
  std::string protocol_type;  // "consumer" for Kafka consumers; "" for groups with only commits
  std::string state;          // "Empty", "Stable", ... (Kafka's names)
};

struct member_view {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  // The partitions the member owns, from its assignment decoded with the consumer protocol
  // (group/consumer_protocol.h); empty for other protocol types and outside Stable.
  std::vector<topic_partition> assignment;
  bool assignment_undecodable = false;  // a "consumer" assignment that did not decode
};

struct group_view {
  std::string group_id;
  std::string state;  // "Dead" for a group that does not exist (as Kafka answers)
  std::string protocol_type;
  std::string protocol;  // the chosen assignor ("range", ...); "" unless Stable
  std::vector<member_view> members;
};

struct group_deletion_view {
  std::string group_id;
  int16_t error_code = 0;
};

class admin_client {
 public:
  // Connects to the bootstrap broker and learns which API versions it speaks (ApiVersions).
  static admin_result<admin_client> connect(const admin_options& options);

  // The highest version of `key` both the broker and Tern's codec speak; nullopt if none.
  std::optional<int16_t> version_of(kafka::api_key key) const;

  // Sends one request at the negotiated version and waits for its response. Fails when the
  // broker does not support the API at all.
  template <class Resp, class Req>
  admin_result<Resp> call(const Req& req);

  // Every topic, sorted by name.
  admin_result<std::vector<topic_view>> list_topics();
  // One topic with its partitions, their earliest/latest offsets and its configs.
  admin_result<topic_view> describe_topic(const std::string& name);
  // Creates a topic; partitions -1 means the broker's default. configs are Kafka topic
  // configs ("retention.ms" -> "3600000").
  admin_result<topic_view> create_topic(
      const std::string& name, int32_t partitions,
      const std::vector<std::pair<std::string, std::string>>& configs);
  admin_result<std::monostate> delete_topic(const std::string& name);
  // The partition indexes of a topic, sorted; UNKNOWN_TOPIC_OR_PARTITION if it does not exist.
  admin_result<std::vector<int32_t>> partitions_of(const std::string& topic);
  // ListOffsets for `partitions` at `timestamp` (-2 earliest, -1 latest, else milliseconds
  // since the epoch: the first offset whose record timestamp is at or after it). One result
  // per distinct partition asked for, sorted; per-partition failures in error_code.
  admin_result<std::vector<partition_offset>> list_offsets(
      const std::vector<topic_partition>& partitions, int64_t timestamp);

  // --- consumer groups (admin_client_groups.cc) ----------------------------------------
  // ListGroups, sorted by group id. `states` filters by state name, case-insensitively
  // (sent to brokers with ListGroups v4+, applied here too). Brokers older than v4 do not
  // answer states: they are then asked with DescribeGroups.
  admin_result<std::vector<group_listing>> list_groups(const std::vector<std::string>& states);
  // DescribeGroups for one group, members sorted by member id.
  admin_result<group_view> describe_group(const std::string& group_id);
  // Every committed offset of a group (OffsetFetch v2+ with null topics), sorted.
  admin_result<std::vector<partition_offset>> committed_offsets(const std::string& group_id);
  // A simple commit (generation -1, member id ""), as tools do for groups without active
  // members. Returns one entry per partition with its error_code (0 = committed).
  admin_result<std::vector<partition_offset>> commit_offsets(
      const std::string& group_id, const std::vector<partition_offset>& offsets);
  // DeleteGroups; one result per group, in the order asked.
  admin_result<std::vector<group_deletion_view>> delete_groups(
      const std::vector<std::string>& group_ids);

 private:
  explicit admin_client(admin_options options) : _options(std::move(options)) {}

  admin_result<std::monostate> negotiate();
  // Writes a request header into `frame`; returns its correlation id.
  int32_t write_header(kafka::api_key key, int16_t version, bytes::chunked_buffer& frame);
  // Sends `frame` (header + body) and returns the response body, its header checked and
  // stripped.
  admin_result<bytes::buffer> round_trip(kafka::api_key key, int16_t version,
                                         int32_t correlation_id,
                                         const bytes::chunked_buffer& frame);
  admin_result<std::monostate> fill_offsets(topic_view& topic);
  admin_result<std::monostate> fill_configs(topic_view& topic);

  admin_options _options;
  blocking_socket _socket;
  int32_t _next_correlation_id = 1;
  // Broker's [min, max] per api key; index = key. Empty entries: not offered.
  std::vector<std::optional<std::pair<int16_t, int16_t>>> _broker_versions;
};

template <class Resp, class Req>
admin_result<Resp> admin_client::call(const Req& req) {
  static_assert(Req::api == Resp::api);
  auto version = version_of(Req::api);
  if (!version)
    return admin_error{0, std::string("the broker does not support ") +
                              std::string(kafka::find_api(Req::api)->name)};
  bytes::chunked_buffer frame;
  int32_t correlation_id = write_header(Req::api, *version, frame);
  kafka::encode_request(req, *version, frame);
  auto body = round_trip(Req::api, *version, correlation_id, frame);
  if (!body) return body.error();
  bytes::byte_reader r(*body);
  auto resp = kafka::decode_response<Resp>(r, *version);
  if (!resp)
    return admin_error{0, std::string("bad ") + std::string(kafka::find_api(Req::api)->name) +
                              " response from the broker: " + resp.error().message()};
  return std::move(*resp);
}

}  // namespace tern::app
