#pragma once
// The Kafka wire codec: request/response headers, and the bodies of every described API
// (one header per API: produce.h, fetch.h, ...; apis.h includes them all). Bytes in, plain
// structs out and back; no sockets, no timers. Stateless; safe from any shard.
//
// Framing (the int32 size before each request and response) belongs to the connection: these
// functions work on one frame's bytes without the size.
//
// Server side, per frame:
//
//   bytes::byte_reader r(frame);
//   auto h = decode_request_header(r);            // always works for a well-formed header
//   if (!h) -> close the connection
//   auto req = decode_request<produce_request>(r, h->version);   // r: the rest of the frame
//   if (!req) -> req.error() is a codec_errc
//   bytes::chunked_buffer out;                    // reserve the frame size first
//   encode_response_header(h->correlation_id, h->key, h->version, out);
//   encode_response(resp, h->version, out);
//
// Zero copy: `records` fields of a decoded request view the frame's bytes, so the frame must
// outlive the request struct; the handler owns the frame and may patch batches in place.
//
// Client side (the `tern topic` CLI, tests): encode_request_header + encode_request, then
// decode_response_header + decode_response.

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "base/check.h"
#include "base/result.h"
#include "bytes/buffer.h"
#include "bytes/chunked_buffer.h"
#include "kafka/codec/errors.h"
#include "kafka/codec/schema.h"
#include "kafka/codec/wire.h"

namespace tern::kafka {

enum class api_key : int16_t {
  produce = 0,
  fetch = 1,
  list_offsets = 2,
  metadata = 3,
  offset_commit = 8,
  offset_fetch = 9,
  find_coordinator = 10,
  join_group = 11,
  heartbeat = 12,
  leave_group = 13,
  sync_group = 14,
  describe_groups = 15,
  list_groups = 16,
  sasl_handshake = 17,
  api_versions = 18,
  create_topics = 19,
  delete_topics = 20,
  delete_records = 21,
  init_producer_id = 22,
  describe_configs = 32,
  alter_configs = 33,
  sasl_authenticate = 36,
  create_partitions = 37,
  delete_groups = 42,
  incremental_alter_configs = 44,
  offset_delete = 47,
};

// first_flexible for APIs without flexible versions.
inline constexpr int16_t never_flexible = std::numeric_limits<int16_t>::max();

// One described API: what Tern advertises in ApiVersions and dispatches on.
struct api_info {
  api_key key;
  std::string_view name;  // Kafka's name for the API
  int16_t min_version;
  int16_t max_version;
  int16_t first_flexible;  // first version with compact encodings and tagged fields
};

// Every API Tern describes, in key order. The ranges are one coherent Kafka 2.x-era set on
// purpose: kafka-python guesses the broker release from them (notes/kafka-clients.md), and
// Produce must start at v0 for librdkafka to compress.
inline constexpr std::array<api_info, 26> all_apis = {{
    {api_key::produce, "Produce", 0, 8, 9},
    {api_key::fetch, "Fetch", 0, 11, 12},
    {api_key::list_offsets, "ListOffsets", 0, 5, 6},
    {api_key::metadata, "Metadata", 0, 9, 9},
    {api_key::offset_commit, "OffsetCommit", 0, 8, 8},
    {api_key::offset_fetch, "OffsetFetch", 0, 7, 6},
    {api_key::find_coordinator, "FindCoordinator", 0, 3, 3},
    {api_key::join_group, "JoinGroup", 0, 6, 6},
    {api_key::heartbeat, "Heartbeat", 0, 4, 4},
    {api_key::leave_group, "LeaveGroup", 0, 4, 4},
    {api_key::sync_group, "SyncGroup", 0, 4, 4},
    {api_key::describe_groups, "DescribeGroups", 0, 5, 5},
    {api_key::list_groups, "ListGroups", 0, 4, 3},
    {api_key::sasl_handshake, "SaslHandshake", 0, 1, never_flexible},
    {api_key::api_versions, "ApiVersions", 0, 3, 3},
    {api_key::create_topics, "CreateTopics", 0, 5, 5},
    {api_key::delete_topics, "DeleteTopics", 0, 4, 4},
    {api_key::delete_records, "DeleteRecords", 0, 1, 2},
    {api_key::init_producer_id, "InitProducerId", 0, 4, 2},
    {api_key::describe_configs, "DescribeConfigs", 0, 2, 4},
    {api_key::alter_configs, "AlterConfigs", 0, 1, 2},
    {api_key::sasl_authenticate, "SaslAuthenticate", 0, 2, 2},
    {api_key::create_partitions, "CreatePartitions", 0, 2, 2},
    {api_key::delete_groups, "DeleteGroups", 0, 2, 2},
    {api_key::incremental_alter_configs, "IncrementalAlterConfigs", 0, 1, 1},
    {api_key::offset_delete, "OffsetDelete", 0, 0, never_flexible},
}};

// The described API with this key, or nullptr.
constexpr const api_info* find_api(api_key key) {
  for (auto& a : all_apis)
    if (a.key == key) return &a;
  return nullptr;
}

constexpr bool is_supported(api_key key, int16_t version) {
  const api_info* a = find_api(key);
  return a && version >= a->min_version && version <= a->max_version;
}

// Whether this API version uses flexible encodings (and header v2 / response header v1).
// False for keys and versions Tern does not describe: their header is read in the v1 layout.
constexpr bool is_flexible(api_key key, int16_t version) {
  return is_supported(key, version) && version >= find_api(key)->first_flexible;
}

struct request_header {
  api_key key{};
  int16_t version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
};

// Reads a request header: v2 (with a tagged-field section) when the API version is flexible,
// else v1. Unknown keys and versions are read as v1 so the caller can still answer
// UNSUPPORTED_VERSION with the right correlation id.
result<request_header> decode_request_header(bytes::byte_reader& r);
void encode_request_header(const request_header& h, bytes::chunked_buffer& out);

// Response header: v1 (an empty tagged-field section) for flexible versions, except for
// ApiVersions, whose response header never has one (clients parse it before they know the
// broker's versions).
void encode_response_header(int32_t correlation_id, api_key key, int16_t version,
                            bytes::chunked_buffer& out);
// Returns the correlation id.
result<int32_t> decode_response_header(bytes::byte_reader& r, api_key key, int16_t version);

namespace detail {
template <class M>
result<M> decode_message(bytes::byte_reader& r, int16_t version) {
  if (!is_supported(M::api, version)) return codec_errc::unsupported_version;
  M msg{};
  wire::decoder d(r, version, is_flexible(M::api, version));
  d.read_struct(msg);
  if (auto ec = d.error()) return ec;
  if (!r.empty()) return codec_errc::trailing_bytes;
  return result<M>(std::move(msg));
}

template <class M>
void encode_message(const M& msg, int16_t version, bytes::chunked_buffer& out) {
  // Encoding a version outside the range is Tern's bug: handlers answer only what they
  // decoded, and the ApiVersions fallback uses v0.
  TERN_CHECK(is_supported(M::api, version));
  wire::encoder e(out, version, is_flexible(M::api, version));
  e.write_struct(msg);
}
}  // namespace detail

// Decodes a request body of this version from all the bytes left in `r` (trailing bytes are
// an error). Never crashes and allocates at most in proportion to the input on any input.
template <class Req>
result<Req> decode_request(bytes::byte_reader& r, int16_t version) {
  return detail::decode_message<Req>(r, version);
}

// Appends the response body in this version (a version the API supports) to `out`.
template <class Resp>
void encode_response(const Resp& resp, int16_t version, bytes::chunked_buffer& out) {
  detail::encode_message(resp, version, out);
}

template <class Req>
void encode_request(const Req& req, int16_t version, bytes::chunked_buffer& out) {
  detail::encode_message(req, version, out);
}

template <class Resp>
result<Resp> decode_response(bytes::byte_reader& r, int16_t version) {
  return detail::decode_message<Resp>(r, version);
}

}  // namespace tern::kafka
