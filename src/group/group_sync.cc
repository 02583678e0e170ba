// classic_group: SyncGroup, Heartbeat, LeaveGroup and OffsetCommit validation (Kafka's
// GroupCoordinator.doSyncGroup, handleHeartbeat, handleLeaveGroup, validateOffsetCommit).

#include "base/check.h"
#include "base/logger.h"
#include "group/group.h"

namespace tern::group {
namespace {
spdlog::logger& log() { return module_logger("group"); }
}  // namespace

void classic_group::sync(const sync_request& req, time_point now, sync_callback cb) {
  if (_state == group_state::dead) {
    respond(std::move(cb), sync_result{errc::coordinator_not_available, {}, {}, {}});
    return;
  }
  errc e = validate_current_member(req.member_id, req.group_instance_id);
  if (e == errc::none && req.generation_id != _generation) e = errc::illegal_generation;
  if (e == errc::none && req.protocol_type && _protocol_type != req.protocol_type) {
    e = errc::inconsistent_group_protocol;
  }
  if (e == errc::none && req.protocol_name && _protocol_name != req.protocol_name) {
    e = errc::inconsistent_group_protocol;
  }
  if (e != errc::none) {
    respond(std::move(cb), sync_result{e, {}, {}, {}});
    return;
  }

  switch (_state) {
    case group_state::empty:
      respond(std::move(cb), sync_result{errc::unknown_member_id, {}, {}, {}});
      return;
    case group_state::preparing_rebalance:
      respond(std::move(cb), sync_result{errc::rebalance_in_progress, {}, {}, {}});
      return;
    case group_state::dead:
      return;  // handled above
    case group_state::stable: {
      member& m = *find(req.member_id);
      remove_pending_sync(m.id);
      respond(std::move(cb), sync_result{errc::none, _protocol_type, _protocol_name, m.assignment});
      m.last_heartbeat = now;
      return;
    }
    case group_state::completing_rebalance:
      break;
  }

  // CompletingRebalance: everyone waits for the leader's assignment.
  member& m = *find(req.member_id);
  if (m.sync_cb) {
    // A newer SyncGroup of the same member replaces a pending one (the client gave up on it).
    respond(std::exchange(m.sync_cb, nullptr),
            sync_result{errc::rebalance_in_progress, {}, {}, {}});
  }
  m.sync_cb = std::move(cb);
  remove_pending_sync(m.id);
  if (_leader != m.id) return;

  log().info("group {}: assignment received from leader {} for generation {}", _id, m.id,
             _generation);
  // Only current members keep an assignment; members the leader left out get an empty one.
  assignment_map assignment;
  for (const auto& a : req.assignments) {
    if (_members.contains(a.member_id)) assignment[a.member_id] = a.assignment;
  }
  for (const auto& [id, mm] : _members) {
    if (assignment.try_emplace(id).second) {
      log().warn("group {}: leader gave member {} no assignment in generation {}", _id, id,
                 _generation);
    }
  }
  // The group becomes Stable, and the assignments go out, only once the record is durable. If
  // anything changes meanwhile (a member joins or leaves: a new rebalance), the completion
  // finds another state or generation and does nothing; the waiting syncs were answered then.
  const int32_t generation = _generation;
  persist_group(
      &assignment, [assignment, generation](classic_group* g, errc status, time_point at) {
        if (!g || g->_state != group_state::completing_rebalance || g->_generation != generation) {
          return;
        }
        if (status != errc::none) {
          log().warn("group {}: cannot persist generation {}: {}; rebalancing", g->_id, generation,
                     error_name(status));
          g->reset_and_propagate_assignment_error(status, at);
          g->maybe_prepare_rebalance(at);
          return;
        }
        g->set_and_propagate_assignment(assignment, at);
        g->transition_to(group_state::stable);
      });
}

void classic_group::reset_and_propagate_assignment_error(errc error, time_point now) {
  TERN_DCHECK(_state == group_state::completing_rebalance);
  for (auto& [id, m] : _members) m.assignment.clear();
  propagate_assignment(error, now);
}

void classic_group::set_and_propagate_assignment(const assignment_map& a, time_point now) {
  TERN_DCHECK(_state == group_state::completing_rebalance);
  for (auto& [id, m] : _members) {
    auto it = a.find(id);
    m.assignment = it == a.end() ? bytes::buffer{} : it->second;
  }
  propagate_assignment(errc::none, now);
}

void classic_group::propagate_assignment(errc error, time_point now) {
  for (auto& [id, m] : _members) {
    if (!m.sync_cb) continue;
    sync_result r;
    r.error = error;
    if (error == errc::none) {
      r.protocol_type = _protocol_type;
      r.protocol_name = _protocol_name;
      r.assignment = m.assignment;
    }
    complete_sync_cb(m, std::move(r));
    // Its session was on hold while it waited; it starts again now.
    m.last_heartbeat = now;
  }
}

errc classic_group::heartbeat(const heartbeat_request& req, time_point now) {
  if (_state == group_state::dead) return errc::coordinator_not_available;
  if (errc e = validate_current_member(req.member_id, req.group_instance_id); e != errc::none) {
    return e;
  }
  if (req.generation_id != _generation) return errc::illegal_generation;
  member& m = *find(req.member_id);
  switch (_state) {
    case group_state::empty:
      return errc::unknown_member_id;
    case group_state::completing_rebalance:
      // Since Kafka 2.4: a member may heartbeat between its JoinGroup and SyncGroup.
      m.last_heartbeat = now;
      return errc::none;
    case group_state::preparing_rebalance:
      m.last_heartbeat = now;
      return errc::rebalance_in_progress;  // tells the member to rejoin
    case group_state::stable:
      m.last_heartbeat = now;
      return errc::none;
    case group_state::dead:
      break;
  }
  return errc::coordinator_not_available;
}

std::vector<member_leave_result> classic_group::leave(const std::vector<member_identity>& who,
                                                      time_point now) {
  std::vector<member_leave_result> out;
  out.reserve(who.size());
  for (const auto& w : who) {
    member_leave_result r{w.member_id, w.group_instance_id, errc::none};
    if (_state == group_state::dead) {
      r.error = errc::coordinator_not_available;
    } else if (w.member_id.empty()) {
      // Administrative removal of a static member by its instance id alone (KIP-345).
      auto current = w.group_instance_id ? static_member_id(*w.group_instance_id) : std::nullopt;
      if (current) {
        log().info("group {}: static member {} ({}) leaves", _id, *w.group_instance_id, *current);
        remove_member_and_update_group(*current, now);
      } else {
        r.error = errc::unknown_member_id;
      }
    } else if (is_pending_member(w.member_id)) {
      _pending_members.erase(_pending_members.find(w.member_id));
      if (_state == group_state::preparing_rebalance) maybe_complete_join(now);
    } else {
      r.error = validate_current_member(w.member_id, w.group_instance_id);
      if (r.error == errc::none) {
        log().info("group {}: member {} leaves", _id, w.member_id);
        remove_member_and_update_group(w.member_id, now);
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

errc classic_group::validate_commit(int32_t generation, std::string_view member_id,
                                    const std::optional<std::string>& instance_id) const {
  if (_state == group_state::dead) return errc::coordinator_not_available;
  if (generation >= 0 || !member_id.empty() || instance_id) {
    if (errc e = validate_current_member(member_id, instance_id); e != errc::none) return e;
    if (generation != _generation) return errc::illegal_generation;
  } else if (_state != group_state::empty) {
    // A "simple" commit (no generation, no member) is for groups not managed by the
    // coordinator; once the group has members, only they may commit.
    return errc::unknown_member_id;
  }
  // The member has its JoinGroup response but not its assignment yet.
  if (_state == group_state::completing_rebalance) return errc::rebalance_in_progress;
  return errc::none;
}

void classic_group::commit_heartbeat(std::string_view member_id, time_point now) {
  if (_state != group_state::stable && _state != group_state::preparing_rebalance) return;
  if (member* m = find(member_id)) m->last_heartbeat = now;
}

}  // namespace tern::group
