// Broker lifecycle and metadata changes (controller side). Data-path methods are in
// broker_data.cc.
#include "broker/broker.h"

#include <algorithm>
#include <unordered_map>

#include "base/logger.h"

namespace tern::broker {
namespace {
spdlog::logger& log() { return module_logger("broker"); }

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}
}  // namespace

broker::broker(net::shard_set& shards, broker_config cfg, storage::file_system& fs)
    : _shards(shards),
      _cfg(std::move(cfg)),
      _fs(fs),
      _flusher(std::make_unique<storage::flusher>(_cfg.flusher_threads)),
      _cleaner(std::make_unique<storage::flusher>(std::max(1u, _cfg.cleaner_threads))),
      _store(_cfg.data_dir),
      _state(shards.count()) {}

broker::~broker() = default;

unsigned broker::shard_of(const std::string& topic, int32_t partition) const {
  return unsigned((fnv1a(topic) + uint64_t(partition)) % _shards.count());
}

std::shared_ptr<const topic_snapshot> broker::topics() const {
  return _state[net::shard_set::current()].snapshot;
}

storage::poster broker::poster_for(unsigned shard) {
  auto* ctx = &_shards.context(shard);
  return [ctx](std::function<void()> fn) { net::asio::post(*ctx, std::move(fn)); };
}

std::shared_ptr<partition> broker::local_partition(const std::string& topic, int32_t p) {
  auto& parts = _state[net::shard_set::current()].partitions;
  auto it = parts.find({topic, p});
  return it == parts.end() ? nullptr : it->second;
}

net::awaitable<result<void>> broker::open_partitions(const topic_metadata& t, int32_t from,
                                                     int32_t to) {
  auto cfg = effective_log_config(t);
  for (int32_t p = from; p < to; ++p) {
    unsigned owner = shard_of(t.name, p);
    auto dir = _store.partition_dir(t.name, p);
    auto opened = co_await _shards.invoke_on(owner, [&, p, owner]() -> std::error_code {
      auto l = storage::log::open(_fs, *_flusher, poster_for(owner), dir, cfg);
      if (!l) return l.error();
      auto part = std::make_shared<partition>(t.name, p, std::move(*l));
      if (auto r = part->recover_producers(_fs, system_now_ms()); !r) return r.error();
      _state[owner].partitions[{t.name, p}] = std::move(part);
      return {};
    });
    if (opened) {
      log().error("cannot open partition {}-{} in {}: {}", t.name, p, dir.string(),
                  opened.message());
      co_return opened;
    }
  }
  co_return ok();
}

net::awaitable<void> broker::publish_snapshot() {
  auto snap = std::make_shared<topic_snapshot>();
  snap->topics = _topics;
  std::shared_ptr<const topic_snapshot> frozen = snap;
  for (unsigned s = 0; s < _shards.count(); ++s)
    co_await _shards.invoke_on(s, [this, s, frozen] { _state[s].snapshot = frozen; });
}

net::awaitable<result<void>> broker::start() {
  auto loaded = _store.load_all();
  if (!loaded) co_return loaded.error();
  auto ids = producer_id_allocator::open(_fs, _cfg.data_dir / "producer_ids");
  if (!ids) {
    log().error("cannot open {}: {}", (_cfg.data_dir / "producer_ids").string(),
                ids.error().message());
    co_return ids.error();
  }
  _producer_ids.emplace(std::move(*ids));
  size_t partitions = 0;
  for (auto& t : *loaded) {
    auto meta = std::make_shared<const topic_metadata>(t);
    if (auto r = co_await open_partitions(*meta, 0, meta->partitions); !r) co_return r.error();
    _topics[t.name] = meta;
    partitions += size_t(t.partitions);
  }
  co_await publish_snapshot();
  for (unsigned s = 0; s < _shards.count(); ++s) {
    co_await _shards.invoke_on(s, [this, s] {
      _state[s].housekeeping = std::make_unique<net::asio::steady_timer>(_shards.context(s));
      net::asio::co_spawn(_shards.context(s), housekeeping_loop(s), net::asio::detached);
    });
  }
  log().info("loaded {} topics with {} partitions from {}", _topics.size(), partitions,
             _cfg.data_dir.string());
  co_return ok();
}

net::awaitable<void> broker::stop() {
  for (unsigned s = 0; s < _shards.count(); ++s) {
    co_await _shards.invoke_on(s, [this, s] {
      auto& st = _state[s];
      st.stopping = true;
      // Destroyed here, on its shard, while its io_context is alive: the loop wakes with
      // operation_aborted, sees `stopping` and never touches it again.
      st.housekeeping.reset();
      for (auto& [key, p] : st.partitions) {
        p->maybe_snapshot_producers(_fs, *_flusher, poster_for(s), /*sync_now=*/true);
        if (auto r = p->log().close(); !r)
          log().error("closing {}-{}: {}", key.first, key.second, r.error().message());
      }
      st.partitions.clear();
    });
  }
  _cleaner->wait_idle();  // passes were canceled by close(); their completions are posted
  _flusher->wait_idle();
}

net::awaitable<void> broker::housekeeping_loop(unsigned shard) {
  // Interval flushes are checked often; retention at its own, slower, interval.
  const auto tick = std::chrono::milliseconds(50);
  auto next_retention = std::chrono::steady_clock::now();
  auto next_producer_snapshot = next_retention;
  auto next_compaction =
      next_retention + std::chrono::milliseconds(_cfg.compaction_check_interval_ms);
  auto& st = _state[shard];
  while (!st.stopping) {
    st.housekeeping->expires_after(tick);
    co_await st.housekeeping->async_wait(net::use_nothrow);
    if (st.stopping) break;
    int64_t now = system_now_ms();
    for (auto& [key, p] : st.partitions) {
      p->log().maybe_flush_interval(now);
    }
    auto steady = std::chrono::steady_clock::now();
    if (steady >= next_retention) {
      next_retention = steady + std::chrono::milliseconds(_cfg.retention_check_interval_ms);
      for (auto& [key, p] : st.partitions) {
        p->log().apply_retention();
        p->producers().remove_before(offset{p->log().log_start_offset()});
      }
    }
    if (steady >= next_compaction) {
      next_compaction = steady + std::chrono::milliseconds(_cfg.compaction_check_interval_ms);
      for (auto& [key, p] : st.partitions) {
        if (st.compactions_in_flight > 0) break;
        maybe_compact(shard, p);
      }
    }
    if (steady >= next_producer_snapshot) {
      // Snapshots bound the log scan at the next open; expiry bounds the table's memory.
      next_producer_snapshot = steady + std::chrono::milliseconds(_cfg.producer_snapshot_interval_ms);
      for (auto& [key, p] : st.partitions) {
        if (p->producers().expire(now) > 0) p->mark_producers_changed();
        p->maybe_snapshot_producers(_fs, *_flusher, poster_for(shard), /*sync_now=*/false);
      }
    }
  }
}

void broker::maybe_compact(unsigned shard, const std::shared_ptr<partition>& p) {
  auto& l = p->log();
  if (!l.needs_compaction()) return;
  // The producers the partition still tracks keep their last batch (compaction.h).
  std::unordered_map<int64_t, int64_t> last;
  for (auto& [id, entry] : p->producers().entries()) last[id()] = entry.last().last_offset();
  storage::log::compaction_request req;
  req.producer_last_offsets = std::move(last);
  const double ratio = l.dirty_ratio();
  auto done = [this, shard, topic = p->topic(), id = p->id()](result<storage::compaction_stats> r) {
    --_state[shard].compactions_in_flight;
    if (!r && r.error() != storage::errc::log_closed &&
        r.error() != storage::errc::compaction_canceled)
      log().warn("compaction of {}-{} failed: {}", topic, id, r.error().message());
  };
  if (l.compact(*_cleaner, std::move(req), std::move(done))) {
    ++_state[shard].compactions_in_flight;
    log().debug("compacting {}-{} (dirty ratio {:.2f})", p->topic(), p->id(), ratio);
  }
}

// ---- controller operations (hop to shard 0) ----

net::awaitable<result<int64_t>> broker::allocate_producer_id() {
  co_return co_await _shards.invoke_on(0, [this]() -> result<int64_t> {
    if (!_producer_ids) return errc::shutting_down;
    auto id = _producer_ids->allocate();
    if (!id) {
      log().error("cannot allocate a producer id: {}", id.error().message());
      return errc::storage_error;
    }
    return (*id)();
  });
}

net::awaitable<result<void>> broker::create_topic(std::string name, int32_t partitions,
                                                  config_map configs, bool validate_only,
                                                  std::string* why) {
  if (!is_valid_topic_name(name)) {
    if (why) *why = "topic names are 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'";
    co_return errc::invalid_topic_name;
  }
  if (partitions == -1) partitions = _cfg.default_partitions;
  if (partitions <= 0 || partitions > _cfg.max_partitions_per_topic) {
    if (why) *why = "number of partitions must be between 1 and " +
                    std::to_string(_cfg.max_partitions_per_topic);
    co_return errc::invalid_partitions;
  }
  for (auto& [k, v] : configs) TERN_CO_TRY(validate_topic_config(k, v, why));
  co_return co_await _shards.invoke_on(0, [&]() -> net::awaitable<result<void>> {
    if (_topics.contains(name) || _busy_topics.contains(name)) {
      if (why) *why = "topic '" + name + "' already exists";
      co_return errc::topic_already_exists;
    }
    if (validate_only) co_return ok();
    topic_metadata t;
    t.name = name;
    t.id = random_topic_uuid();
    t.partitions = partitions;
    t.overrides = configs;
    _busy_topics.insert(name);
    auto r = co_await create_topic_locked(std::move(t));
    _busy_topics.erase(name);
    co_return r;
  });
}

net::awaitable<result<void>> broker::create_topic_locked(topic_metadata t) {
  if (auto r = _store.save(t); !r) co_return errc::storage_error;
  auto meta = std::make_shared<const topic_metadata>(std::move(t));
  if (auto r = co_await open_partitions(*meta, 0, meta->partitions); !r)
    co_return errc::storage_error;
  _topics[meta->name] = meta;
  co_await publish_snapshot();
  log().info("created topic {} with {} partitions", meta->name, meta->partitions);
  co_return ok();
}

net::awaitable<result<void>> broker::auto_create_topic(std::string name) {
  if (!_cfg.auto_create_topics) co_return errc::unknown_topic_or_partition;
  std::string why;
  auto r = co_await create_topic(std::move(name), _cfg.default_partitions, {}, false, &why);
  if (!r && r.error() == make_error_code(errc::topic_already_exists)) co_return ok();
  co_return r;
}

net::awaitable<result<void>> broker::delete_topic(std::string name) {
  co_return co_await _shards.invoke_on(0, [&]() -> net::awaitable<result<void>> {
    auto it = _topics.find(name);
    if (it == _topics.end() || _busy_topics.contains(name))
      co_return errc::unknown_topic_or_partition;
    auto meta = it->second;
    _busy_topics.insert(name);
    _topics.erase(it);
    co_await publish_snapshot();  // no new requests find it from here on
    for (int32_t p = 0; p < meta->partitions; ++p) {
      co_await _shards.invoke_on(shard_of(name, p), [&, p] {
        auto& parts = _state[net::shard_set::current()].partitions;
        auto found = parts.find({name, p});
        if (found == parts.end()) return;
        if (auto r = found->second->log().close(); !r)
          log().warn("closing {}-{} for deletion: {}", name, p, r.error().message());
        parts.erase(found);
      });
    }
    auto removed = _store.remove(*meta);
    _busy_topics.erase(name);
    if (!removed) {
      log().error("deleting topic {}: {}", name, removed.error().message());
      co_return errc::storage_error;
    }
    log().info("deleted topic {}", name);
    co_return ok();
  });
}

net::awaitable<result<void>> broker::create_partitions(std::string name, int32_t total,
                                                       bool validate_only, std::string* why) {
  co_return co_await _shards.invoke_on(0, [&]() -> net::awaitable<result<void>> {
    auto it = _topics.find(name);
    if (it == _topics.end() || _busy_topics.contains(name))
      co_return errc::unknown_topic_or_partition;
    auto old = it->second;
    if (total <= old->partitions) {
      if (why)
        *why = "topic has " + std::to_string(old->partitions) +
               " partitions; the new count must be larger";
      co_return errc::invalid_partitions;
    }
    if (total > _cfg.max_partitions_per_topic) {
      if (why) *why = "at most " + std::to_string(_cfg.max_partitions_per_topic) + " partitions";
      co_return errc::invalid_partitions;
    }
    if (validate_only) co_return ok();
    _busy_topics.insert(name);
    auto updated = std::make_shared<topic_metadata>(*old);
    updated->partitions = total;
    result<void> r = ok();
    if (auto s = _store.save(*updated); !s) {
      r = errc::storage_error;
    } else if (auto o = co_await open_partitions(*updated, old->partitions, total); !o) {
      r = errc::storage_error;
    } else {
      _topics[name] = updated;
      co_await publish_snapshot();
    }
    _busy_topics.erase(name);
    co_return r;
  });
}

net::awaitable<result<void>> broker::set_topic_configs(std::string name, config_map overrides,
                                                       bool validate_only, std::string* why) {
  for (auto& [k, v] : overrides) TERN_CO_TRY(validate_topic_config(k, v, why));
  co_return co_await _shards.invoke_on(0, [&]() -> net::awaitable<result<void>> {
    auto it = _topics.find(name);
    if (it == _topics.end() || _busy_topics.contains(name))
      co_return errc::unknown_topic_or_partition;
    if (validate_only) co_return ok();
    auto updated = std::make_shared<topic_metadata>(*it->second);
    updated->overrides = overrides;
    if (auto s = _store.save(*updated); !s) co_return errc::storage_error;
    _topics[name] = updated;
    auto cfg = effective_log_config(*updated);
    for (int32_t p = 0; p < updated->partitions; ++p) {
      co_await _shards.invoke_on(shard_of(name, p), [&, p] {
        if (auto part = local_partition(name, p)) part->log().update_config(cfg);
      });
    }
    co_await publish_snapshot();
    co_return ok();
  });
}

}  // namespace tern::broker
