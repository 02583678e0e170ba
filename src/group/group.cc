// classic_group: membership primitives, timers, lifecycle, offsets. The JoinGroup path and
// rebalance completion are in group_join.cc; SyncGroup, Heartbeat, LeaveGroup and commit
// validation in group_sync.cc.

#include "group/group.h"

#include <algorithm>
#include <cctype>

#include "base/check.h"
#include "base/logger.h"
#include "group/consumer_protocol.h"

namespace tern::group {
namespace {
spdlog::logger& log() { return module_logger("group"); }
}  // namespace

std::string_view state_name(group_state s) {
  switch (s) {
    case group_state::empty:
      return "Empty";
    case group_state::preparing_rebalance:
      return "PreparingRebalance";
    case group_state::completing_rebalance:
      return "CompletingRebalance";
    case group_state::stable:
      return "Stable";
    case group_state::dead:
      return "Dead";
  }
  return "Dead";
}

std::optional<group_state> parse_state(std::string_view name) {
  auto iequal = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  };
  for (auto s : {group_state::empty, group_state::preparing_rebalance,
                 group_state::completing_rebalance, group_state::stable, group_state::dead}) {
    if (iequal(name, state_name(s))) return s;
  }
  return std::nullopt;
}

errc leave_result::v0_error() const {
  if (error != errc::none) return error;
  for (const auto& m : members) {
    if (m.error != errc::none) return m.error;
  }
  return errc::none;
}

const bytes::buffer* member::metadata(std::string_view protocol_name) const {
  for (const auto& p : protocols) {
    if (p.name == protocol_name) return &p.metadata;
  }
  return nullptr;
}

classic_group::classic_group(std::string id, uint64_t incarnation, group_host& host)
    : _id(std::move(id)), _incarnation(incarnation), _host(host) {}

// --- inspection ------------------------------------------------------------------------------

const member* classic_group::find_member(std::string_view id) const {
  auto it = _members.find(id);
  return it == _members.end() ? nullptr : &it->second;
}

member* classic_group::find(std::string_view id) {
  auto it = _members.find(id);
  return it == _members.end() ? nullptr : &it->second;
}

std::optional<std::string> classic_group::static_member_id(std::string_view instance_id) const {
  auto it = _static_members.find(instance_id);
  if (it == _static_members.end()) return std::nullopt;
  return it->second;
}

std::vector<const member*> classic_group::members() const {
  std::vector<const member*> out;
  out.reserve(_members.size());
  for (const auto& [id, m] : _members) out.push_back(&m);
  std::sort(out.begin(), out.end(),
            [](const member* a, const member* b) { return a->seq < b->seq; });
  return out;
}

bool classic_group::is_subscribed_to(std::string_view topic) const {
  return !_subscribed || _subscribed->contains(std::string(topic));
}

bool classic_group::is_vacant() const {
  return _state == group_state::empty && _generation == 0 && _members.empty() &&
         _pending_members.empty() && _offsets.empty() && _inflight == 0;
}

// --- membership primitives -------------------------------------------------------------------

void classic_group::transition_to(group_state s) {
  // Kafka's validPreviousStates; Dead -> Empty is Tern's undo of a failed deletion.
  [[maybe_unused]] auto from = [&](std::initializer_list<group_state> ok) {
    return std::find(ok.begin(), ok.end(), _state) != ok.end();
  };
  switch (s) {
    case group_state::empty:
      TERN_DCHECK(from({group_state::preparing_rebalance, group_state::dead}));
      break;
    case group_state::preparing_rebalance:
      TERN_DCHECK(
          from({group_state::stable, group_state::completing_rebalance, group_state::empty}));
      break;
    case group_state::completing_rebalance:
      TERN_DCHECK(from({group_state::preparing_rebalance}));
      break;
    case group_state::stable:
      TERN_DCHECK(from({group_state::completing_rebalance}));
      break;
    case group_state::dead:
      break;
  }
  _state = s;
}

void classic_group::inc_protocols(const member& m) {
  for (const auto& p : m.protocols) ++_protocol_support[p.name];
}

void classic_group::dec_protocols(const member& m) {
  for (const auto& p : m.protocols) {
    auto it = _protocol_support.find(p.name);
    if (it != _protocol_support.end() && --it->second <= 0) _protocol_support.erase(it);
  }
}

void classic_group::add_member(member m, join_callback cb) {
  if (m.instance_id) _static_members[*m.instance_id] = m.id;
  if (_members.empty()) _protocol_type = m.protocol_type;
  if (!_leader) _leader = m.id;
  m.seq = _next_seq++;
  if (cb) {
    m.join_cb = std::move(cb);
    ++_awaiting_join;
  }
  if (auto it = _pending_members.find(m.id); it != _pending_members.end())
    _pending_members.erase(it);
  inc_protocols(m);
  std::string id = m.id;
  _members.emplace(std::move(id), std::move(m));
}

void classic_group::remove_member(std::string_view id_view) {
  const std::string id(id_view);  // id_view may point into the member being erased
  if (auto it = _members.find(id); it != _members.end()) {
    member& m = it->second;
    dec_protocols(m);
    // Removed with a response pending: answer it, so the client rejoins (Kafka answers the
    // join; a pending sync Kafka would leave unanswered).
    complete_join_cb(m, join_error("", errc::unknown_member_id));
    complete_sync_cb(m, sync_result{errc::unknown_member_id, {}, {}, {}});
    if (m.instance_id) {
      auto s = _static_members.find(*m.instance_id);
      if (s != _static_members.end() && s->second == id) _static_members.erase(s);
    }
    _members.erase(it);
  }
  if (_leader == id) {
    auto rest = members();
    _leader = rest.empty() ? std::nullopt : std::optional<std::string>(rest.front()->id);
  }
  if (auto it = _pending_members.find(id); it != _pending_members.end()) _pending_members.erase(it);
  remove_pending_sync(id);
}

void classic_group::update_member(member& m, const join_request& req, join_callback cb) {
  dec_protocols(m);
  m.protocols = req.protocols;
  inc_protocols(m);
  m.rebalance_timeout = milliseconds(req.rebalance_timeout_ms);
  m.session_timeout = milliseconds(req.session_timeout_ms);
  if (!cb) return;
  if (m.join_cb) {
    // The same member joined again while its previous JoinGroup is pending: the client gave
    // up on that one (request timeout, new connection). Answer it with a retriable error.
    respond(std::exchange(m.join_cb, nullptr), join_error(m.id, errc::coordinator_not_available));
  } else {
    ++_awaiting_join;
  }
  m.join_cb = std::move(cb);
}

member& classic_group::replace_static_member(const std::string& instance_id,
                                             const std::string& old_id, const std::string& new_id) {
  auto node = _members.extract(old_id);
  TERN_CHECK(!node.empty());
  member& old = node.mapped();
  // Fence whatever the previous incarnation of this instance still waits for.
  complete_join_cb(old, join_error(old_id, errc::fenced_instance_id));
  complete_sync_cb(old, sync_result{errc::fenced_instance_id, {}, {}, {}});
  old.id = new_id;
  node.key() = new_id;
  auto res = _members.insert(std::move(node));
  TERN_CHECK(res.inserted);
  if (_leader == old_id) _leader = new_id;
  _static_members[instance_id] = new_id;
  if (auto it = _pending_sync.find(old_id); it != _pending_sync.end()) {
    _pending_sync.erase(it);
    _pending_sync.insert(new_id);
  }
  return res.position->second;
}

void classic_group::remove_member_and_update_group(std::string_view id, time_point now) {
  remove_member(id);
  switch (_state) {
    case group_state::dead:
    case group_state::empty:
      break;
    case group_state::stable:
    case group_state::completing_rebalance:
      maybe_prepare_rebalance(now);
      break;
    case group_state::preparing_rebalance:
      maybe_complete_join(now);
      break;
  }
}

void classic_group::remove_pending_sync(std::string_view id) {
  if (auto it = _pending_sync.find(id); it != _pending_sync.end()) _pending_sync.erase(it);
  if (_pending_sync.empty()) _pending_sync_deadline.reset();
}

// --- responses -------------------------------------------------------------------------------

void classic_group::respond(join_callback cb, join_result r) {
  if (!cb) return;
  _host.defer([cb = std::move(cb), r = std::move(r)]() mutable { cb(std::move(r)); });
}

void classic_group::respond(sync_callback cb, sync_result r) {
  if (!cb) return;
  _host.defer([cb = std::move(cb), r = std::move(r)]() mutable { cb(std::move(r)); });
}

void classic_group::complete_join_cb(member& m, join_result r) {
  if (!m.join_cb) return;
  --_awaiting_join;
  respond(std::exchange(m.join_cb, nullptr), std::move(r));
}

void classic_group::complete_sync_cb(member& m, sync_result r) {
  if (!m.sync_cb) return;
  respond(std::exchange(m.sync_cb, nullptr), std::move(r));
}

join_result classic_group::join_error(std::string member_id, errc e) {
  join_result r;
  r.error = e;
  r.member_id = std::move(member_id);
  return r;
}

// --- timers ----------------------------------------------------------------------------------

namespace {
enum class event { none, pending_member, member_session, join, pending_sync };
}  // namespace

std::optional<time_point> classic_group::member_deadline(const member& m) const {
  // A member waiting in a JoinGroup or SyncGroup cannot heartbeat (its connection is parked);
  // it is exempt until that response goes out and its timer restarts. A new member's join
  // itself expires, though, after new_member_join_timeout (Kafka: NewMemberJoinTimeoutMs).
  if (m.is_new && m.awaiting_join())
    return m.last_heartbeat + _host.config().new_member_join_timeout;
  if (m.awaiting_join() || m.awaiting_sync()) return std::nullopt;
  return m.last_heartbeat + m.session_timeout;
}

std::optional<time_point> classic_group::next_deadline() const {
  if (_state == group_state::dead) return std::nullopt;
  std::optional<time_point> best;
  auto consider = [&](time_point t) {
    if (!best || t < *best) best = t;
  };
  for (const auto& [id, expiry] : _pending_members) consider(expiry);
  for (const auto& [id, m] : _members) {
    if (auto d = member_deadline(m)) consider(*d);
  }
  if (_state == group_state::preparing_rebalance && _join_timer != join_timer::none) {
    consider(_join_deadline);
  }
  if (_pending_sync_deadline &&
      (_state == group_state::completing_rebalance || _state == group_state::stable)) {
    consider(*_pending_sync_deadline);
  }
  return best;
}

void classic_group::tick(time_point now) {
  // Handle due events earliest first, each as if its timer had fired on time: a handler runs
  // at the event's own deadline, so a late tick gives the same outcome as timely ones (an
  // initial delay extended from its deadline, sessions restarted then). Each handler removes
  // its event or moves it later, so this ends; the bound guards against a logic error.
  for (int round = 0; round < 100000; ++round) {
    if (_state == group_state::dead) return;
    event kind = event::none;
    time_point at{};
    std::string who;
    auto consider = [&](time_point t, event e, std::string_view id) {
      if (t <= now && (kind == event::none || t < at)) {
        kind = e;
        at = t;
        who = std::string(id);
      }
    };
    for (const auto& [id, expiry] : _pending_members) consider(expiry, event::pending_member, id);
    for (const auto& [id, m] : _members) {
      if (auto d = member_deadline(m)) consider(*d, event::member_session, id);
    }
    if (_state == group_state::preparing_rebalance && _join_timer != join_timer::none) {
      consider(_join_deadline, event::join, {});
    }
    if (_pending_sync_deadline &&
        (_state == group_state::completing_rebalance || _state == group_state::stable)) {
      consider(*_pending_sync_deadline, event::pending_sync, {});
    }
    switch (kind) {
      case event::none:
        return;
      case event::pending_member:
        log().info("group {}: pending member {} removed after its session timeout", _id, who);
        _pending_members.erase(who);
        if (_state == group_state::preparing_rebalance) maybe_complete_join(at);
        break;
      case event::member_session:
        log().info("group {}: member {} failed (session timeout), removing it", _id, who);
        remove_member_and_update_group(who, at);
        break;
      case event::join:
        on_join_deadline(at);
        break;
      case event::pending_sync:
        on_pending_sync_expired(at);
        break;
    }
  }
  log().error("group {}: timers did not settle; will continue on the next tick", _id);
}

void classic_group::on_pending_sync_expired(time_point now) {
  _pending_sync_deadline.reset();
  if (_pending_sync.empty()) return;
  // Members that got their JoinGroup response but never sent SyncGroup within the rebalance
  // timeout are gone (Kafka 3.x); rebalance without them.
  std::vector<std::string> gone(_pending_sync.begin(), _pending_sync.end());
  for (const auto& id : gone) {
    log().info("group {}: member {} did not sync in generation {}, removing it", _id, id,
               _generation);
    remove_member(id);
  }
  prepare_rebalance(now);
}

// --- lifecycle -------------------------------------------------------------------------------

void classic_group::mark_dead() { transition_to(group_state::dead); }

void classic_group::undo_dead() {
  TERN_DCHECK(_state == group_state::dead && _members.empty());
  transition_to(group_state::empty);
}

void classic_group::clear_membership(errc error) {
  for (auto& [id, m] : _members) {
    complete_join_cb(m, join_error(id, error));
    complete_sync_cb(m, sync_result{error, {}, {}, {}});
  }
  _members.clear();
  _static_members.clear();
  _pending_members.clear();
  _pending_sync.clear();
  _protocol_support.clear();
  _awaiting_join = 0;
  _leader.reset();
  _join_timer = join_timer::none;
  _new_member_added = false;
  _pending_sync_deadline.reset();
}

void classic_group::unload(errc error) {
  clear_membership(error);
  _state = group_state::dead;
}

result<void> classic_group::load(const group_value& v, time_point now) {
  std::set<std::string> ids, instances;
  for (const auto& m : v.members) {
    if (m.member_id.empty() || !ids.insert(m.member_id).second) return decode_errc::corrupt;
    if (m.group_instance_id && !instances.insert(*m.group_instance_id).second) {
      return decode_errc::corrupt;
    }
    if (m.session_timeout_ms < 0 || m.rebalance_timeout_ms < 0) return decode_errc::corrupt;
  }
  // A group with members has a protocol type and a selected protocol.
  if (!v.members.empty() && (!v.protocol_name || v.protocol_type.empty())) {
    return decode_errc::corrupt;
  }

  clear_membership(errc::not_coordinator);
  _generation = v.generation;
  _protocol_name = v.protocol_name;
  for (const auto& mv : v.members) {
    member m;
    m.id = mv.member_id;
    m.instance_id = mv.group_instance_id;
    m.client_id = mv.client_id;
    m.client_host = mv.client_host;
    m.session_timeout = milliseconds(mv.session_timeout_ms);
    m.rebalance_timeout = milliseconds(mv.rebalance_timeout_ms);
    m.protocol_type = v.protocol_type;
    // Like Kafka, only the selected protocol's metadata is persisted.
    m.protocols = {protocol{*v.protocol_name, mv.subscription}};
    m.assignment = mv.assignment;
    m.last_heartbeat = now;  // sessions start at load time
    add_member(std::move(m), nullptr);
  }
  _protocol_type =
      v.protocol_type.empty() ? std::nullopt : std::optional<std::string>(v.protocol_type);
  if (v.leader && _members.contains(*v.leader)) _leader = v.leader;
  _state = _members.empty() ? group_state::empty : group_state::stable;
  _subscribed = compute_subscribed_topics();
  return {};
}

void classic_group::reset_metadata() {
  clear_membership(errc::not_coordinator);
  _state = group_state::empty;
  _generation = 0;
  _protocol_type.reset();
  _protocol_name.reset();
  _subscribed.reset();
}

group_value classic_group::to_value(const assignment_map* assignment) const {
  group_value v;
  v.protocol_type = _protocol_type.value_or("");
  v.generation = _generation;
  v.protocol_name = _protocol_name;
  v.leader = _leader;
  for (const member* m : members()) {
    member_value mv;
    mv.member_id = m->id;
    mv.group_instance_id = m->instance_id;
    mv.client_id = m->client_id;
    mv.client_host = m->client_host;
    mv.rebalance_timeout_ms = int32_t(m->rebalance_timeout.count());
    mv.session_timeout_ms = int32_t(m->session_timeout.count());
    if (_protocol_name) {
      if (const auto* md = m->metadata(*_protocol_name)) mv.subscription = *md;
    }
    if (assignment) {
      auto it = assignment->find(m->id);
      if (it != assignment->end()) mv.assignment = it->second;
    } else {
      mv.assignment = m->assignment;
    }
    v.members.push_back(std::move(mv));
  }
  return v;
}

void classic_group::persist_group(const assignment_map* a, persist_then then) {
  std::vector<record> records;
  records.push_back(make_record(group_key{_id}, to_value(a)));
  _host.persist(*this, std::move(records), std::move(then));
}

// --- offsets ---------------------------------------------------------------------------------

const offset_value* classic_group::committed(const topic_partition& tp) const {
  auto it = _offsets.find(tp);
  if (it == _offsets.end() || !it->second.value) return nullptr;
  return &*it->second.value;
}

bool classic_group::has_pending_commit(const topic_partition& tp) const {
  auto it = _offsets.find(tp);
  return it != _offsets.end() && it->second.pending > 0;
}

void classic_group::begin_commit(const topic_partition& tp) { ++_offsets[tp].pending; }

void classic_group::finish_commit(const topic_partition& tp, const offset_value* v, uint64_t seq) {
  auto it = _offsets.try_emplace(tp).first;
  offset_slot& s = it->second;
  if (s.pending > 0) --s.pending;
  // >=: a request may name a partition twice; the later entry (same seq) wins, as in Kafka.
  if (v && seq >= s.seq) {
    s.value = *v;
    s.seq = seq;
  }
  if (!s.value && s.pending == 0) _offsets.erase(it);
}

void classic_group::apply_commit(const topic_partition& tp, const offset_value& v, uint64_t seq) {
  offset_slot& s = _offsets[tp];
  if (seq >= s.seq) {
    s.value = v;
    s.seq = seq;
  }
}

void classic_group::apply_delete(const topic_partition& tp, uint64_t seq) {
  auto it = _offsets.find(tp);
  if (it == _offsets.end()) return;
  offset_slot& s = it->second;
  if (seq > s.seq) {
    s.value.reset();
    s.seq = seq;
  }
  if (!s.value && s.pending == 0) _offsets.erase(it);
}

}  // namespace tern::group
