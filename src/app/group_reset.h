#pragma once
// The broker-independent part of `tern group reset-offsets` (as kafka-consumer-groups.sh
// --reset-offsets): parsing --topic T[:P,...] and --to-datetime, and computing each
// partition's new offset from the earliest/latest/committed offsets the broker reported.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "app/admin_client.h"

namespace tern::app {

// --topic TOPIC or TOPIC:P1,P2,...
struct topic_spec {
  std::string topic;
  std::vector<int32_t> partitions;  // sorted, distinct; empty: every partition of the topic
};
admin_result<topic_spec> parse_topic_spec(std::string_view text);

// An ISO 8601 date and time, as milliseconds since the Unix epoch:
//   YYYY-MM-DDTHH:MM[:SS[.fraction]][Z | ±HH | ±HH:MM | ±HHMM]
// Without a zone the time is UTC (as kafka-consumer-groups.sh reads it). Fractions beyond
// milliseconds are dropped.
admin_result<int64_t> parse_datetime(std::string_view text);

enum class reset_kind { earliest, latest, offset, shift_by, datetime };

struct reset_scenario {
  reset_kind kind = reset_kind::earliest;
  int64_t value = 0;  // offset: the offset; shift_by: the shift; datetime: ms since the epoch
};

// What the broker said about one partition to reset.
struct reset_input {
  topic_partition tp;
  int64_t earliest = -1;      // log start offset
  int64_t latest = -1;        // high watermark
  int64_t committed = -1;     // the group's committed offset; -1: none
  int64_t at_timestamp = -1;  // datetime only: ListOffsets for the time; -1: no such record
};

struct reset_plan {
  std::vector<partition_offset> offsets;  // one per input, in input order
  std::vector<std::string> warnings;      // clamped offsets, fallbacks; one line each
};

// New offsets, kept within [earliest, latest] as Kafka does (--to-offset and --shift-by
// outside it are clamped, with a warning; --to-datetime after the last record falls back to
// latest). Fails for --shift-by on a partition without a committed offset.
admin_result<reset_plan> plan_reset(const reset_scenario& scenario,
                                    const std::vector<reset_input>& partitions);

}  // namespace tern::app
