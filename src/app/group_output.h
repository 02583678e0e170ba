#pragma once
// What the `tern group` commands show and how they print it: aligned columns for people, or
// JSON (--json) for scripts. Pure functions of the admin client's views, tested without a
// broker.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/admin_client.h"

namespace tern::app {

// One line of `tern group describe`: a partition the group has a committed offset for or
// that a member owns, or a member that owns no partition (has_partition false).
struct group_partition_row {
  bool has_partition = true;
  topic_partition tp;
  int64_t current_offset = -1;  // committed; -1: none
  int64_t log_end_offset = -1;  // high watermark; -1: unknown
  std::string consumer_id;      // "" when no member owns the partition
  std::string host;
  std::string client_id;

  // log_end_offset - current_offset when both are known.
  std::optional<int64_t> lag() const;
};

struct group_description {
  group_view group;
  std::vector<group_partition_row> rows;
};

// Joins the group's members (their assignments), its committed offsets and the partitions'
// log end offsets into rows: partitions sorted by topic and partition, then members without
// partitions sorted by member id.
std::vector<group_partition_row> group_rows(const group_view& group,
                                            const std::vector<partition_offset>& committed,
                                            const std::vector<partition_offset>& log_end);

std::string format_group_list(const std::vector<group_listing>& groups, bool json);
std::string format_group_description(const group_description& d, bool json);
// The groups deleted (text: one line per deleted group; JSON: every group with its outcome).
std::string format_group_deletions(const std::vector<group_deletion_view>& results, bool json);
// The plan of reset-offsets, executed or not.
std::string format_reset_plan(const std::string& group_id,
                              const std::vector<partition_offset>& offsets, bool executed,
                              bool json);

}  // namespace tern::app
