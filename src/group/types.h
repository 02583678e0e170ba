#pragma once
// Plain request and result types of the group coordinator, mirroring the Kafka group APIs
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit/Fetch/Delete, List/Describe/
// DeleteGroups) without their wire details: the Kafka handlers copy fields across and map
// `errc` with wire_code(). Version differences are folded in as documented on each field.

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "bytes/buffer.h"
#include "group/errors.h"

namespace tern::group {

// Monotonic time, always passed in by the caller (tests inject their own).
using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using std::chrono::milliseconds;

enum class group_state { empty, preparing_rebalance, completing_rebalance, stable, dead };

// Kafka's spelling: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
std::string_view state_name(group_state s);
// The inverse, case-insensitive (ListGroups v4 state filters).
std::optional<group_state> parse_state(std::string_view name);

struct coordinator_config {
  milliseconds min_session_timeout{6000};        // group.min.session.timeout.ms
  milliseconds max_session_timeout{1800000};     // group.max.session.timeout.ms
  milliseconds initial_rebalance_delay{3000};    // group.initial.rebalance.delay.ms
  milliseconds new_member_join_timeout{300000};  // Kafka's fixed NewMemberJoinTimeoutMs
  int32_t max_group_size = std::numeric_limits<int32_t>::max();  // group.max.size
  size_t max_offset_metadata_bytes = 4096;                       // offset.metadata.max.bytes
  // Suffix generator for new member ids ("<client id>-<uuid>"); default: random UUID v4.
  // Tests inject a deterministic one.
  std::function<std::string()> uuid;
};

struct protocol {
  std::string name;
  bytes::buffer metadata;
  bool operator==(const protocol&) const = default;
};

struct join_request {
  // The JoinGroup version: from v4 a member without group_instance_id must join twice, first
  // with an empty member id (answered MEMBER_ID_REQUIRED with its new id), KIP-394.
  int16_t api_version = 0;
  std::string group_id;
  std::string member_id;                         // "" for a new member
  std::optional<std::string> group_instance_id;  // v5+, static membership (KIP-345)
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;  // < 0 (v0 has none): the session timeout is used
  std::string protocol_type;
  std::vector<protocol> protocols;  // in the member's order of preference
};

struct join_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  bytes::buffer metadata;  // for the selected protocol
  bool operator==(const join_member&) const = default;
};

struct join_result {
  errc error = errc::none;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;  // v7+ on the wire; older versions ignore it
  std::optional<std::string> protocol_name;  // null on errors; "" on the wire before v7
  std::string leader;
  std::string member_id;
  std::vector<join_member> members;  // non-empty for the leader only
};
using join_callback = std::function<void(join_result)>;

struct sync_assignment {
  std::string member_id;
  bytes::buffer assignment;
};

struct sync_request {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+
  std::optional<std::string> protocol_type;      // v5+, checked when present
  std::optional<std::string> protocol_name;      // v5+, checked when present
  std::vector<sync_assignment> assignments;      // from the leader only
};

struct sync_result {
  errc error = errc::none;
  std::optional<std::string> protocol_type;  // v5+
  std::optional<std::string> protocol_name;  // v5+
  bytes::buffer assignment;
};
using sync_callback = std::function<void(sync_result)>;

struct heartbeat_request {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+
};

struct member_identity {
  std::string member_id;  // may be "" when group_instance_id names the member (v3+)
  std::optional<std::string> group_instance_id;
};

struct leave_request {
  std::string group_id;
  std::vector<member_identity> members;  // v0-2: exactly one, with member_id only
};

struct member_leave_result {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  errc error = errc::none;
};

struct leave_result {
  errc error = errc::none;                   // group-level
  std::vector<member_leave_result> members;  // one per requested identity (v3+)
  // The single error of a v0-2 response: the group-level error, else the first member error.
  errc v0_error() const;
};

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const topic_partition&) const = default;
};

struct offset_commit_entry {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;  // null is stored as ""
  int64_t commit_timestamp_ms = -1;     // wall clock; the handler fills in "now" when absent
};

struct offset_commit_request {
  std::string group_id;
  int32_t generation_id = -1;  // -1 with member_id "": a "simple" commit outside any group
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<offset_commit_entry> offsets;
};

struct partition_error {
  topic_partition tp;
  errc error = errc::none;
  bool operator==(const partition_error&) const = default;
};
using offset_commit_callback = std::function<void(std::vector<partition_error>)>;

struct fetched_offset {
  topic_partition tp;
  int64_t offset = -1;  // -1: nothing committed
  int32_t leader_epoch = -1;
  std::string metadata;
  errc error = errc::none;
};

struct offset_fetch_result {
  errc error = errc::none;
  std::vector<fetched_offset> offsets;  // sorted by topic, partition when all were asked for
};

struct offset_delete_result {
  errc error = errc::none;  // group-level; partitions empty when set
  std::vector<partition_error> partitions;
};
using offset_delete_callback = std::function<void(offset_delete_result)>;

struct group_overview {
  std::string group_id;
  std::string protocol_type;
  std::string state;
};

struct member_description {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  bytes::buffer metadata;    // empty unless the group is Stable
  bytes::buffer assignment;  // empty unless the group is Stable
};

struct group_description {
  errc error = errc::none;
  std::string group_id;
  std::string state;  // "Dead" for a group that does not exist, as Kafka answers
  std::string protocol_type;
  std::string protocol_name;  // "" unless Stable
  std::vector<member_description> members;
};

struct group_deletion {
  std::string group_id;
  errc error = errc::none;
  bool operator==(const group_deletion&) const = default;
};
using delete_groups_callback = std::function<void(std::vector<group_deletion>)>;

}  // namespace tern::group
