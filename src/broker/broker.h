#pragma once
// The protocol-neutral broker core: topics and their partitions, spread over the shards.
//
// Threading: one broker object per process, shared by all shards. Methods may be called from
// any shard; they hop to the right shard themselves and resume the caller on its own shard:
//   - partition data (produce, read, offsets) runs on the partition's owner, shard_of(t, p);
//   - metadata changes (create/delete topics, configs) run on the controller, shard 0, which
//     persists them (topic_store) and then gives every shard a new immutable topic_snapshot.
// Each shard's partitions and snapshot are touched only by that shard's thread.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "broker/errc.h"
#include "broker/partition.h"
#include "broker/producer_id_allocator.h"
#include "broker/topic_config.h"
#include "broker/topic_store.h"
#include "broker/topic_table.h"
#include "net/shard.h"
#include "storage/file.h"
#include "storage/flusher.h"
#include "storage/log.h"

namespace tern::broker {

struct broker_config {
  std::filesystem::path data_dir = "./data";
  int32_t node_id = 0;
  bool auto_create_topics = true;
  int32_t default_partitions = 1;
  int32_t max_partitions_per_topic = 10000;
  storage::log_config log_defaults;
  unsigned flusher_threads = 2;
  int64_t retention_check_interval_ms = 300'000;
  // Compaction (cleanup.policy=compact): how often each shard looks for partitions whose
  // dirty ratio calls for a pass (Kafka's log.cleaner.backoff.ms), and the threads that run
  // the passes, apart from the flusher's so that long passes never delay produce syncs.
  int64_t compaction_check_interval_ms = 15'000;
  unsigned cleaner_threads = 1;
  // How often each partition's idempotent-producer state is snapshotted (when it changed)
  // and idle producers expired.
  int64_t producer_snapshot_interval_ms = 30'000;
};

struct produce_result {
  std::error_code error;
  int64_t base_offset = -1;
  int64_t log_append_time = -1;
  int64_t log_start_offset = -1;
};

struct read_result {
  std::error_code error;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
  int64_t log_end_offset = -1;
  storage::log::read_result data;
};

struct partition_offsets {
  std::error_code error;
  int64_t log_start_offset = -1;
  int64_t high_watermark = -1;
  int64_t log_end_offset = -1;
};

struct wait_key {
  std::string topic;
  int32_t partition;
  int64_t offset;  // wake when data at or after this offset is readable
};

class broker {
 public:
  broker(net::shard_set& shards, broker_config cfg, storage::file_system& fs);
  ~broker();

  // Loads topics and opens (recovers) every partition log on its shard, then starts the
  // housekeeping timers (retention, compaction, interval flushes). Run on shard 0.
  net::awaitable<result<void>> start();
  // Closes every log cleanly (flush, checkpoints). Run on shard 0.
  net::awaitable<void> stop();

  const broker_config& config() const { return _cfg; }
  int32_t node_id() const { return _cfg.node_id; }
  unsigned shard_of(const std::string& topic, int32_t partition) const;

  // ---- metadata ----
  // This shard's current view of the topics.
  std::shared_ptr<const topic_snapshot> topics() const;
  storage::log_config effective_log_config(const topic_metadata& t) const {
    return resolve_log_config(t.overrides, _cfg.log_defaults);
  }

  // `why` receives a human-readable reason for invalid_config and similar errors.
  net::awaitable<result<void>> create_topic(std::string name, int32_t partitions,
                                            config_map configs, bool validate_only,
                                            std::string* why);
  net::awaitable<result<void>> delete_topic(std::string name);
  net::awaitable<result<void>> create_partitions(std::string name, int32_t total,
                                                 bool validate_only, std::string* why);
  // Replaces the topic's overrides with `overrides` (AlterConfigs semantics).
  net::awaitable<result<void>> set_topic_configs(std::string name, config_map overrides,
                                                 bool validate_only, std::string* why);
  // Creates `name` with the default settings if auto-creation is on and it does not exist.
  net::awaitable<result<void>> auto_create_topic(std::string name);

  // ---- producers ----
  // A producer id unique across restarts, for InitProducerId (idempotent producers).
  net::awaitable<result<int64_t>> allocate_producer_id();

  // ---- partition data ----
  // Appends already-validated record batches (offsets are assigned in place, so the spans
  // must stay valid and writable until this completes). With wait_durable, completes once
  // they are durable under the topic's flush policy.
  net::awaitable<produce_result> produce(const std::string& topic, int32_t partition,
                                         std::vector<std::span<uint8_t>> batches,
                                         bool wait_durable);
  net::awaitable<read_result> read(const std::string& topic, int32_t partition, int64_t offset,
                                   size_t max_bytes, bool min_one_batch);
  net::awaitable<partition_offsets> offsets(const std::string& topic, int32_t partition);
  // The first record at or after `timestamp` below the high watermark: (offset, timestamp).
  net::awaitable<result<std::optional<std::pair<int64_t, int64_t>>>> offset_for_timestamp(
      const std::string& topic, int32_t partition, int64_t timestamp);
  // Raises the log start offset to `offset` (-1 = the high watermark); returns the new one.
  net::awaitable<result<int64_t>> delete_records(const std::string& topic, int32_t partition,
                                                 int64_t offset);

  // Returns when any of `keys` has readable data, or at `deadline`.
  net::awaitable<void> wait_for_data(const std::vector<wait_key>& keys,
                                     std::chrono::steady_clock::time_point deadline);

 private:
  struct tp_hash {
    size_t operator()(const std::pair<std::string, int32_t>& k) const noexcept {
      return std::hash<std::string>{}(k.first) * 31 + size_t(k.second);
    }
  };
  using partition_map =
      std::unordered_map<std::pair<std::string, int32_t>, std::shared_ptr<partition>, tp_hash>;

  struct shard_state {
    std::shared_ptr<const topic_snapshot> snapshot = std::make_shared<topic_snapshot>();
    partition_map partitions;
    std::unique_ptr<net::asio::steady_timer> housekeeping;
    unsigned compactions_in_flight = 0;  // at most one pass per shard at a time
    bool stopping = false;
  };

  // Runs on the partition's owner shard; nullptr when it does not exist there.
  std::shared_ptr<partition> local_partition(const std::string& topic, int32_t partition);
  storage::poster poster_for(unsigned shard);
  // Opens the logs of partitions [from, to) of `t` on their shards.
  net::awaitable<result<void>> open_partitions(const topic_metadata& t, int32_t from, int32_t to);
  net::awaitable<void> publish_snapshot();
  net::awaitable<void> housekeeping_loop(unsigned shard);
  // Starts a compaction pass of `p` on the cleaner pool if its log asks for one.
  void maybe_compact(unsigned shard, const std::shared_ptr<partition>& p);
  net::awaitable<result<void>> create_topic_locked(topic_metadata t);

  net::shard_set& _shards;
  broker_config _cfg;
  storage::file_system& _fs;
  std::unique_ptr<storage::flusher> _flusher;
  std::unique_ptr<storage::flusher> _cleaner;  // compaction passes
  topic_store _store;
  std::vector<shard_state> _state;  // [shard]
  // Controller state, shard 0 only.
  std::map<std::string, std::shared_ptr<const topic_metadata>> _topics;
  std::set<std::string> _busy_topics;  // names with a metadata change in flight
  std::optional<producer_id_allocator> _producer_ids;
};

}  // namespace tern::broker
