#pragma once
// The "consumer" embedded protocol: the bytes Kafka consumers put in JoinGroup protocol
// metadata (a Subscription) and in SyncGroup assignments (an Assignment). The coordinator
// treats both as opaque, except to learn which topics a consumer group subscribes to
// (OffsetDelete answers GROUP_SUBSCRIBED_TO_TOPIC for those) and which partitions each member
// owns (consumer lag in `tern group describe`).
//
// Layout (big-endian, Kafka's non-flexible encoding; reference schemas
// ConsumerProtocolSubscription.json / ConsumerProtocolAssignment.json):
//
//   Subscription := version:i16 topics:[string] user_data:nullable_bytes
//                   owned_partitions:[topic:string partitions:[i32]]   (v1+)
//                   generation_id:i32                                  (v2+)
//                   rack_id:nullable_string                            (v3+)
//   Assignment   := version:i16 partitions:[topic:string partitions:[i32]]
//                   user_data:nullable_bytes                           (all versions alike)
//   string := len:i16 bytes     nullable_string: len -1 = null
//   bytes  := len:i32 bytes     nullable_bytes:  len -1 = null
//   [T]    := count:i32 T...    (never null here)
//
// As in Kafka, a version newer than this code knows is read as the newest known one (later
// versions only append fields) and trailing bytes are ignored; a negative version is an error.
// Decoding is bounded: every length and count is checked against the bytes left before
// anything is allocated, so any input gives a value or an error, never a crash.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "bytes/buffer.h"

namespace tern::group::consumer_protocol {

inline constexpr std::string_view protocol_type = "consumer";
inline constexpr int16_t max_subscription_version = 3;
inline constexpr int16_t max_assignment_version = 3;

struct topic_partitions {
  std::string topic;
  std::vector<int32_t> partitions;
  bool operator==(const topic_partitions&) const = default;
};

struct subscription {
  int16_t version = 0;  // as sent (may exceed max_subscription_version)
  std::vector<std::string> topics;
  std::optional<bytes::buffer> user_data;
  std::vector<topic_partitions> owned_partitions;  // v1+
  int32_t generation_id = -1;                      // v2+
  std::optional<std::string> rack_id;              // v3+
  bool operator==(const subscription&) const = default;
};

struct assignment {
  int16_t version = 0;
  std::vector<topic_partitions> partitions;
  std::optional<bytes::buffer> user_data;
  bool operator==(const assignment&) const = default;
};

// Decodes a Subscription, reading at most the fields of `max_version` (the group coordinator
// reads only the v0 prefix, as Kafka does, so that it does not depend on newer layouts).
result<subscription> decode_subscription(bytes::byte_view in,
                                         int16_t max_version = max_subscription_version);
result<assignment> decode_assignment(bytes::byte_view in);

// Encoders, for tests and tools; they write the fields of min(version, max known version).
bytes::buffer encode_subscription(const subscription& s);
bytes::buffer encode_assignment(const assignment& a);

}  // namespace tern::group::consumer_protocol
