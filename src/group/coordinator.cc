#include "group/coordinator.h"

#include <algorithm>

#include "base/check.h"
#include "base/logger.h"
#include "group/consumer_protocol.h"

namespace tern::group {
namespace {

spdlog::logger& log() { return module_logger("group"); }

std::string random_uuid(std::mt19937_64& rng) {
  // UUID v4 text, like java.util.UUID.randomUUID().
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ull) | 0x4000ull;
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", unsigned(hi >> 32),
                unsigned((hi >> 16) & 0xFFFF), unsigned(hi & 0xFFFF), unsigned(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

}  // namespace

// Every public entry point holds a scope: it records the latest `now`; at its end, the groups
// it touched are re-indexed (or erased when vacant) and queued callbacks and persist calls run,
// unless an outer scope is already running them (a callback that calls the coordinator).
class coordinator::scope {
 public:
  scope(coordinator& c, time_point now) : _c(c) { _c._now = std::max(_c._now, now); }
  explicit scope(coordinator& c) : _c(c) {}
  ~scope() { _c.settle(); }
  scope(const scope&) = delete;
  scope& operator=(const scope&) = delete;

 private:
  coordinator& _c;
};

coordinator::coordinator(coordinator_config config, persist_fn persist)
    : _config(std::move(config)), _persist(std::move(persist)), _rng(std::random_device{}()) {}

coordinator::~coordinator() { unload(); }

// --- plumbing --------------------------------------------------------------------------------

std::string coordinator::new_member_id(const classic_group& g, std::string_view prefix) {
  std::string id;
  for (int attempt = 0; attempt < 16; ++attempt) {
    id = std::string(prefix) + "-" + (_config.uuid ? _config.uuid() : random_uuid(_rng));
    if (!g.find_member(id) && !g.is_pending_member(id)) return id;
  }
  return id + "-" + std::to_string(++_next_op);  // a generator that repeats itself
}

void coordinator::defer(std::function<void()> fn) { _outbox.push_back(std::move(fn)); }

void coordinator::persist(classic_group& g, std::vector<record> records, persist_then then) {
  const uint64_t op = ++_next_op;
  _inflight.emplace(op, inflight_op{g.id(), g.incarnation(), std::move(then)});
  g.persist_started();
  // The hook runs from the outbox, in order with everything else, once state is consistent.
  defer([this, op, records = std::move(records)]() mutable {
    if (!_inflight.contains(op)) return;  // unloaded meanwhile
    if (!_persist) {
      on_persist_done(op, true);
      return;
    }
    std::weak_ptr<int> alive = _alive;
    _persist(std::move(records), [this, alive, op](bool ok) {
      if (alive.lock()) on_persist_done(op, ok);
    });
  });
}

void coordinator::on_persist_done(uint64_t op, bool ok) {
  auto it = _inflight.find(op);
  if (it == _inflight.end()) {
    log().warn("persist completion {} is unknown (called twice, or after unload)", op);
    return;
  }
  scope s(*this);
  inflight_op o = std::move(it->second);
  _inflight.erase(it);
  classic_group* g = find_mut(o.group_id);
  if (g && g->incarnation() != o.incarnation) g = nullptr;
  if (g) {
    g->persist_finished();
    touch(o.group_id);
  }
  o.then(g, ok ? errc::none : errc::coordinator_not_available, _now);
}

void coordinator::settle() {
  while (!_touched.empty()) {
    std::vector<std::string> touched;
    touched.swap(_touched);
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (const auto& id : touched) after(id);
  }
  if (!_draining) drain();
}

void coordinator::drain() {
  _draining = true;
  struct reset {
    bool& flag;
    ~reset() { flag = false; }
  } r{_draining};
  while (!_outbox.empty()) {
    auto fn = std::move(_outbox.front());
    _outbox.pop_front();
    fn();
    // A callback may have called the coordinator: settle what it touched.
    while (!_touched.empty()) {
      std::vector<std::string> touched;
      touched.swap(_touched);
      for (const auto& id : touched) after(id);
    }
  }
}

void coordinator::after(const std::string& group_id) {
  classic_group* g = find_mut(group_id);
  if (!g) {
    unindex(group_id);
  } else if (g->is_vacant()) {
    erase(group_id);
  } else {
    reindex(*g);
  }
}

void coordinator::reindex(const classic_group& g) {
  unindex(g.id());
  if (auto d = g.next_deadline()) {
    _deadlines.emplace(*d, g.id());
    _deadline_of.emplace(g.id(), *d);
  }
}

void coordinator::unindex(const std::string& group_id) {
  auto it = _deadline_of.find(group_id);
  if (it == _deadline_of.end()) return;
  _deadlines.erase({it->second, group_id});
  _deadline_of.erase(it);
}

void coordinator::erase(const std::string& group_id) {
  unindex(group_id);
  auto it = _groups.find(group_id);
  if (it == _groups.end()) return;
  it->second->unload(errc::not_coordinator);  // answers nothing in practice: no members left
  _groups.erase(it);
}

classic_group* coordinator::find_mut(std::string_view group_id) {
  auto it = _groups.find(group_id);
  return it == _groups.end() ? nullptr : it->second.get();
}

const classic_group* coordinator::find(std::string_view group_id) const {
  auto it = _groups.find(group_id);
  return it == _groups.end() ? nullptr : it->second.get();
}

classic_group& coordinator::get_or_create(std::string_view group_id) {
  if (classic_group* g = find_mut(group_id)) return *g;
  auto g = std::make_unique<classic_group>(std::string(group_id), ++_next_incarnation,
                                           static_cast<group_host&>(*this));
  auto& ref = *g;
  _groups.emplace(std::string(group_id), std::move(g));
  return ref;
}

// --- membership ------------------------------------------------------------------------------

void coordinator::join(join_request req, time_point now, join_callback cb) {
  scope s(*this, now);
  auto fail = [&](errc e) {
    join_result r;
    r.error = e;
    r.member_id = req.member_id;
    respond(std::move(cb), std::move(r));
  };
  if (req.group_id.empty()) return fail(errc::invalid_group_id);
  if (req.session_timeout_ms < _config.min_session_timeout.count() ||
      req.session_timeout_ms > _config.max_session_timeout.count()) {
    return fail(errc::invalid_session_timeout);
  }
  if (req.rebalance_timeout_ms < 0) req.rebalance_timeout_ms = req.session_timeout_ms;
  classic_group* g = find_mut(req.group_id);
  if (!g) {
    if (!req.member_id.empty()) return fail(errc::unknown_member_id);
    g = &get_or_create(req.group_id);
  }
  touch(req.group_id);
  g->join(req, now, std::move(cb));
}

void coordinator::sync(sync_request req, time_point now, sync_callback cb) {
  scope s(*this, now);
  if (req.group_id.empty()) {
    return respond(std::move(cb), sync_result{errc::invalid_group_id, {}, {}, {}});
  }
  classic_group* g = find_mut(req.group_id);
  if (!g) return respond(std::move(cb), sync_result{errc::unknown_member_id, {}, {}, {}});
  touch(req.group_id);
  g->sync(req, now, std::move(cb));
}

errc coordinator::heartbeat(const heartbeat_request& req, time_point now) {
  scope s(*this, now);
  if (req.group_id.empty()) return errc::invalid_group_id;
  classic_group* g = find_mut(req.group_id);
  if (!g) return errc::unknown_member_id;
  touch(req.group_id);
  return g->heartbeat(req, now);
}

leave_result coordinator::leave(const leave_request& req, time_point now) {
  scope s(*this, now);
  leave_result r;
  if (req.group_id.empty()) {
    r.error = errc::invalid_group_id;
    return r;
  }
  classic_group* g = find_mut(req.group_id);
  if (!g) {
    for (const auto& m : req.members) {
      r.members.push_back({m.member_id, m.group_instance_id, errc::unknown_member_id});
    }
    return r;
  }
  if (g->state() == group_state::dead) {
    r.error = errc::coordinator_not_available;
    return r;
  }
  touch(req.group_id);
  r.members = g->leave(req.members, now);
  return r;
}

// --- offsets ---------------------------------------------------------------------------------

errc coordinator::validate_commit(std::string_view group_id, int32_t generation_id,
                                  std::string_view member_id,
                                  const std::optional<std::string>& group_instance_id) const {
  if (const classic_group* g = find(group_id)) {
    return g->validate_commit(generation_id, member_id, group_instance_id);
  }
  // Kafka creates the group for a commit without a generation, then validates against it.
  if (generation_id >= 0) return errc::illegal_generation;
  if (!member_id.empty() || group_instance_id) return errc::unknown_member_id;
  return errc::none;
}

void coordinator::commit_offsets(offset_commit_request req, time_point now,
                                 offset_commit_callback cb) {
  scope s(*this, now);
  std::vector<partition_error> result;
  result.reserve(req.offsets.size());
  for (const auto& o : req.offsets) result.push_back({{o.topic, o.partition}, errc::none});
  auto fail_all = [&](errc e) {
    for (auto& r : result) r.error = e;
    respond(std::move(cb), std::move(result));
  };

  classic_group* g = find_mut(req.group_id);
  if (!g) {
    if (req.generation_id >= 0) return fail_all(errc::illegal_generation);
    g = &get_or_create(req.group_id);
  }
  touch(req.group_id);
  if (errc e = g->validate_commit(req.generation_id, req.member_id, req.group_instance_id);
      e != errc::none) {
    return fail_all(e);
  }
  g->commit_heartbeat(req.member_id, now);

  struct staged {
    size_t index;
    topic_partition tp;
    offset_value value;
  };
  std::vector<staged> batch;
  std::vector<record> records;
  for (size_t i = 0; i < req.offsets.size(); ++i) {
    auto& o = req.offsets[i];
    if (o.metadata && o.metadata->size() > _config.max_offset_metadata_bytes) {
      result[i].error = errc::offset_metadata_too_large;
      continue;
    }
    offset_value v{o.offset, o.leader_epoch, o.metadata.value_or(""), o.commit_timestamp_ms};
    records.push_back(make_record(offset_key{req.group_id, o.topic, o.partition}, v));
    batch.push_back({i, {o.topic, o.partition}, std::move(v)});
  }
  if (batch.empty()) return respond(std::move(cb), std::move(result));

  const uint64_t seq = ++_seq;
  for (const auto& b : batch) g->begin_commit(b.tp);
  persist(*g, std::move(records),
          [this, batch = std::move(batch), result = std::move(result), cb = std::move(cb), seq](
              classic_group* g, errc status, time_point) mutable {
            // A group deleted meanwhile does not take the offsets (Kafka: not when Dead).
            bool apply = status == errc::none && g && g->state() != group_state::dead;
            for (const auto& b : batch) {
              if (g) g->finish_commit(b.tp, apply ? &b.value : nullptr, seq);
              result[b.index].error = status;
            }
            respond(std::move(cb), std::move(result));
          });
}

offset_fetch_result coordinator::fetch_offsets(
    std::string_view group_id, const std::optional<std::vector<topic_partition>>& partitions,
    bool require_stable) const {
  offset_fetch_result r;
  const classic_group* g = find(group_id);
  if (!g || g->state() == group_state::dead) {
    if (partitions) {
      for (const auto& tp : *partitions) r.offsets.push_back({tp, -1, -1, "", errc::none});
    }
    return r;
  }
  auto one = [&](const topic_partition& tp) {
    fetched_offset f{tp, -1, -1, "", errc::none};
    if (require_stable && g->has_pending_commit(tp)) {
      f.error = errc::unstable_offset_commit;
    } else if (const offset_value* v = g->committed(tp)) {
      f.offset = v->offset;
      f.leader_epoch = v->leader_epoch;
      f.metadata = v->metadata;
    }
    return f;
  };
  if (partitions) {
    for (const auto& tp : *partitions) r.offsets.push_back(one(tp));
  } else {
    for (const auto& [tp, slot] : g->offsets()) {
      if (slot.value) r.offsets.push_back(one(tp));
    }
  }
  return r;
}

void coordinator::delete_offsets(std::string group_id, std::vector<topic_partition> partitions,
                                 time_point now, offset_delete_callback cb) {
  scope s(*this, now);
  auto fail = [&](errc e) { respond(std::move(cb), offset_delete_result{e, {}}); };
  if (group_id.empty()) return fail(errc::invalid_group_id);
  classic_group* g = find_mut(group_id);
  if (!g || g->state() == group_state::dead) return fail(errc::group_id_not_found);
  touch(group_id);

  offset_delete_result res;
  std::vector<size_t> eligible;  // indexes into partitions
  for (size_t i = 0; i < partitions.size(); ++i) {
    res.partitions.push_back({partitions[i], errc::none});
    if (g->state() == group_state::empty) {
      eligible.push_back(i);
    } else if (g->protocol_type() != consumer_protocol::protocol_type) {
      return fail(errc::non_empty_group);
    } else if (g->is_subscribed_to(partitions[i].topic)) {
      res.partitions.back().error = errc::group_subscribed_to_topic;
    } else {
      eligible.push_back(i);
    }
  }
  // Tombstones only for what exists (committed, or a commit in flight).
  std::vector<topic_partition> doomed;
  std::vector<record> tombstones;
  for (size_t i : eligible) {
    const auto& tp = partitions[i];
    if (g->offsets().contains(tp) && std::find(doomed.begin(), doomed.end(), tp) == doomed.end()) {
      doomed.push_back(tp);
      tombstones.push_back(make_tombstone(offset_key{group_id, tp.topic, tp.partition}));
    }
  }
  if (tombstones.empty()) return respond(std::move(cb), std::move(res));

  const uint64_t seq = ++_seq;
  persist(*g, std::move(tombstones),
          [this, res = std::move(res), doomed = std::move(doomed), cb = std::move(cb), seq](
              classic_group* g, errc status, time_point) mutable {
            if (status != errc::none) {
              respond(std::move(cb), offset_delete_result{status, {}});
              return;
            }
            if (g) {
              for (const auto& tp : doomed) g->apply_delete(tp, seq);
            }
            respond(std::move(cb), std::move(res));
          });
}

// --- administration --------------------------------------------------------------------------

std::vector<group_overview> coordinator::list_groups(std::span<const std::string> states) const {
  std::vector<group_state> wanted;
  for (const auto& s : states) {
    if (auto st = parse_state(s)) wanted.push_back(*st);
  }
  std::vector<group_overview> out;
  for (const auto& [id, g] : _groups) {
    if (!states.empty() && std::find(wanted.begin(), wanted.end(), g->state()) == wanted.end()) {
      continue;
    }
    out.push_back({id, g->protocol_type().value_or(""), std::string(state_name(g->state()))});
  }
  return out;
}

group_description coordinator::describe_group(std::string_view group_id) const {
  group_description d;
  d.group_id = std::string(group_id);
  const classic_group* g = find(group_id);
  if (!g) {
    d.state = std::string(state_name(group_state::dead));
    return d;
  }
  d.state = std::string(state_name(g->state()));
  d.protocol_type = g->protocol_type().value_or("");
  // Metadata and assignments are shown for a Stable group only, as Kafka does.
  const bool stable = g->state() == group_state::stable;
  if (stable) d.protocol_name = g->protocol_name().value_or("");
  for (const member* m : g->members()) {
    member_description md{m->id, m->instance_id, m->client_id, m->client_host, {}, {}};
    if (stable) {
      if (const auto* meta = m->metadata(d.protocol_name)) md.metadata = *meta;
      md.assignment = m->assignment;
    }
    d.members.push_back(std::move(md));
  }
  return d;
}

void coordinator::delete_groups(std::vector<std::string> group_ids, time_point now,
                                delete_groups_callback cb) {
  scope s(*this, now);
  // As in Kafka, the request's ids form a set.
  std::vector<std::string> ids;
  for (auto& id : group_ids) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
  }
  struct shared_state {
    std::vector<group_deletion> results;
    size_t waiting = 0;
    delete_groups_callback cb;
  };
  auto st = std::make_shared<shared_state>();
  st->cb = std::move(cb);
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = ids[i];
    st->results.push_back({id, errc::none});
    classic_group* g = find_mut(id);
    if (!g || g->state() == group_state::dead) {
      st->results.back().error = errc::group_id_not_found;
      continue;
    }
    if (g->state() != group_state::empty) {
      st->results.back().error = errc::non_empty_group;
      continue;
    }
    g->mark_dead();
    touch(id);
    std::vector<record> tombstones;
    tombstones.push_back(make_tombstone(group_key{id}));
    for (const auto& [tp, slot] : g->offsets()) {
      tombstones.push_back(make_tombstone(offset_key{id, tp.topic, tp.partition}));
    }
    ++st->waiting;
    persist(*g, std::move(tombstones),
            [this, st, i, id](classic_group* g, errc status, time_point) {
              st->results[i].error = status;
              if (g && status == errc::none) {
                erase(id);
              } else if (g) {
                g->undo_dead();  // the log still has it: keep serving it
              }
              if (--st->waiting == 0) respond(std::move(st->cb), std::move(st->results));
            });
  }
  if (st->waiting == 0) respond(std::move(st->cb), std::move(st->results));
}

// --- time ------------------------------------------------------------------------------------

void coordinator::tick(time_point now) {
  scope s(*this, now);
  std::vector<std::string> due;
  for (auto it = _deadlines.begin(); it != _deadlines.end() && it->first <= now; ++it) {
    due.push_back(it->second);
  }
  for (const auto& id : due) {
    if (classic_group* g = find_mut(id)) {
      g->tick(now);
      touch(id);
    }
  }
}

std::optional<time_point> coordinator::next_deadline() const {
  if (_deadlines.empty()) return std::nullopt;
  return _deadlines.begin()->first;
}

// --- lifecycle -------------------------------------------------------------------------------

result<void> coordinator::replay(const record& r, time_point now) {
  scope s(*this, now);
  auto key = decode_key(bytes::byte_view(r.key));
  if (!key) return key.error();
  if (const auto* k = std::get_if<offset_key>(&*key)) {
    topic_partition tp{k->topic, k->partition};
    if (!r.value) {
      if (classic_group* g = find_mut(k->group_id)) {
        g->apply_delete(tp, ++_seq);
        touch(k->group_id);
      }
      return {};
    }
    auto v = decode_offset_value(bytes::byte_view(*r.value));
    if (!v) return v.error();
    get_or_create(k->group_id).apply_commit(tp, *v, ++_seq);
    touch(k->group_id);
    return {};
  }
  const auto& k = std::get<group_key>(*key);
  if (!r.value) {
    // The group is gone; offsets that outlive it (none, if written by Tern) keep an Empty one.
    if (classic_group* g = find_mut(k.group_id)) {
      g->reset_metadata();
      touch(k.group_id);
    }
    return {};
  }
  auto v = decode_group_value(bytes::byte_view(*r.value));
  if (!v) return v.error();
  classic_group& g = get_or_create(k.group_id);
  touch(k.group_id);
  return g.load(*v, now);
}

void coordinator::unload() {
  scope s(*this);
  for (auto& [id, g] : _groups) g->unload(errc::not_coordinator);
  _groups.clear();
  _deadlines.clear();
  _deadline_of.clear();
  _touched.clear();
  auto ops = std::move(_inflight);
  _inflight.clear();
  for (auto& [op, o] : ops) o.then(nullptr, errc::not_coordinator, _now);
}

}  // namespace tern::group
