#pragma once
// Topic metadata, as every shard sees it. The controller (shard 0) is the only writer: it
// persists a change, then hands each shard a new immutable snapshot by message. Readers keep
// a shared_ptr to the snapshot they started with, so a request sees one consistent view.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "broker/topic_config.h"

namespace tern::broker {

using topic_uuid = std::array<uint8_t, 16>;

struct topic_metadata {
  std::string name;
  topic_uuid id{};
  int32_t partitions = 0;
  config_map overrides;  // only the keys set on this topic
};

struct topic_snapshot {
  std::map<std::string, std::shared_ptr<const topic_metadata>> topics;

  const topic_metadata* find(const std::string& name) const {
    auto it = topics.find(name);
    return it == topics.end() ? nullptr : it->second.get();
  }
};

// Kafka's rule: 1-249 characters from [a-zA-Z0-9._-], not "." or "..".
bool is_valid_topic_name(const std::string& name);

topic_uuid random_topic_uuid();

}  // namespace tern::broker
