#pragma once
// Per-topic configuration, under Kafka's names so that AdminClient and kcat work unchanged.
// A topic stores only its overrides; the effective value of a key is the override, else the
// broker-wide default. Every value is validated here, once, for CreateTopics, AlterConfigs and
// IncrementalAlterConfigs alike.
//
// Keys (Kafka semantics unless noted):
//   cleanup.policy          delete | compact | compact,delete   (a list, in any order)
//   min.cleanable.dirty.ratio  0..1           compact when this share of the log is dirty
//   delete.retention.ms     long >= 0         how long compaction keeps tombstones
//   min.compaction.lag.ms   long >= 0         records younger than this are not compacted
//   compression.type        producer          (the broker never re-compresses)
//   retention.ms            long >= -1        -1 = keep forever
//   retention.bytes         long >= -1        per partition
//   segment.bytes           int  >= 1024
//   segment.ms              long >= 1
//   segment.index.bytes / index.interval.bytes   int >= 1 (index density)
//   max.message.bytes       int  >= 0         largest record batch accepted
//   message.timestamp.type  CreateTime | LogAppendTime
//   flush.policy            always | interval | never     (Tern: when a produce is durable)
//   flush.ms                long >= 0         interval for flush.policy=interval
//   min.insync.replicas     1                 (single node)

#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "storage/log.h"

namespace tern::broker {

using config_map = std::map<std::string, std::string>;

struct described_config {
  std::string name;
  std::string value;
  bool is_default = true;
  bool read_only = false;
};

// Checks one key/value; returns invalid_config with a reason in `why`.
result<void> validate_topic_config(const std::string& key, const std::string& value,
                                   std::string* why);

// Effective log settings of a topic: defaults with `overrides` applied (already validated).
storage::log_config resolve_log_config(const config_map& overrides,
                                       const storage::log_config& defaults);

// Every supported key with its effective value, for DescribeConfigs.
std::vector<described_config> describe_topic_config(const config_map& overrides,
                                                    const storage::log_config& defaults);

bool is_known_topic_config(const std::string& key);

}  // namespace tern::broker
