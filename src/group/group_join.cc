// classic_group: JoinGroup and the rebalance (Kafka's GroupCoordinator.handleJoinGroup,
// prepareRebalance, InitialDelayedJoin/DelayedJoin and onCompleteJoin).

#include <algorithm>

#include "base/check.h"
#include "base/logger.h"
#include "group/consumer_protocol.h"
#include "group/group.h"

namespace tern::group {
namespace {
spdlog::logger& log() { return module_logger("group"); }
}  // namespace

void classic_group::join(const join_request& req, time_point now, join_callback cb) {
  if (!accept_joining_member(req)) {
    // Kafka drops the refused member id (a pending one, or a member that had not rejoined).
    if (!req.member_id.empty()) remove_member(req.member_id);
    respond(std::move(cb), join_error("", errc::group_max_size_reached));
  } else if (req.member_id.empty()) {
    new_member_join(req, now, std::move(cb));
  } else {
    current_member_join(req, now, std::move(cb));
  }
  if (_state == group_state::preparing_rebalance) maybe_complete_join(now);
}

bool classic_group::accept_joining_member(const join_request& req) const {
  if (_state == group_state::empty || _state == group_state::dead) return true;
  // Tern's addition: a known static instance rejoining replaces its member, it adds none, so
  // a full group does not refuse it (Kafka would answer GROUP_MAX_SIZE_REACHED).
  if (req.member_id.empty() && req.group_instance_id &&
      _static_members.contains(*req.group_instance_id)) {
    return true;
  }
  const size_t max = size_t(std::max(_host.config().max_group_size, 1));
  const member* m = find_member(req.member_id);
  if (_state == group_state::preparing_rebalance) {
    // Members awaiting join count: the size is enforced when the rebalance completes.
    return (m && m->awaiting_join()) || _awaiting_join < max;
  }
  return m != nullptr || _members.size() < max;
}

bool classic_group::supports_protocols(std::string_view type,
                                       const std::vector<protocol>& protos) const {
  if (_state == group_state::empty) return !type.empty() && !protos.empty();
  if (!_protocol_type || *_protocol_type != type) return false;
  for (const auto& p : protos) {
    auto it = _protocol_support.find(p.name);
    size_t n = it == _protocol_support.end() ? 0 : size_t(it->second);
    if (n == _members.size()) return true;
  }
  return false;
}

errc classic_group::validate_current_member(std::string_view member_id,
                                            const std::optional<std::string>& instance_id) const {
  if (instance_id) {
    auto it = _static_members.find(*instance_id);
    if (it == _static_members.end()) return errc::unknown_member_id;
    if (it->second != member_id) return errc::fenced_instance_id;
  }
  if (!_members.contains(member_id)) return errc::unknown_member_id;
  return errc::none;
}

void classic_group::new_member_join(const join_request& req, time_point now, join_callback cb) {
  if (_state == group_state::dead) {
    respond(std::move(cb), join_error("", errc::coordinator_not_available));
    return;
  }
  if (!supports_protocols(req.protocol_type, req.protocols)) {
    respond(std::move(cb), join_error("", errc::inconsistent_group_protocol));
    return;
  }
  const std::string& prefix = req.group_instance_id ? *req.group_instance_id : req.client_id;
  std::string new_id = _host.new_member_id(*this, prefix);
  if (req.group_instance_id) {
    if (auto old = static_member_id(*req.group_instance_id)) {
      log().info("group {}: static member {} rejoins in state {}, replacing member {} with {}", _id,
                 *req.group_instance_id, state_name(_state), *old, new_id);
      update_static_member_and_rebalance(*old, std::move(new_id), req, now, std::move(cb));
    } else {
      add_member_and_rebalance(std::move(new_id), req, now, std::move(cb));
    }
  } else if (req.api_version >= 4) {
    // KIP-394: remember the id, let the client come back with it. If it does not within its
    // session timeout, the pending id expires.
    _pending_members[new_id] = now + milliseconds(req.session_timeout_ms);
    respond(std::move(cb), join_error(std::move(new_id), errc::member_id_required));
  } else {
    add_member_and_rebalance(std::move(new_id), req, now, std::move(cb));
  }
}

void classic_group::current_member_join(const join_request& req, time_point now, join_callback cb) {
  if (_state == group_state::dead) {
    respond(std::move(cb), join_error(req.member_id, errc::coordinator_not_available));
    return;
  }
  if (!supports_protocols(req.protocol_type, req.protocols)) {
    respond(std::move(cb), join_error(req.member_id, errc::inconsistent_group_protocol));
    return;
  }
  // Pending ids are only handed to dynamic members; a static member presenting one is
  // validated (and refused) below instead (Kafka throws there).
  if (!req.group_instance_id && is_pending_member(req.member_id)) {
    add_member_and_rebalance(req.member_id, req, now, std::move(cb));
    return;
  }
  if (errc e = validate_current_member(req.member_id, req.group_instance_id); e != errc::none) {
    respond(std::move(cb), join_error(req.member_id, e));
    return;
  }
  member& m = *find(req.member_id);
  switch (_state) {
    case group_state::preparing_rebalance:
      update_member(m, req, std::move(cb));
      break;
    case group_state::completing_rebalance:
      if (m.matches(req.protocols)) {
        // Probably lost the JoinGroup response: give the current generation again.
        respond(std::move(cb), current_generation_result(m.id, _leader == m.id));
      } else {
        update_member(m, req, std::move(cb));
        maybe_prepare_rebalance(now);
      }
      break;
    case group_state::stable:
      if (_leader == m.id || !m.matches(req.protocols)) {
        // The leader rejoins to rebalance for changes its metadata cannot show (e.g. a topic's
        // partition count); anyone with changed metadata forces one too.
        update_member(m, req, std::move(cb));
        maybe_prepare_rebalance(now);
      } else {
        respond(std::move(cb), current_generation_result(m.id, false));
      }
      break;
    case group_state::empty:
    case group_state::dead:
      respond(std::move(cb), join_error(req.member_id, errc::unknown_member_id));
      break;
  }
}

void classic_group::add_member_and_rebalance(std::string id, const join_request& req,
                                             time_point now, join_callback cb) {
  member m;
  m.id = std::move(id);
  m.instance_id = req.group_instance_id;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout = milliseconds(req.session_timeout_ms);
  m.rebalance_timeout = milliseconds(req.rebalance_timeout_ms);
  m.protocol_type = req.protocol_type;
  m.protocols = req.protocols;
  m.last_heartbeat = now;
  m.is_new = true;
  // During the first rebalance of a group, each new member extends the initial delay.
  if (_state == group_state::preparing_rebalance && _generation == 0) _new_member_added = true;
  log().info("group {}: adding member {} (instance {}) in state {}", _id, m.id,
             m.instance_id.value_or("-"), state_name(_state));
  add_member(std::move(m), std::move(cb));
  maybe_prepare_rebalance(now);
}

// KIP-345. Worked example: group Stable at generation 5, static instance "i1" is member
// "i1-aaa". The process restarts and joins with member id "" and instance "i1":
//   1. "i1-aaa" is renamed "i1-bbb" (keeping its assignment); a JoinGroup/SyncGroup still
//      pending for "i1-aaa" is answered FENCED_INSTANCE_ID, and so is anything later sent
//      with "i1-aaa" plus instance "i1".
//   2. If the protocol the group would now select is unchanged, there is no rebalance: the
//      group record is persisted with the new id, then the join is answered with generation 5
//      and the *old* leader id, so that even a restarted leader acts as a follower; it then
//      sends SyncGroup and gets its old assignment.
//   3. Otherwise (or in CompletingRebalance) the group rebalances.
// Metadata changes alone do not force a rebalance here, as in Kafka: consumer metadata
// carries owned partitions and a generation, which always differ after a restart.
void classic_group::update_static_member_and_rebalance(const std::string& old_id,
                                                       std::string new_id, const join_request& req,
                                                       time_point now, join_callback cb) {
  static_rejoin s;
  s.instance_id = *req.group_instance_id;
  s.old_id = old_id;
  s.new_id = std::move(new_id);
  s.leader = _leader;
  s.generation = _generation;
  const member& before = *find(old_id);
  s.old_protocols = before.protocols;
  s.old_session = before.session_timeout;
  s.old_rebalance = before.rebalance_timeout;

  member& m = replace_static_member(s.instance_id, s.old_id, s.new_id);
  m.last_heartbeat = now;
  update_member(m, req, std::move(cb));

  switch (_state) {
    case group_state::stable:
      if (_protocol_name == select_protocol()) {
        log().info(
            "group {}: static member {} rejoined without changing the protocol; no "
            "rebalance",
            _id, s.instance_id);
        persist_group(nullptr, [s](classic_group* g, errc status, time_point at) {
          if (g) g->finish_static_rejoin(s, status, at);
        });
      } else {
        maybe_prepare_rebalance(now);
      }
      break;
    case group_state::completing_rebalance:
      maybe_prepare_rebalance(now);
      break;
    case group_state::preparing_rebalance:
      break;  // it now waits for the rebalance in progress like every member
    case group_state::empty:
    case group_state::dead:
      break;  // cannot happen: only a group with members has static members
  }
}

void classic_group::finish_static_rejoin(const static_rejoin& s, errc status, time_point now) {
  member* m = find(s.new_id);
  // Anything else that happened meanwhile (a rebalance, the member's removal) has answered or
  // taken over the pending join; then there is nothing left to do.
  if (_state != group_state::stable || _generation != s.generation || !m ||
      static_member_id(s.instance_id) != s.new_id || !m->awaiting_join()) {
    return;
  }
  if (status != errc::none) {
    log().warn("group {}: cannot persist static member {}'s new id: {}; reverting", _id,
               s.instance_id, error_name(status));
    join_callback cb = std::exchange(m->join_cb, nullptr);
    --_awaiting_join;
    dec_protocols(*m);
    m->protocols = s.old_protocols;
    inc_protocols(*m);
    m->session_timeout = s.old_session;
    m->rebalance_timeout = s.old_rebalance;
    member& old = replace_static_member(s.instance_id, s.new_id, s.old_id);
    old.last_heartbeat = now;
    join_result r = current_generation_result("", false);
    r.leader = s.leader.value_or("");
    r.error = status;
    respond(std::move(cb), std::move(r));
    return;
  }
  join_result r = current_generation_result(s.new_id, false);
  r.leader = s.leader.value_or("");
  m->last_heartbeat = now;
  complete_join_cb(*m, std::move(r));
}

join_result classic_group::current_generation_result(const std::string& member_id,
                                                     bool with_members) const {
  join_result r;
  r.generation_id = _generation;
  r.protocol_type = _protocol_type;
  r.protocol_name = _protocol_name;
  r.leader = _leader.value_or("");
  r.member_id = member_id;
  if (with_members) r.members = current_member_metadata();
  return r;
}

// --- rebalance -------------------------------------------------------------------------------

milliseconds classic_group::rebalance_timeout() const {
  milliseconds t{0};
  for (const auto& [id, m] : _members) t = std::max(t, m.rebalance_timeout);
  return t;
}

void classic_group::maybe_prepare_rebalance(time_point now) {
  if (_state == group_state::stable || _state == group_state::completing_rebalance ||
      _state == group_state::empty) {
    prepare_rebalance(now);
  }
}

void classic_group::prepare_rebalance(time_point now) {
  // Members waiting in SyncGroup must rejoin instead.
  if (_state == group_state::completing_rebalance) {
    reset_and_propagate_assignment_error(errc::rebalance_in_progress, now);
  }
  _pending_sync_deadline.reset();
  if (_state == group_state::empty) {
    // The first rebalance of an empty group waits group.initial.rebalance.delay.ms, and again
    // each time a new member arrived meanwhile, up to the rebalance timeout in total.
    _join_timer = join_timer::initial;
    _initial_delay = _host.config().initial_rebalance_delay;
    _initial_remaining = std::max(rebalance_timeout() - _initial_delay, milliseconds(0));
    _new_member_added = false;
    _join_deadline = now + _initial_delay;
  } else {
    _join_timer = join_timer::normal;
    _join_deadline = now + rebalance_timeout();
  }
  log().info("group {}: preparing to rebalance in state {} with old generation {}", _id,
             state_name(_state), _generation);
  transition_to(group_state::preparing_rebalance);
  if (_join_timer == join_timer::normal) maybe_complete_join(now);
}

void classic_group::maybe_complete_join(time_point now) {
  if (_state != group_state::preparing_rebalance || _join_timer != join_timer::normal) return;
  // Pending member ids (MEMBER_ID_REQUIRED answered) are waited for too, until they expire.
  if (_members.size() == _awaiting_join && _pending_members.empty()) complete_join(now);
}

void classic_group::on_join_deadline(time_point now) {
  if (_join_timer == join_timer::initial && _new_member_added &&
      _initial_remaining > milliseconds(0)) {
    _new_member_added = false;
    milliseconds delay = std::min(_host.config().initial_rebalance_delay, _initial_remaining);
    milliseconds remaining = std::max(_initial_remaining - _initial_delay, milliseconds(0));
    _initial_delay = delay;
    _initial_remaining = remaining;
    _join_deadline = now + delay;
    return;
  }
  complete_join(now);
}

void classic_group::complete_join(time_point now) {
  _join_timer = join_timer::none;
  // Dynamic members that did not rejoin in time are gone; static ones stay (KIP-345), and are
  // removed only by their session timeout.
  std::vector<std::string> gone;
  for (const auto& [id, m] : _members) {
    if (!m.awaiting_join() && !m.is_static()) gone.push_back(id);
  }
  for (const auto& id : gone) {
    log().info("group {}: member {} did not rejoin in time, removing it", _id, id);
    remove_member(id);
  }
  if (_state == group_state::dead) return;
  if (!maybe_elect_new_joined_leader() && !_members.empty()) {
    // Only static members that did not rejoin are left: wait another rebalance timeout, until
    // their sessions expire.
    log().error("group {}: could not complete rebalance because no members rejoined", _id);
    _join_timer = join_timer::normal;
    _join_deadline = now + std::max(rebalance_timeout(), milliseconds(1));
    return;
  }
  init_next_generation();
  if (_state == group_state::empty) {
    log().info("group {}: generation {} is empty", _id, _generation);
    // As in Kafka, a failure here is only logged: an empty generation has no one to fence.
    persist_group(nullptr, [id = _id](classic_group*, errc status, time_point) {
      if (status != errc::none) {
        log().warn("group {}: cannot persist empty group metadata: {}", id, error_name(status));
      }
    });
    return;
  }
  log().info("group {}: stabilized generation {} with {} members, protocol {}", _id, _generation,
             _members.size(), _protocol_name.value_or(""));
  for (const member* cm : members()) {
    member& m = *find(cm->id);
    complete_join_cb(m, current_generation_result(m.id, _leader == m.id));
    m.last_heartbeat = now;
    m.is_new = false;
    _pending_sync.insert(m.id);
  }
  _pending_sync_deadline = now + rebalance_timeout();
}

bool classic_group::maybe_elect_new_joined_leader() {
  if (!_leader) return false;
  if (const member* l = find_member(*_leader); l && l->awaiting_join()) return true;
  for (const member* m : members()) {
    if (m->awaiting_join()) {
      log().info("group {}: leader {} did not rejoin; {} is the new leader", _id, *_leader, m->id);
      _leader = m->id;
      return true;
    }
  }
  return false;
}

void classic_group::init_next_generation() {
  _generation = _generation == std::numeric_limits<int32_t>::max() ? 1 : _generation + 1;
  if (!_members.empty()) {
    _protocol_name = select_protocol();
    _subscribed = compute_subscribed_topics();
    transition_to(group_state::completing_rebalance);
  } else {
    _protocol_name.reset();
    _subscribed.reset();
    transition_to(group_state::empty);
  }
  _pending_sync.clear();
  _pending_sync_deadline.reset();
}

// Kafka's vote: the candidates are the protocols every member supports; each member votes
// for its most preferred candidate; most votes wins. Ties (unspecified in Kafka, where they
// depend on hash order) go to the candidate voted for by the earliest-joined member.
std::string classic_group::select_protocol() const {
  std::vector<std::pair<std::string, size_t>> tally;
  for (const member* m : members()) {
    for (const auto& p : m->protocols) {
      auto it = _protocol_support.find(p.name);
      if (it == _protocol_support.end() || size_t(it->second) != _members.size()) continue;
      auto t = std::find_if(tally.begin(), tally.end(),
                            [&](const auto& e) { return e.first == p.name; });
      if (t == tally.end()) {
        tally.emplace_back(p.name, 1);
      } else {
        ++t->second;
      }
      break;
    }
  }
  if (tally.empty()) {
    // Cannot happen: joins are refused unless they share a protocol with every member.
    log().error("group {}: no protocol supported by all members", _id);
    auto ms = members();
    return ms.empty() || ms.front()->protocols.empty() ? "" : ms.front()->protocols.front().name;
  }
  auto best = tally.begin();
  for (auto it = tally.begin(); it != tally.end(); ++it) {
    if (it->second > best->second) best = it;
  }
  return best->first;
}

std::optional<std::set<std::string>> classic_group::compute_subscribed_topics() const {
  if (!_protocol_type || *_protocol_type != consumer_protocol::protocol_type || _members.empty() ||
      !_protocol_name) {
    return std::nullopt;
  }
  std::set<std::string> topics;
  for (const auto& [id, m] : _members) {
    const bytes::buffer* md = m.metadata(*_protocol_name);
    if (!md) return std::nullopt;
    // Only the v0 prefix, as Kafka does: it is shared by every version.
    auto s = consumer_protocol::decode_subscription(*md, 0);
    if (!s) {
      log().warn("group {}: cannot decode member {}'s subscription: {}", _id, id,
                 s.error().message());
      return std::nullopt;
    }
    topics.insert(s->topics.begin(), s->topics.end());
  }
  return topics;
}

std::vector<join_member> classic_group::current_member_metadata() const {
  std::vector<join_member> out;
  for (const member* m : members()) {
    join_member jm;
    jm.member_id = m->id;
    jm.group_instance_id = m->instance_id;
    if (_protocol_name) {
      if (const auto* md = m->metadata(*_protocol_name)) jm.metadata = *md;
    }
    out.push_back(std::move(jm));
  }
  return out;
}

}  // namespace tern::group
