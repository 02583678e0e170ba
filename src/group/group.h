#pragma once
// classic_group: one consumer group of the classic (JoinGroup/SyncGroup) protocol, as Kafka's
// GroupMetadata plus the per-group half of its GroupCoordinator (Kafka 2.4-3.x behaviour).
//
// Lifecycle and states (Kafka's names):
//
//            join                 all joined / rebalance timeout        leader's SyncGroup
//   Empty ---------> PreparingRebalance -----------------------> CompletingRebalance ----+
//     ^   (initial     ^    |  no member left                         |  persisted        |
//     |    delay)      |    +--------------------> Empty (gen+1)      v                   |
//     |                +------------- join / leave / expiry ------- Stable <--------------+
//   Dead: deleted (DeleteGroups) or unloaded; no operation succeeds on a Dead group.
//
// A group is owned by a coordinator (coordinator.h) on one shard and used only from that
// shard's thread; it is not thread-safe. It does no I/O: time comes in as arguments; responses
// are callbacks handed to group_host::defer() so that they run after the state change is
// complete; durable writes go through group_host::persist(). Every join/sync callback the group
// accepts is called exactly once: with a result, or with an error when its member is removed,
// fenced, superseded by a newer request of the same member, or the group is unloaded.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "group/errors.h"
#include "group/records.h"
#include "group/types.h"

namespace tern::group {

class classic_group;

// What to do once a persist finished: `g` is the group, or nullptr when it no longer exists
// (deleted, unloaded); `status` is none, coordinator_not_available (the hook reported a
// failure) or not_coordinator (the coordinator was unloaded first); `now` is the latest time
// the coordinator has seen.
using persist_then = std::function<void(classic_group* g, errc status, time_point now)>;

// What a group needs from its owner. Implemented by the coordinator.
class group_host {
 public:
  virtual const coordinator_config& config() const = 0;
  // A member id not used in `g`: "<prefix>-<uuid>".
  virtual std::string new_member_id(const classic_group& g, std::string_view prefix) = 0;
  // Runs `fn` after the current coordinator call has finished changing state.
  virtual void defer(std::function<void()> fn) = 0;
  // Appends `records` durably, then calls `then` (always exactly once).
  virtual void persist(classic_group& g, std::vector<record> records, persist_then then) = 0;

 protected:
  ~group_host() = default;
};

// A member as the group keeps it. The callbacks are the pending JoinGroup / SyncGroup
// responses ("awaiting join" / "awaiting sync"); only the group sets or calls them.
struct member {
  std::string id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  milliseconds session_timeout{0};
  milliseconds rebalance_timeout{0};
  std::string protocol_type;
  std::vector<protocol> protocols;  // preference order
  bytes::buffer assignment;
  time_point last_heartbeat{};  // also: join time of a new member
  uint64_t seq = 0;             // join order; leader succession and listing order follow it
  bool is_new = false;          // joined, never completed a join: the join itself can expire
  join_callback join_cb;
  sync_callback sync_cb;

  bool awaiting_join() const { return bool(join_cb); }
  bool awaiting_sync() const { return bool(sync_cb); }
  bool is_static() const { return instance_id.has_value(); }
  const bytes::buffer* metadata(std::string_view protocol_name) const;
  // Same protocols, metadata and order (Kafka's MemberMetadata.matches).
  bool matches(const std::vector<protocol>& other) const { return protocols == other; }
};

// A committed offset, or a deletion still racing in-flight commits. `seq` orders persisted
// changes: a completion older than the last applied one is ignored, so completions that
// arrive out of order cannot resurrect or roll back an offset.
struct offset_slot {
  std::optional<offset_value> value;
  uint64_t seq = 0;
  int pending = 0;  // commits handed to persist and not finished
};

class classic_group {
 public:
  classic_group(std::string id, uint64_t incarnation, group_host& host);
  classic_group(const classic_group&) = delete;
  classic_group& operator=(const classic_group&) = delete;

  // --- inspection --------------------------------------------------------------------------
  const std::string& id() const { return _id; }
  // Distinguishes a group from a later one of the same id (persist completions check it).
  uint64_t incarnation() const { return _incarnation; }
  group_state state() const { return _state; }
  int32_t generation() const { return _generation; }
  const std::optional<std::string>& protocol_type() const { return _protocol_type; }
  const std::optional<std::string>& protocol_name() const { return _protocol_name; }
  const std::optional<std::string>& leader() const { return _leader; }
  size_t size() const { return _members.size(); }
  const member* find_member(std::string_view id) const;
  std::optional<std::string> static_member_id(std::string_view instance_id) const;
  std::vector<const member*> members() const;  // join order
  size_t pending_member_count() const { return _pending_members.size(); }
  bool is_pending_member(std::string_view id) const { return _pending_members.contains(id); }
  // Topics the members of a "consumer" group subscribe to; nullopt when unknown (another
  // protocol type, or metadata that does not decode), which counts as "every topic".
  const std::optional<std::set<std::string>>& subscribed_topics() const { return _subscribed; }
  bool is_subscribed_to(std::string_view topic) const;
  // Nothing worth keeping: Empty, never rebalanced, no members, offsets or persists in flight.
  bool is_vacant() const;

  // --- group membership (coordinator entry points; see coordinator.h for semantics) ---------
  void join(const join_request& req, time_point now, join_callback cb);
  void sync(const sync_request& req, time_point now, sync_callback cb);
  errc heartbeat(const heartbeat_request& req, time_point now);
  std::vector<member_leave_result> leave(const std::vector<member_identity>& who, time_point now);

  // --- offsets -----------------------------------------------------------------------------
  // Kafka's OffsetCommit validation, including REBALANCE_IN_PROGRESS while completing.
  errc validate_commit(int32_t generation, std::string_view member_id,
                       const std::optional<std::string>& instance_id) const;
  // A commit by a member counts as a heartbeat (Stable, PreparingRebalance).
  void commit_heartbeat(std::string_view member_id, time_point now);
  const std::map<topic_partition, offset_slot>& offsets() const { return _offsets; }
  const offset_value* committed(const topic_partition& tp) const;
  bool has_pending_commit(const topic_partition& tp) const;
  void begin_commit(const topic_partition& tp);
  // Ends a commit begun with begin_commit; applies `v` (if any) unless something newer is.
  void finish_commit(const topic_partition& tp, const offset_value* v, uint64_t seq);
  // Replay: sets an offset directly (unless something newer is applied).
  void apply_commit(const topic_partition& tp, const offset_value& v, uint64_t seq);
  // Removes an offset unless a commit newer than `seq` was applied.
  void apply_delete(const topic_partition& tp, uint64_t seq);

  // --- timers ------------------------------------------------------------------------------
  // The earliest time at which tick() has something to do.
  std::optional<time_point> next_deadline() const;
  // Runs everything due at `now`: expired pending members and sessions, the end of the
  // (initial) rebalance delay, members that never sent SyncGroup.
  void tick(time_point now);

  // --- lifecycle ---------------------------------------------------------------------------
  void mark_dead();  // DeleteGroups accepted (Empty -> Dead) while tombstones are persisted
  void undo_dead();  // the tombstones could not be written: Dead -> Empty again
  // Answers every pending callback with `error`, drops all members; the group becomes Dead.
  void unload(errc error);
  // Replaces membership with a persisted group record (replay): Stable with its members and
  // generation, or Empty; session timers start at `now`.
  result<void> load(const group_value& v, time_point now);
  // A group tombstone replayed while offsets remain: back to a fresh Empty group.
  void reset_metadata();
  // The group record for the current generation; `assignment` overrides members' assignments.
  group_value to_value(const std::map<std::string, bytes::buffer>* assignment = nullptr) const;

  int inflight_persists() const { return _inflight; }
  void persist_started() { ++_inflight; }
  void persist_finished() { --_inflight; }

 private:
  using assignment_map = std::map<std::string, bytes::buffer>;
  enum class join_timer { none, initial, normal };

  // What a static member's rejoin in a Stable group must remember until it is persisted.
  struct static_rejoin {
    std::string instance_id;
    std::string old_id;
    std::string new_id;
    std::vector<protocol> old_protocols;
    milliseconds old_session{0};
    milliseconds old_rebalance{0};
    std::optional<std::string> leader;  // the leader before the rejoin
    int32_t generation = 0;
  };

  // membership primitives
  void transition_to(group_state s);
  void clear_membership(errc error);
  void remove_pending_sync(std::string_view id);
  std::optional<time_point> member_deadline(const member& m) const;
  member* find(std::string_view id);
  void add_member(member m, join_callback cb);
  void remove_member(std::string_view id);
  void update_member(member& m, const join_request& req, join_callback cb);
  member& replace_static_member(const std::string& instance_id, const std::string& old_id,
                                const std::string& new_id);
  void remove_member_and_update_group(std::string_view id, time_point now);
  void inc_protocols(const member& m);
  void dec_protocols(const member& m);

  // join
  bool accept_joining_member(const join_request& req) const;
  bool supports_protocols(std::string_view type, const std::vector<protocol>& protos) const;
  errc validate_current_member(std::string_view member_id,
                               const std::optional<std::string>& instance_id) const;
  void new_member_join(const join_request& req, time_point now, join_callback cb);
  void current_member_join(const join_request& req, time_point now, join_callback cb);
  void add_member_and_rebalance(std::string id, const join_request& req, time_point now,
                                join_callback cb);
  void update_static_member_and_rebalance(const std::string& old_id, std::string new_id,
                                          const join_request& req, time_point now,
                                          join_callback cb);
  void finish_static_rejoin(const static_rejoin& s, errc status, time_point now);
  join_result current_generation_result(const std::string& member_id, bool with_members) const;

  // rebalance
  milliseconds rebalance_timeout() const;
  void maybe_prepare_rebalance(time_point now);
  void prepare_rebalance(time_point now);
  void maybe_complete_join(time_point now);
  void on_join_deadline(time_point now);
  void complete_join(time_point now);
  bool maybe_elect_new_joined_leader();
  void init_next_generation();
  std::string select_protocol() const;
  std::optional<std::set<std::string>> compute_subscribed_topics() const;
  std::vector<join_member> current_member_metadata() const;
  void on_pending_sync_expired(time_point now);

  // sync
  void reset_and_propagate_assignment_error(errc error, time_point now);
  void set_and_propagate_assignment(const assignment_map& a, time_point now);
  void propagate_assignment(errc error, time_point now);
  void persist_group(const assignment_map* a, persist_then then);

  // responses, all deferred
  void respond(join_callback cb, join_result r);
  void respond(sync_callback cb, sync_result r);
  void complete_join_cb(member& m, join_result r);
  void complete_sync_cb(member& m, sync_result r);
  static join_result join_error(std::string member_id, errc e);

  std::string _id;
  uint64_t _incarnation;
  group_host& _host;
  group_state _state = group_state::empty;
  int32_t _generation = 0;
  std::optional<std::string> _protocol_type;
  std::optional<std::string> _protocol_name;
  std::optional<std::string> _leader;
  std::map<std::string, member, std::less<>> _members;
  std::map<std::string, std::string, std::less<>> _static_members;  // instance id -> member id
  std::map<std::string, time_point, std::less<>> _pending_members;  // member id -> expiry
  std::set<std::string, std::less<>> _pending_sync;  // joined this generation, not synced yet
  std::map<std::string, int, std::less<>> _protocol_support;  // protocol -> members supporting
  size_t _awaiting_join = 0;
  uint64_t _next_seq = 0;

  join_timer _join_timer = join_timer::none;
  time_point _join_deadline{};
  milliseconds _initial_delay{0};      // the current initial-delay step
  milliseconds _initial_remaining{0};  // how much longer it may still be extended
  bool _new_member_added = false;
  std::optional<time_point> _pending_sync_deadline;

  std::optional<std::set<std::string>> _subscribed;
  std::map<topic_partition, offset_slot> _offsets;
  int _inflight = 0;
};

}  // namespace tern::group
