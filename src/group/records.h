#pragma once
// Records the coordinator hands to its persistence hook, for an internal compacted log in the
// manner of Kafka's __consumer_offsets: one key per committed offset (group, topic, partition)
// and one per group; the last record of a key wins, and a record without a value (a tombstone)
// deletes the key. The coordinator never writes files; whoever owns the log appends these
// records and, at startup, feeds them back through coordinator::replay().
//
// Encoding (big-endian; full description in docs/formats/group-records.md):
//
//   key   := type:u16 ...        1 = offset commit, 2 = group metadata. The bytes of a key are
//                                 fixed forever for its type: compaction compares them.
//     offset key := type=1 group:str topic:str partition:i32
//     group key  := type=2 group:str
//   value := version:u16 ...     only version 0 exists
//     offset value v0 := offset:i64 leader_epoch:i32 metadata:str commit_timestamp_ms:i64
//     group value v0  := protocol_type:str generation:i32 protocol:opt_str leader:opt_str
//                        member_count:u32 member*
//       member := member_id:str group_instance_id:opt_str client_id:str client_host:str
//                 rebalance_timeout_ms:i32 session_timeout_ms:i32 subscription:bytes
//                 assignment:bytes
//   str := len:u32 bytes   opt_str := len:u32 bytes, len 0xFFFFFFFF = absent
//   bytes := len:u32 bytes
//
// Decoders are bounded (lengths and counts checked against the bytes left, trailing bytes
// rejected) and return decode_errc on bad input; they never throw or assert.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"
#include "bytes/buffer.h"

namespace tern::group {

// One record for the internal log: a key and a value, or no value for a tombstone.
struct record {
  bytes::buffer key;
  std::optional<bytes::buffer> value;
  bool operator==(const record&) const = default;
};

enum class record_key_type : uint16_t { offset_commit = 1, group_metadata = 2 };

struct offset_key {
  std::string group_id;
  std::string topic;
  int32_t partition = 0;
  bool operator==(const offset_key&) const = default;
};

struct offset_value {
  int64_t offset = 0;
  int32_t leader_epoch = -1;  // -1: none
  std::string metadata;
  int64_t commit_timestamp_ms = -1;  // wall clock, as the committer or broker said
  bool operator==(const offset_value&) const = default;
};

struct group_key {
  std::string group_id;
  bool operator==(const group_key&) const = default;
};

struct member_value {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  bytes::buffer subscription;  // metadata for the group's selected protocol
  bytes::buffer assignment;
  bool operator==(const member_value&) const = default;
};

struct group_value {
  std::string protocol_type;  // "" when the group has none
  int32_t generation = 0;
  std::optional<std::string> protocol_name;
  std::optional<std::string> leader;
  std::vector<member_value> members;
  bool operator==(const group_value&) const = default;
};

using record_key = std::variant<offset_key, group_key>;

bytes::buffer encode_key(const offset_key& k);
bytes::buffer encode_key(const group_key& k);
bytes::buffer encode_value(const offset_value& v);
bytes::buffer encode_value(const group_value& v);

result<record_key> decode_key(bytes::byte_view in);
result<offset_value> decode_offset_value(bytes::byte_view in);
result<group_value> decode_group_value(bytes::byte_view in);

// Whole records.
record make_record(const offset_key& k, const offset_value& v);
record make_record(const group_key& k, const group_value& v);
record make_tombstone(const offset_key& k);
record make_tombstone(const group_key& k);

}  // namespace tern::group
