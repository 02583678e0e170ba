#pragma once
// A small blocking Kafka admin client for the `tern topic ...` (and later `tern group ...`)
// commands. It speaks to one broker over a blocking_socket, with Tern's own codec, one request
// at a time; every call waits at most `admin_options::timeout`.
//
//   auto client = admin_client::connect({.bootstrap = "127.0.0.1:9092"});
//   if (!client) die(client.error().message);
//   auto topics = client->list_topics();
//
// Tern is single-node today, so every request goes to the bootstrap broker, including those
// Kafka sends to a partition's leader (ListOffsets). When clustering arrives, per-leader
// connections belong here.
//
// Blocking: for command-line tools and tests only, never on a shard.

#include <chrono>
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
