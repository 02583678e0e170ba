#pragma once
// The delivery state of one queue (shared/DESIGN.md: "a queue is one log plus delivery
// state"): which messages are ready, which are out with which consumer, how often each came
// back, and what the length limits, priorities and expiry do to them. Messages themselves are
// in the queue's log; here each one is a small `message_meta` keyed by its log offset.
//
// Sans I/O and without a clock of its own: the caller (broker::queue) passes `now`, reads
// message bytes from the log, journals removals and talks to consumers. Owned by the queue's
// shard; not thread safe.
//
//   enqueue ──► ready ──next_delivery()/get()──► unacked ──ack()──────► removed
//                 ▲                                  │
//                 └───────────requeue()──────────────┘   (count > delivery limit: dead)
//   ready ──expiry / drop-head / purge──► removed        unacked ──reject()──► removed
//
// Every removal is recorded in `take_removed()` so the caller can journal it (restart then
// redelivers exactly what was not removed), and removals a dead-letter exchange may want
// (expired, maxlen, rejected, delivery_limit) come back to the caller with their reason.
//
// Ordering: ready messages leave highest priority first and, within a priority, in log
// order; a requeued message goes back to its place by offset (as RabbitMQ's classic queues
// do). Expiry is checked at the head of each priority level, as RabbitMQ does: a message
// behind one that never expires waits for it.

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tern::broker {

enum class overflow_policy : uint8_t { drop_head, reject_publish, reject_publish_dlx };

// Why a message left the queue other than by an ack: RabbitMQ's x-death reasons.
enum class removal_reason : uint8_t { rejected, expired, maxlen, delivery_limit };
const char* removal_reason_name(removal_reason r);

struct queue_limits {
  int64_t max_length = -1;        // ready messages; -1 = unlimited
  int64_t max_length_bytes = -1;  // ready message bodies; -1 = unlimited
  overflow_policy overflow = overflow_policy::drop_head;
  int32_t delivery_limit = -1;  // returns allowed before dead-lettering; -1 = unlimited
  uint8_t max_priority = 0;     // 0 = no priorities
  bool single_active_consumer = false;
};

struct message_meta {
  int64_t offset = 0;
  uint32_t body_size = 0;
  uint8_t priority = 0;
  bool redelivered = false;     // delivered before (perhaps before a restart)
  uint32_t delivery_count = 0;  // returns to the queue after a delivery (x-delivery-count)
  int64_t expires_at_ms = -1;   // -1 = never
};

// A consumer of the queue (one basic.consume).
using consumer_id = uint64_t;
// Who holds unacked deliveries: a channel. Its consumers' deliveries and its basic.get
// deliveries are held by it; cancelling a consumer leaves them held (they can still be acked,
// as in AMQP), closing the channel returns them (release()).
using holder_id = uint64_t;

struct removed_message {
  message_meta meta;
  removal_reason reason;
};

class queue_state {
 public:
  explicit queue_state(queue_limits limits) : _limits(limits) {
    _ready.resize(size_t(limits.max_priority) + 1);
  }

  const queue_limits& limits() const { return _limits; }

  enum class enqueue_status { accepted, rejected };
  struct enqueue_outcome {
    enqueue_status status = enqueue_status::accepted;
    std::vector<removed_message> dropped;  // drop-head victims (reason maxlen)
  };
  // Adds a newly appended message, applying x-max-length / x-max-length-bytes. Under
  // reject-publish the message is refused when the queue is full (the caller nacks the
  // publisher; with reject-publish-dlx it dead-letters it); the refused message is recorded
  // as removed, since it is in the log already.
  enqueue_outcome enqueue(message_meta m);
  // Whether enqueue() would refuse a message of this size (reject-publish policies), so the
  // caller need not write it to the log first.
  bool refuses(uint32_t body_size) const {
    return _limits.overflow != overflow_policy::drop_head && over_limits(body_size, 1);
  }
  // Restores a message found in the log at start-up: no limits, no drops.
  void restore(message_meta m);

  // ---- consumers ----
  // `c`'s deliveries are held by `h`.
  void add_consumer(consumer_id c, holder_id h);
  void remove_consumer(consumer_id c);
  // Returns everything `h` holds to the ready set (as requeue() does: counted as returns).
  // Returns what passed the delivery limit instead.
  std::vector<removed_message> release(holder_id h);
  bool has_consumer(consumer_id c) const;
  size_t consumer_count() const { return _consumers.size(); }
  // Under single-active-consumer: the one consumer that may receive (the oldest); else none.
  std::optional<consumer_id> active_consumer() const;

  struct delivery {
    consumer_id consumer;
    holder_id holder;
    message_meta meta;
  };
  // Picks the next ready message and the consumer to get it (round-robin over consumers for
  // which `can_take` is true), moving it to unacked (or removing it for a no-ack consumer, as
  // told by `no_ack`). Expired head messages met on the way are appended to `expired`.
  std::optional<delivery> next_delivery(int64_t now_ms,
                                        const std::function<bool(consumer_id)>& can_take,
                                        const std::function<bool(consumer_id)>& no_ack,
                                        std::vector<removed_message>& expired);
  // basic.get: the next ready message, held by `holder` unless `no_ack`.
  std::optional<message_meta> get(int64_t now_ms, holder_id holder, bool no_ack,
                                  std::vector<removed_message>& expired);

  // ---- settling deliveries ----
  // The unacked message at `offset` if `holder` holds it.
  const message_meta* unacked(int64_t offset, holder_id holder) const;
  bool ack(int64_t offset, holder_id holder);
  // nack/reject without requeue: removed, returned for dead-lettering (reason rejected).
  std::optional<removed_message> reject(int64_t offset, holder_id holder);
  // Back to ready, with its return counted. nullopt if it went back; past the delivery limit
  // it is removed instead and returned (reason delivery_limit). `*found` tells whether
  // `holder` held it at all.
  std::optional<removed_message> requeue(int64_t offset, holder_id holder, bool* found);
  // Offsets of everything `holder` has unacked, lowest first.
  std::vector<int64_t> unacked_of(holder_id holder) const;

  // Removes every ready message (not the unacked ones); returns how many.
  size_t purge();
  // Removes expired messages at the heads; returns them.
  std::vector<removed_message> expire(int64_t now_ms);
  // The earliest expiry among the heads of the priority levels; -1 if none expires.
  int64_t next_expiry() const;

  size_t ready_count() const { return _ready_count; }
  uint64_t ready_bytes() const { return _ready_bytes; }
  size_t unacked_count() const { return _unacked.size(); }
  // The lowest offset still held (ready or unacked); -1 when there is none. Everything
  // below it can be deleted from the log.
  int64_t lowest_live_offset() const;

  // Offsets removed since the last call, for the journal.
  std::vector<int64_t> take_removed() { return std::exchange(_removed, {}); }

 private:
  struct held {
    message_meta meta;
    holder_id holder;
  };
  std::deque<message_meta>& level_of(uint8_t priority) {
    return _ready[priority > _limits.max_priority ? _limits.max_priority : priority];
  }
  void push_ready(message_meta m);
  // Removes the head of the highest non-empty level; nullopt when none.
  std::optional<message_meta> pop_ready(int64_t now_ms, std::vector<removed_message>& expired);
  bool over_limits(uint64_t extra_bytes, size_t extra_count) const;
  void removed(int64_t offset) { _removed.push_back(offset); }

  queue_limits _limits;
  std::vector<std::deque<message_meta>> _ready;  // [priority], each ordered by offset
  size_t _ready_count = 0;
  uint64_t _ready_bytes = 0;
  std::unordered_map<int64_t, held> _unacked;  // by offset
  struct consumer {
    consumer_id id;
    holder_id holder;
  };
  std::vector<consumer> _consumers;  // in registration order
  size_t _next_consumer = 0;                   // round-robin cursor into _consumers
  std::vector<int64_t> _removed;
};

}  // namespace tern::broker
