#pragma once
// Kafka consumer groups on top of group::coordinator (src/group, sans-I/O): this adds the
// shards, the clock, the timers and the durable offsets log.
//
// Placement: groups are spread over the partitions of the internal topic __consumer_offsets
// (partition_of(group) = fnv1a(group) mod its partition count, fixed when the topic is
// created), and a group's coordinator lives on the shard that owns its partition, so its
// records are appended without leaving the shard. One group::coordinator per shard.
//
// Durability: every state change the coordinator wants persisted (group metadata after a
// rebalance, offset commits, deletions) is appended to the group's offsets partition and
// acknowledged only once durable, exactly like an acks=all produce. At start each shard
// replays its offsets partitions into its coordinator before any request is served.
// The offsets topic is compacted (cleanup.policy=compact, like Kafka's): only the last record
// of each offset and group key is kept, and tombstones of deleted groups and offsets go after
// delete.retention.ms, so the log (and the replay at start) stays proportional to the live
// state rather than to the number of commits.
//
// Threading: call() may be used from any shard; it hops to the group's shard, runs the
// operation there and resumes the caller on its own shard.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "broker/broker.h"
#include "group/coordinator.h"
#include "net/asio.h"
#include "net/shard.h"

namespace tern::kafka {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

struct group_service_config {
  group::coordinator_config coordinator;
  int32_t offsets_partitions = 16;  // used only when the offsets topic is created
  // segment.bytes of the offsets topic (offsets.topic.segment.bytes): only closed segments
  // are compacted, so this bounds what a busy group leaves uncompacted. Applied at every
  // start, also to an existing topic.
  int64_t offsets_segment_bytes = 100ll << 20;
};

class group_service {
 public:
  group_service(broker::broker& b, net::shard_set& shards, group_service_config cfg);
  ~group_service();
  group_service(const group_service&) = delete;
  group_service& operator=(const group_service&) = delete;

  // Creates the offsets topic if it is missing, replays it into each shard's coordinator and
  // starts the timers. Run on shard 0 after broker::start().
  net::awaitable<result<void>> start();
  // Stops the timers (before broker::stop()). Run on shard 0.
  net::awaitable<void> stop();

  unsigned shard_of_group(const std::string& group_id) const;
  unsigned shard_count() const { return _shards.count(); }

  // Runs `op(coordinator, now, done)` on the group's shard; the result is what the operation
  // passes to `done` (which it may call before returning or later, exactly once).
  //
  //   auto r = co_await groups.call<group::join_result>(req.group_id,
  //       [&](group::coordinator& c, group::time_point now, auto done) {
  //         c.join(std::move(jreq), now, std::move(done));
  //       });
  template <class R>
  using operation =
      std::function<void(group::coordinator&, group::time_point, std::function<void(R)>)>;
  template <class R>
  net::awaitable<R> call(const std::string& group_id, operation<R> op) {
    return call_on<R>(shard_of_group(group_id), std::move(op));
  }
  // The same on a given shard (ListGroups asks every shard).
  template <class R>
  net::awaitable<R> call_on(unsigned shard, operation<R> op);

 private:
  struct shard_state;

  // Appends `records` to their groups' offsets partitions; done(true) once all are durable.
  void persist(unsigned shard, std::vector<group::record> records,
               std::function<void(bool)> done);
  net::awaitable<result<void>> replay_partition(unsigned shard, int32_t partition);
  net::awaitable<void> timer_loop(unsigned shard);
  void rearm(unsigned shard);  // after each operation: the next deadline may be earlier
  int32_t partition_of(const std::string& group_id) const;

  broker::broker& _broker;
  net::shard_set& _shards;
  group_service_config _cfg;
  int32_t _partitions = 0;  // of the offsets topic, known after start()
  std::vector<std::unique_ptr<shard_state>> _state;  // [shard], touched only on that shard
};

// ---- implementation of the template ----

struct group_service::shard_state {
  explicit shard_state(net::asio::any_io_executor ex) : timer(ex) {}
  std::unique_ptr<group::coordinator> coordinator;
  net::asio::steady_timer timer;
  bool stopping = false;
};

template <class R>
net::awaitable<R> group_service::call_on(unsigned shard, operation<R> op) {
  co_return co_await _shards.invoke_on(shard, [this, shard, &op]() -> net::awaitable<R> {
    auto& st = *_state[shard];
    auto ex = co_await net::asio::this_coro::executor;
    R out = co_await net::asio::async_initiate<decltype(net::asio::use_awaitable), void(R)>(
        [&](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          // The answer is posted, never resumed inline: the coordinator may be in the middle
          // of a loop over its members when it calls back.
          op(*st.coordinator, group::clock::now(), [h, ex](R r) {
            net::asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
          });
          rearm(shard);
        },
        net::asio::use_awaitable);
    rearm(shard);
    co_return out;
  });
}

}  // namespace tern::kafka
