#pragma once
// Durable topic metadata in the data directory:
//
//   <data>/topics/<name>/topic.json      {"name", "id", "partitions", "configs": {...}}
//   <data>/topics/<name>/<partition>/    one log directory per partition (storage::log)
//   <data>/deleted/<name>-<id>/          a topic being deleted (finished on the next start)
//
// topic.json is replaced atomically (write to a temporary file, fsync, rename, fsync the
// directory), so after a crash it is either the old or the new version. Used only by the
// controller shard.

#include <filesystem>
#include <vector>

#include "base/result.h"
#include "broker/topic_table.h"

namespace tern::broker {

class topic_store {
 public:
  explicit topic_store(std::filesystem::path data_dir);

  // Reads every topic.json; removes leftovers of interrupted deletions. A topic whose
  // metadata cannot be read is skipped with an error log line (its data is left in place).
  result<std::vector<topic_metadata>> load_all();

  result<void> save(const topic_metadata& t);

  // Moves the topic's directory out of topics/ (atomic), then deletes it.
  result<void> remove(const topic_metadata& t);

  std::filesystem::path partition_dir(const std::string& topic, int32_t partition) const;

 private:
  std::filesystem::path _topics;
  std::filesystem::path _deleted;
};

}  // namespace tern::broker
