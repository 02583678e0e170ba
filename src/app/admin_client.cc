#include "app/admin_client.h"

#include <algorithm>

#include <fmt/format.h>

#include "app/kafka_error_names.h"
#include "app/version.h"
#include "kafka/codec/api_versions.h"
#include "kafka/codec/create_topics.h"
#include "kafka/codec/delete_topics.h"
#include "kafka/codec/describe_configs.h"
#include "kafka/codec/list_offsets.h"
#include "kafka/codec/metadata.h"

namespace tern::app {
namespace {

using kafka::api_key;
using ok_t = std::monostate;

constexpr int16_t k_unsupported_version = 35;
constexpr int16_t k_unknown_topic = 3;
constexpr int8_t k_resource_topic = 2;        // DescribeConfigs resource type
constexpr int64_t k_earliest_timestamp = -2;  // ListOffsets special timestamps
constexpr int64_t k_latest_timestamp = -1;

// Kafka's ConfigSource names (DescribeConfigs v1+), index = the wire value.
std::string config_source_name(int8_t source) {
  static constexpr std::string_view names[] = {"UNKNOWN",
                                               "DYNAMIC_TOPIC_CONFIG",
                                               "DYNAMIC_BROKER_CONFIG",
                                               "DYNAMIC_DEFAULT_BROKER_CONFIG",
                                               "STATIC_BROKER_CONFIG",
                                               "DEFAULT_CONFIG",
                                               "DYNAMIC_BROKER_LOGGER_CONFIG",
                                               "CLIENT_METRICS_CONFIG",
                                               "GROUP_CONFIG"};
  if (source < 0 || size_t(source) >= std::size(names)) return "UNKNOWN";
  return std::string(names[size_t(source)]);
}

// The broker's error_message where the described versions have one (DeleteTopics: v5+).
template <class R>
std::optional<std::string> error_message_of(const R& r) {
  if constexpr (requires { r.error_message; }) {
    return r.error_message;
  } else {
    return std::nullopt;
  }
}

}  // namespace

admin_error kafka_error(int16_t code, const std::optional<std::string>& broker_message,
                        std::string_view fallback) {
  std::string_view detail =
      broker_message && !broker_message->empty() ? std::string_view(*broker_message) : fallback;
  return {code, fmt::format("{}: {}", kafka_error_name(code), detail)};
}

admin_result<admin_client> admin_client::connect(const admin_options& options) {
  admin_client client(options);
  if (std::string e = client._socket.connect(options.bootstrap, options.timeout); !e.empty())
    return admin_error{0, e};
  if (auto r = client.negotiate(); !r) return r.error();
  return client;
}

std::optional<int16_t> admin_client::version_of(api_key key) const {
  const kafka::api_info* ours = kafka::find_api(key);
  size_t index = size_t(uint16_t(key));
  if (!ours || index >= _broker_versions.size() || !_broker_versions[index]) return std::nullopt;
  auto [broker_min, broker_max] = *_broker_versions[index];
  int16_t lo = std::max(ours->min_version, broker_min);
  int16_t hi = std::min(ours->max_version, broker_max);
  if (hi < lo) return std::nullopt;
  return hi;
}

int32_t admin_client::write_header(api_key key, int16_t version, bytes::chunked_buffer& frame) {
  int32_t id = _next_correlation_id++;
  kafka::encode_request_header({key, version, id, _options.client_id}, frame);
  return id;
}

admin_result<bytes::buffer> admin_client::round_trip(api_key key, int16_t version,
                                                     int32_t correlation_id,
                                                     const bytes::chunked_buffer& frame) {
  // After any failure the stream may be out of step (a late answer would be read as the
  // next request's), so the connection is closed and later calls fail with "not connected".
  auto broken = [this](std::string message) {
    _socket.close();
    return admin_error{0, std::move(message)};
  };
  auto deadline = std::chrono::steady_clock::now() + _options.timeout;
  bytes::buffer out;
  if (!frame.flatten(out)) return admin_error{0, "cannot encode the request"};
  if (std::string e = _socket.send_frame(out, deadline); !e.empty()) return broken(e);
  bytes::buffer in;
  if (std::string e = _socket.recv_frame(in, deadline); !e.empty()) return broken(e);
  bytes::byte_reader r(in);
  auto id = kafka::decode_response_header(r, key, version);
  if (!id) return broken("bad response header from the broker");
  if (*id != correlation_id)
    return broken(fmt::format("response for request {} while waiting for {}", *id, correlation_id));
  return bytes::buffer(r.position(), r.position() + r.remaining());
}

// ApiVersions is asked at v3 (so the broker learns who we are). A broker that does not speak
// v3 answers UNSUPPORTED_VERSION in the v0 layout, with its list: read that instead.
admin_result<ok_t> admin_client::negotiate() {
  constexpr int16_t v = 3;
  kafka::api_versions_request req;
  req.client_software_name = "tern-cli";
  req.client_software_version = std::string(version());
  bytes::chunked_buffer frame;
  int32_t id = write_header(api_key::api_versions, v, frame);
  kafka::encode_request(req, v, frame);
  auto body = round_trip(api_key::api_versions, v, id, frame);
  if (!body) return body.error();

  bytes::byte_reader r3(*body);
  auto resp = kafka::decode_response<kafka::api_versions_response>(r3, v);
  if (!resp) {
    bytes::byte_reader r0(*body);
    resp = kafka::decode_response<kafka::api_versions_response>(r0, 0);
  }
  if (!resp) return admin_error{0, "bad ApiVersions response from the broker"};
  if (resp->error_code != 0 && resp->error_code != k_unsupported_version)
    return kafka_error(resp->error_code, std::nullopt, "ApiVersions failed");
  for (auto& a : resp->api_keys) {
    if (a.api_key < 0 || a.api_key > 1000) continue;  // nonsense; ignore rather than allocate
    if (size_t(a.api_key) >= _broker_versions.size()) _broker_versions.resize(a.api_key + 1);
    _broker_versions[size_t(a.api_key)] = std::pair{a.min_version, a.max_version};
  }
  return ok_t{};
}

admin_result<std::vector<topic_view>> admin_client::list_topics() {
  kafka::metadata_request req;  // topics null: every topic
  req.allow_auto_topic_creation = false;
  auto resp = call<kafka::metadata_response>(req);
  if (!resp) return resp.error();
  std::vector<topic_view> topics;
  for (auto& t : resp->topics) {
    if (t.error_code != 0) continue;  // e.g. being deleted: not worth failing a listing over
    topics.push_back({t.name, t.is_internal, int32_t(t.partitions.size()), {}, {}});
  }
  std::sort(topics.begin(), topics.end(),
            [](const topic_view& a, const topic_view& b) { return a.name < b.name; });
  return topics;
}

admin_result<topic_view> admin_client::describe_topic(const std::string& name) {
  kafka::metadata_request req;
  req.topics.emplace().emplace_back().name = name;
  req.allow_auto_topic_creation = false;  // describing must never create
  auto resp = call<kafka::metadata_response>(req);
  if (!resp) return resp.error();
  auto it = std::find_if(resp->topics.begin(), resp->topics.end(),
                         [&](auto& t) { return t.name == name; });
  if (it == resp->topics.end())
    return kafka_error(k_unknown_topic, std::nullopt,
                       fmt::format("topic '{}' does not exist", name));
  if (it->error_code != 0)
    return kafka_error(it->error_code, std::nullopt,
                       it->error_code == k_unknown_topic
                           ? fmt::format("topic '{}' does not exist", name)
                           : fmt::format("cannot describe topic '{}'", name));
  topic_view topic{name, it->is_internal, int32_t(it->partitions.size()), {}, {}};
  for (auto& p : it->partitions)
    topic.partitions.push_back(
        {p.partition_index, p.leader_id, p.replica_nodes, p.isr_nodes, p.error_code, -1, -1});
  std::sort(topic.partitions.begin(), topic.partitions.end(),
            [](auto& a, auto& b) { return a.partition < b.partition; });
  if (auto r = fill_offsets(topic); !r) return r.error();
  if (auto r = fill_configs(topic); !r) return r.error();
  return topic;
}

// Earliest and latest offsets take one ListOffsets each: Kafka rejects a request naming the
// same partition twice. Skipped (offsets stay -1) when the broker lacks ListOffsets.
admin_result<ok_t> admin_client::fill_offsets(topic_view& topic) {
  if (!version_of(api_key::list_offsets) || topic.partitions.empty()) return ok_t{};
  std::vector<topic_partition> tps;
  for (auto& p : topic.partitions) tps.push_back({topic.name, p.partition});
  for (int64_t which : {k_earliest_timestamp, k_latest_timestamp}) {
    auto offsets = list_offsets(tps, which);
    if (!offsets) return offsets.error();
    for (auto& o : *offsets) {
      if (o.error_code != 0) continue;
      for (auto& p : topic.partitions)
        if (p.partition == o.tp.partition)
          (which == k_earliest_timestamp ? p.earliest_offset : p.latest_offset) = o.offset;
    }
  }
  return ok_t{};
}

admin_result<std::vector<partition_offset>> admin_client::list_offsets(
    const std::vector<topic_partition>& partitions, int64_t timestamp) {
  auto v = version_of(api_key::list_offsets);
  if (!v) return admin_error{0, "the broker does not support ListOffsets"};
  std::vector<topic_partition> tps = partitions;
  std::sort(tps.begin(), tps.end());
  tps.erase(std::unique(tps.begin(), tps.end()), tps.end());
  std::vector<partition_offset> out;
  if (tps.empty()) return out;
  kafka::list_offsets_request req;
  req.replica_id = -1;
  req.isolation_level = 0;  // read_uncommitted: latest is the high watermark
  for (auto& tp : tps) {
    if (req.topics.empty() || req.topics.back().name != tp.topic)
      req.topics.emplace_back().name = tp.topic;
    auto& rp = req.topics.back().partitions.emplace_back();
    rp.partition_index = tp.partition;
    rp.timestamp = timestamp;
    rp.max_num_offsets = 1;
  }
  auto resp = call<kafka::list_offsets_response>(req);
  if (!resp) return resp.error();
  // A partition the broker leaves out of its answer is reported as unknown.
  for (auto& tp : tps) out.push_back({tp, -1, k_unknown_topic, {}});
  for (auto& rt : resp->topics)
    for (auto& rp : rt.partitions) {
      auto it =
          std::lower_bound(out.begin(), out.end(), topic_partition{rt.name, rp.partition_index},
                           [](auto& o, auto& tp) { return o.tp < tp; });
      if (it == out.end() || it->tp != topic_partition{rt.name, rp.partition_index}) continue;
      it->error_code = rp.error_code;
      // v0 answers in old_style_offsets, v1+ in offset.
      it->offset =
          *v == 0 ? (rp.old_style_offsets.empty() ? -1 : rp.old_style_offsets[0]) : rp.offset;
      if (rp.error_code != 0) it->offset = -1;
    }
  return out;
}

admin_result<std::vector<int32_t>> admin_client::partitions_of(const std::string& topic) {
  kafka::metadata_request req;
  req.topics.emplace().emplace_back().name = topic;
  req.allow_auto_topic_creation = false;
  auto resp = call<kafka::metadata_response>(req);
  if (!resp) return resp.error();
  for (auto& t : resp->topics) {
    if (t.name != topic) continue;
    if (t.error_code != 0)
      return kafka_error(t.error_code, std::nullopt,
                         t.error_code == k_unknown_topic
                             ? fmt::format("topic '{}' does not exist", topic)
                             : fmt::format("cannot read the metadata of topic '{}'", topic));
    std::vector<int32_t> out;
    for (auto& p : t.partitions) out.push_back(p.partition_index);
    std::sort(out.begin(), out.end());
    return out;
  }
  return kafka_error(k_unknown_topic, std::nullopt,
                     fmt::format("topic '{}' does not exist", topic));
}

// Skipped when the broker lacks DescribeConfigs, so `describe` still shows partitions.
admin_result<ok_t> admin_client::fill_configs(topic_view& topic) {
  auto v = version_of(api_key::describe_configs);
  if (!v) return ok_t{};
  kafka::describe_configs_request req;
  auto& res = req.resources.emplace_back();
  res.resource_type = k_resource_topic;
  res.resource_name = topic.name;
  res.configuration_keys = std::nullopt;  // all
  auto resp = call<kafka::describe_configs_response>(req);
  if (!resp) return resp.error();
  for (auto& result : resp->results) {
    if (result.resource_name != topic.name) continue;
    if (result.error_code != 0)
      return kafka_error(result.error_code, result.error_message,
                         fmt::format("cannot describe the configs of topic '{}'", topic.name));
    for (auto& c : result.configs) {
      std::string source = *v == 0 ? (c.is_default ? "DEFAULT_CONFIG" : "DYNAMIC_TOPIC_CONFIG")
                                   : config_source_name(c.config_source);
      topic.configs.push_back({c.name, c.value, source, c.read_only, c.is_sensitive});
    }
  }
  std::sort(topic.configs.begin(), topic.configs.end(),
            [](auto& a, auto& b) { return a.name < b.name; });
  return ok_t{};
}

admin_result<topic_view> admin_client::create_topic(
    const std::string& name, int32_t partitions,
    const std::vector<std::pair<std::string, std::string>>& configs) {
  auto v = version_of(api_key::create_topics);
  // -1 ("broker default") for partitions and replication factor exists from v4 (KIP-464).
  bool defaults_ok = v && *v >= 4;
  kafka::create_topics_request req;
  req.timeout_ms = int32_t(_options.timeout.count());
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions > 0 ? partitions : (defaults_ok ? -1 : 1);
  t.replication_factor = defaults_ok ? -1 : 1;
  for (auto& [key, value] : configs) {
    auto& c = t.configs.emplace_back();
    c.name = key;
    c.value = value;
  }
  auto resp = call<kafka::create_topics_response>(req);
  if (!resp) return resp.error();
  if (resp->topics.empty()) return admin_error{0, "empty CreateTopics response from the broker"};
  auto& r = resp->topics.front();
  if (r.error_code != 0) {
    std::string fallback = fmt::format("cannot create topic '{}'", name);
    if (r.error_code == 36) fallback = fmt::format("topic '{}' already exists", name);
    return kafka_error(r.error_code, r.error_message, fallback);
  }
  topic_view topic{name, false, t.num_partitions, {}, {}};
  if (r.num_partitions > 0) topic.partition_count = r.num_partitions;  // v5+ tells
  if (topic.partition_count <= 0) {
    // The broker chose; ask it how many, for the confirmation line.
    if (auto d = describe_topic(name)) topic.partition_count = d->partition_count;
  }
  return topic;
}

admin_result<std::monostate> admin_client::delete_topic(const std::string& name) {
  kafka::delete_topics_request req;
  req.timeout_ms = int32_t(_options.timeout.count());
  req.topic_names.push_back(name);
  auto resp = call<kafka::delete_topics_response>(req);
  if (!resp) return resp.error();
  if (resp->responses.empty()) return admin_error{0, "empty DeleteTopics response from the broker"};
  auto& r = resp->responses.front();
  if (r.error_code != 0)
    return kafka_error(r.error_code, error_message_of(r),
                       r.error_code == k_unknown_topic
                           ? fmt::format("topic '{}' does not exist", name)
                           : fmt::format("cannot delete topic '{}'", name));
  return ok_t{};
}

}  // namespace tern::app
