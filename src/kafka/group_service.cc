#include "kafka/group_service.h"

#include <map>

#include "base/clock.h"
#include "base/logger.h"
#include "group/records.h"
#include "storage/record_batch.h"

namespace tern::kafka {
namespace {

spdlog::logger& log() { return module_logger("groups"); }

// Stable across releases: the partition of a group is part of the data on disk.
uint32_t fnv1a32(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

std::optional<std::string> group_of(const group::record& r) {
  auto k = group::decode_key(r.key);
  if (!k) return std::nullopt;
  return std::visit([](const auto& key) { return key.group_id; }, *k);
}

}  // namespace

group_service::group_service(broker::broker& b, net::shard_set& shards, group_service_config cfg)
    : _broker(b), _shards(shards), _cfg(std::move(cfg)) {}

group_service::~group_service() = default;

int32_t group_service::partition_of(const std::string& group_id) const {
  return int32_t(fnv1a32(group_id) % uint32_t(std::max(_partitions, 1)));
}

unsigned group_service::shard_of_group(const std::string& group_id) const {
  return _broker.shard_of(kOffsetsTopic, partition_of(group_id));
}

net::awaitable<result<void>> group_service::start() {
  // Compacted, never deleted by retention: the last record of each key is the state.
  broker::config_map wanted{{"cleanup.policy", "compact"},
                            {"segment.bytes", std::to_string(_cfg.offsets_segment_bytes)}};
  if (!_broker.topics()->find(kOffsetsTopic)) {
    std::string why;
    auto r =
        co_await _broker.create_topic(kOffsetsTopic, _cfg.offsets_partitions, wanted, false, &why);
    if (!r && r.error() != make_error_code(broker::errc::topic_already_exists)) {
      log().error("cannot create {}: {} {}", kOffsetsTopic, r.error().message(), why);
      co_return r.error();
    }
  }
  auto meta = _broker.topics()->find(kOffsetsTopic);
  if (!meta) co_return broker::errc::unknown_topic_or_partition;
  // A data directory from before compaction (retention off, never compacted), or a changed
  // segment size: bring the topic's config up to date. Other overrides are left alone.
  broker::config_map overrides = meta->overrides;
  for (const char* legacy : {"retention.ms", "retention.bytes"})
    if (auto it = overrides.find(legacy); it != overrides.end() && it->second == "-1")
      overrides.erase(it);
  for (auto& [k, v] : wanted) overrides[k] = v;
  if (overrides != meta->overrides) {
    std::string why;
    auto r = co_await _broker.set_topic_configs(kOffsetsTopic, overrides, false, &why);
    if (!r) {
      log().error("cannot update the config of {}: {} {}", kOffsetsTopic, r.error().message(), why);
      co_return r.error();
    }
    log().info("{}: config set to cleanup.policy=compact, segment.bytes={}", kOffsetsTopic,
               _cfg.offsets_segment_bytes);
    meta = _broker.topics()->find(kOffsetsTopic);
    if (!meta) co_return broker::errc::unknown_topic_or_partition;
  }
  _partitions = meta->partitions;

  _state.resize(_shards.count());
  size_t groups = 0;
  for (unsigned s = 0; s < _shards.count(); ++s) {
    auto r = co_await _shards.invoke_on(s, [this, s]() -> net::awaitable<result<size_t>> {
      _state[s] = std::make_unique<shard_state>(_shards.executor(s));
      _state[s]->coordinator = std::make_unique<group::coordinator>(
          _cfg.coordinator, [this, s](std::vector<group::record> records,
                                      std::function<void(bool)> done) {
            persist(s, std::move(records), std::move(done));
          });
      for (int32_t p = 0; p < _partitions; ++p) {
        if (_broker.shard_of(kOffsetsTopic, p) != s) continue;
        if (auto r = co_await replay_partition(s, p); !r) co_return r.error();
      }
      net::asio::co_spawn(_shards.executor(s), timer_loop(s), net::asio::detached);
      co_return _state[s]->coordinator->group_count();
    });
    if (!r) co_return r.error();
    groups += *r;
  }
  log().info("loaded {} consumer groups from {} ({} partitions)", groups, kOffsetsTopic,
             _partitions);
  co_return ok();
}

net::awaitable<result<void>> group_service::replay_partition(unsigned shard, int32_t partition) {
  auto& coord = *_state[shard]->coordinator;
  auto now = group::clock::now();
  auto offsets = co_await _broker.offsets(kOffsetsTopic, partition);
  if (offsets.error) co_return offsets.error;
  int64_t next = offsets.log_start_offset;
  size_t records = 0, bad = 0;
  while (next < offsets.high_watermark) {
    auto r = co_await _broker.read(kOffsetsTopic, partition, next, 4 << 20, true);
    if (r.error) co_return r.error;
    if (r.data.ranges.empty()) break;
    auto data = storage::copy_to_memory(r.data);
    if (!data) co_return data.error();
    auto batches = storage::split_batches(*data);
    if (!batches || batches->empty()) co_return storage::errc::invalid_record;
    for (auto b : *batches) {
      auto h = storage::parse_batch_header(b);
      if (!h) co_return h.error();
      next = h->base_offset + h->last_offset_delta + 1;
      auto each = storage::for_each_record(b, 64 << 20, [&](const storage::record_view& rv) {
        if (!rv.key) return true;
        group::record rec;
        rec.key.assign(rv.key->begin(), rv.key->end());
        if (rv.value) rec.value = bytes::buffer(rv.value->begin(), rv.value->end());
        if (auto applied = coord.replay(rec, now); !applied) ++bad;
        ++records;
        return true;
      });
      if (!each) co_return each.error();
    }
  }
  if (bad > 0)
    log().warn("{}-{}: skipped {} unreadable records of {}", kOffsetsTopic, partition, bad,
               records);
  co_return ok();
}

void group_service::persist(unsigned shard, std::vector<group::record> records,
                            std::function<void(bool)> done) {
  // One batch per offsets partition (a delete of several groups may span partitions).
  std::map<int32_t, std::vector<storage::record>> by_partition;
  const int64_t now_ms = system_now_ms();
  for (auto& r : records) {
    auto g = group_of(r);
    if (!g) {
      log().error("coordinator produced a record with an unreadable key; not persisted");
      done(false);
      return;
    }
    storage::record out;
    out.key = std::move(r.key);
    out.value = std::move(r.value);
    out.timestamp = now_ms;
    by_partition[partition_of(*g)].push_back(std::move(out));
  }
  // Started now, in call order: appends to one partition keep the order of the calls
  // (each broker::produce reaches the log through this shard's FIFO queue).
  net::asio::co_spawn(
      _shards.executor(shard),
      [this, batches = std::move(by_partition),
       done = std::move(done)]() mutable -> net::awaitable<void> {
        bool all_ok = true;
        for (auto& [partition, recs] : batches) {
          auto batch = storage::build_batch(recs);
          std::vector<std::span<uint8_t>> spans{std::span<uint8_t>(batch)};
          auto r = co_await _broker.produce(kOffsetsTopic, partition, std::move(spans), true);
          if (r.error) {
            log().error("{}-{}: cannot persist group records: {}", kOffsetsTopic, partition,
                        r.error.message());
            all_ok = false;
          }
        }
        done(all_ok);
      },
      net::asio::detached);
}

void group_service::rearm(unsigned shard) {
  auto& st = *_state[shard];
  if (st.stopping) return;
  auto next = st.coordinator->next_deadline();
  if (next && *next < st.timer.expiry()) st.timer.cancel();  // the loop re-arms earlier
}

net::awaitable<void> group_service::timer_loop(unsigned shard) {
  auto& st = *_state[shard];
  while (!st.stopping) {
    auto next = st.coordinator->next_deadline();
    st.timer.expires_at(next ? *next : group::clock::now() + std::chrono::seconds(1));
    co_await st.timer.async_wait(net::use_nothrow);
    if (st.stopping) break;
    st.coordinator->tick(group::clock::now());
  }
}

net::awaitable<void> group_service::stop() {
  for (unsigned s = 0; s < _state.size(); ++s) {
    if (!_state[s]) continue;
    co_await _shards.invoke_on(s, [this, s] {
      auto& st = *_state[s];
      st.stopping = true;
      st.timer.cancel();
      // Answers every parked JoinGroup/SyncGroup (NOT_COORDINATOR) so clients move on.
      st.coordinator->unload();
    });
  }
}

}  // namespace tern::kafka
