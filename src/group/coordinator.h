#pragma once
// coordinator: the Kafka group coordinator of one shard, sans I/O. It owns the groups whose
// ids the caller routes to it (by hash of the group id), answers the group APIs, produces the
// records that make groups and committed offsets durable, and rebuilds itself from them.
//
// Threading: one coordinator per shard, used only from that shard's thread; not thread-safe.
// Time: every call takes `now` (monotonic); nothing happens between calls. The caller calls
// tick(now) when next_deadline() says so (and whenever convenient: early ticks are harmless).
//
// Responses: JoinGroup and SyncGroup responses wait for the rebalance; OffsetCommit,
// OffsetDelete and DeleteGroups responses wait for persistence. Those take a callback. Every
// callback passed in is called exactly once, on this thread, from inside some coordinator call
// (the same one or a later one: a tick, a persist completion, unload()), never while the
// coordinator is half-way through a change. A callback may call the coordinator again, except
// from the destructor's unload().
//
// Persistence contract: the coordinator calls the `persist` hook with records to append to
// the internal log (records.h) and a `done(ok)` to call exactly once when they are durable
// (ok = true) or cannot be written (ok = false), from this shard's thread, synchronously or
// later. Records of successive calls must be appended in call order. It persists:
//   - the group record when the leader's SyncGroup completes a rebalance; the group turns
//     Stable and assignments go out only after done(true); on done(false) every waiting
//     SyncGroup gets COORDINATOR_NOT_AVAILABLE and the group rebalances again;
//   - the group record when a static member rejoins a Stable group without a rebalance (its
//     JoinGroup is answered after done(true); on failure the member keeps its old id);
//   - the group record when a generation ends up with no members (failure only logged);
//   - offset records on OffsetCommit: offsets become visible to OffsetFetch, and the response
//     goes out, after done; on failure the partitions get COORDINATOR_NOT_AVAILABLE;
//   - tombstones on OffsetDelete and DeleteGroups, applied after done(true).
// done() after the coordinator is destroyed, or a second time, is ignored. unload() answers
// everything still pending (NOT_COORDINATOR) without waiting for outstanding done() calls.
//
// Startup: replay() every record of the log in order, then serve.

#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <span>

#include "group/group.h"

namespace tern::group {

class coordinator final : private group_host {
 public:
  using persist_fn =
      std::function<void(std::vector<record> records, std::function<void(bool ok)> done)>;

  // An empty `persist` makes every persist succeed at once (tests, tools).
  explicit coordinator(coordinator_config config = {}, persist_fn persist = {});
  ~coordinator();  // unload()s
  coordinator(const coordinator&) = delete;
  coordinator& operator=(const coordinator&) = delete;

  // --- membership --------------------------------------------------------------------------
  // JoinGroup v0-9 semantics (no KIP-814 skip-assignment). Creates the group when member_id is
  // empty. Errors: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, UNKNOWN_MEMBER_ID,
  // MEMBER_ID_REQUIRED (v4+, with the new id), INCONSISTENT_GROUP_PROTOCOL,
  // GROUP_MAX_SIZE_REACHED, FENCED_INSTANCE_ID, COORDINATOR_NOT_AVAILABLE (group being
  // deleted, or a newer JoinGroup of the same member replaced this one).
  void join(join_request req, time_point now, join_callback cb);
  // SyncGroup. In CompletingRebalance, waits for the leader's assignment and its persistence.
  void sync(sync_request req, time_point now, sync_callback cb);
  errc heartbeat(const heartbeat_request& req, time_point now);
  leave_result leave(const leave_request& req, time_point now);

  // --- offsets -----------------------------------------------------------------------------
  // What an OffsetCommit with these credentials would be answered before anything is written.
  errc validate_commit(std::string_view group_id, int32_t generation_id, std::string_view member_id,
                       const std::optional<std::string>& group_instance_id) const;
  // OffsetCommit: validate, persist the offsets, then apply them and answer per partition.
  // A simple commit (generation < 0) to an unknown group creates it, Empty.
  void commit_offsets(offset_commit_request req, time_point now, offset_commit_callback cb);
  // OffsetFetch; `partitions` nullopt: every committed offset of the group. With
  // `require_stable`, partitions with a commit in flight answer UNSTABLE_OFFSET_COMMIT.
  offset_fetch_result fetch_offsets(std::string_view group_id,
                                    const std::optional<std::vector<topic_partition>>& partitions,
                                    bool require_stable = false) const;
  // OffsetDelete: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP (an active non-consumer group), or per
  // partition GROUP_SUBSCRIBED_TO_TOPIC when an active consumer group subscribes to it.
  void delete_offsets(std::string group_id, std::vector<topic_partition> partitions, time_point now,
                      offset_delete_callback cb);

  // --- administration ----------------------------------------------------------------------
  // ListGroups; `states` filters by state name (case-insensitive), empty = all.
  std::vector<group_overview> list_groups(std::span<const std::string> states = {}) const;
  // DescribeGroups for one group; an unknown group is "Dead" with no error, like Kafka.
  group_description describe_group(std::string_view group_id) const;
  // DeleteGroups: NON_EMPTY_GROUP unless Empty, GROUP_ID_NOT_FOUND if unknown; else the group
  // is Dead at once and erased with its offsets after the tombstones are persisted.
  void delete_groups(std::vector<std::string> group_ids, time_point now, delete_groups_callback cb);

  // --- time --------------------------------------------------------------------------------
  // Expires sessions and pending member ids, ends (initial) rebalance delays and timeouts,
  // removes members that never synced.
  void tick(time_point now);
  // When tick() next has something to do; nullopt when nothing is scheduled.
  std::optional<time_point> next_deadline() const;

  // --- lifecycle ---------------------------------------------------------------------------
  // Applies one record of the internal log (log order; last record of a key wins; tombstones
  // delete). Groups with members come back Stable, their sessions starting at `now`. A
  // record that does not decode is refused with a decode_errc and changes nothing.
  result<void> replay(const record& r, time_point now);
  // Drops every group, answering all pending callbacks with NOT_COORDINATOR (shard shutdown,
  // or the group partition moving away). The coordinator stays usable, empty.
  void unload();

  // --- inspection --------------------------------------------------------------------------
  const classic_group* find(std::string_view group_id) const;
  size_t group_count() const { return _groups.size(); }

 private:
  class scope;
  struct inflight_op {
    std::string group_id;
    uint64_t incarnation = 0;
    persist_then then;
  };

  // group_host
  const coordinator_config& config() const override { return _config; }
  std::string new_member_id(const classic_group& g, std::string_view prefix) override;
  void defer(std::function<void()> fn) override;
  void persist(classic_group& g, std::vector<record> records, persist_then then) override;

  template <class Callback, class Result>
  void respond(Callback cb, Result r) {
    if (!cb) return;
    defer([cb = std::move(cb), r = std::move(r)]() mutable { cb(std::move(r)); });
  }

  classic_group* find_mut(std::string_view group_id);
  classic_group& get_or_create(std::string_view group_id);
  void touch(std::string_view group_id) { _touched.emplace_back(group_id); }
  void settle();
  void after(const std::string& group_id);
  void reindex(const classic_group& g);
  void unindex(const std::string& group_id);
  void erase(const std::string& group_id);
  void drain();
  void on_persist_done(uint64_t op, bool ok);

  coordinator_config _config;
  persist_fn _persist;
  std::map<std::string, std::unique_ptr<classic_group>, std::less<>> _groups;
  // Deadline index: (deadline, group id), and each group's entry in it.
  std::set<std::pair<time_point, std::string>> _deadlines;
  std::map<std::string, time_point, std::less<>> _deadline_of;
  std::map<uint64_t, inflight_op> _inflight;
  std::deque<std::function<void()>> _outbox;
  std::vector<std::string> _touched;
  bool _draining = false;
  time_point _now{};
  uint64_t _next_incarnation = 0;
  uint64_t _next_op = 0;
  uint64_t _seq = 0;  // orders offset changes (commits, deletions, replay)
  std::shared_ptr<int> _alive = std::make_shared<int>(0);
  std::mt19937_64 _rng;
};

}  // namespace tern::group
