#pragma once
// A queue (shared/DESIGN.md): one log of messages plus the delivery state over it.
//
//   dir/log/       the messages, one record each (record format below), a storage::log
//   dir/journal/   what left the queue: removed offsets, return counts, the delivered mark;
//                  a storage::log too, so torn tails are recovered the same way
//
// Lifecycle and shard affinity: opened on its owner shard (queue_registry decides which) and
// used only there, except through the thread-safe consumer_sink it calls. Held by shared_ptr:
// channels keep the queues they hold deliveries from alive past a delete.
//
// Durability: publish() appends the message to the page cache at once and the consumers may
// see it at once; `done` runs when it is safe — after the group-commit fdatasync for a
// persistent message in a durable queue (publisher confirms wait for that), immediately
// otherwise. Removals are journaled lazily (page cache, synced each second): a crash of the
// process loses none of them, a crash of the machine may redeliver the last second's acks,
// which at-least-once allows. On open, the queue holds exactly the persistent messages of
// the log that the journal does not mark removed; transient messages and non-durable queues
// do not survive a restart.
//
// Record format (a Kafka record, so the log is a normal Tern log):
//   key = routing key, value = body, timestamp = publish time, headers:
//     "tern.exchange"    the exchange it was published to
//     "tern.properties"  the protocol's properties, opaque here (AMQP: flags + property list)
//     "tern.meta"        u8 version (1), u8 flags (bit 0 persistent), u8 priority,
//                        i64 expires_at_ms (-1 = never)

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "broker/offset_ranges.h"
#include "broker/queue_state.h"
#include "bytes/buffer.h"
#include "net/asio.h"
#include "storage/file.h"
#include "storage/flusher.h"
#include "storage/log.h"

namespace tern::broker {

// A message as a protocol hands it to the queues it was routed to. Immutable once shared: one
// publish routed to several queues, perhaps on several shards, shares one.
struct queue_message {
  std::string exchange;
  std::string routing_key;
  bytes::buffer properties;  // the protocol's properties, opaque to the broker
  bytes::buffer body;
  bool persistent = false;
  uint8_t priority = 0;
  int64_t ttl_ms = -1;  // per-message TTL (AMQP expiration); -1 = none
  int64_t timestamp_ms = 0;
};
using message_ptr = std::shared_ptr<const queue_message>;

// The queue's own settings: fixed at declaration (AMQP queue.declare arguments).
struct queue_settings {
  bool durable = true;
  bool exclusive = false;
  bool auto_delete = false;
  queue_limits limits;
  int64_t message_ttl_ms = -1;  // x-message-ttl; -1 = none
  int64_t expires_ms = -1;      // x-expires: deleted after this long unused; -1 = never
  std::optional<std::string> dead_letter_exchange;
  std::optional<std::string> dead_letter_routing_key;
  // x-queue-type=quorum: deliveries of a message that came back carry x-delivery-count (the
  // protocol adds it from delivered_message::delivery_count), as RabbitMQ's quorum queues do.
  bool quorum = false;
};

struct delivered_message {
  int64_t offset = 0;  // the message's id in the queue (what acks name)
  bool redelivered = false;
  uint32_t delivery_count = 0;
  message_ptr message;
};

// A consumer's side, implemented by the protocol. Called on the queue's shard; the
// implementation hands deliveries over to its own shard itself.
class consumer_sink {
 public:
  virtual ~consumer_sink() = default;
  // Takes one unit of credit (prefetch window, socket buffer) if there is one: the queue
  // calls deliver() exactly once after each true.
  virtual bool try_acquire() = 0;
  virtual void deliver(delivered_message m) = 0;
  // The queue is gone (deleted): the consumer no longer exists.
  virtual void cancelled() = 0;
};

struct queue_env {
  storage::file_system* fs = nullptr;
  storage::flusher* flusher = nullptr;
  storage::poster post;  // runs a callback on the queue's shard
  net::asio::any_io_executor executor;
  clock_fn now = system_now_ms;
  unsigned shard = 0;
  storage::log_config log_defaults;  // segment size etc.
};

struct queue_stats {
  size_t ready = 0;
  size_t unacked = 0;
  size_t consumers = 0;
  uint64_t ready_bytes = 0;
  uint64_t log_bytes = 0;
};

class queue : public std::enable_shared_from_this<queue> {
 public:
  // Opens (creating or recovering) the queue in `dir`. A non-durable queue starts empty:
  // whatever a previous run left in `dir` is deleted. Blocks on disk I/O (start-up, declare).
  static result<std::shared_ptr<queue>> open(const queue_env& env, std::string name,
                                             std::filesystem::path dir, queue_settings settings);
  ~queue();

  const std::string& name() const { return _name; }
  const queue_settings& settings() const { return _settings; }
  unsigned shard() const { return _env.shard; }

  enum class publish_status { ok, rejected, failed };
  // Appends `m` and offers it to the consumers. `done` runs on this shard: ok once it is
  // safe (see the header comment); rejected when x-overflow=reject-publish refused it;
  // failed when the disk did. Non-persistent messages skip the sync.
  void publish(message_ptr m, std::function<void(publish_status)> done);

  // Called with a message that leaves the queue for a reason a dead-letter exchange cares
  // about (only when the queue has one). On this shard.
  using dead_letter_fn =
      std::function<void(const queue& from, message_ptr m, removal_reason why)>;
  void set_dead_letter_hook(dead_letter_fn fn) { _dead_letter = std::move(fn); }
  // Called (on this shard) when the last consumer of an auto-delete queue is cancelled.
  void set_unused_hook(std::function<void()> fn) { _unused = std::move(fn); }

  // ---- consumers and holders (a holder is a channel; see queue_state.h) ----
  // False (and nothing registered) when an exclusive consumer is present, or when `exclusive`
  // is asked while others consume.
  bool add_consumer(consumer_id id, holder_id holder, std::shared_ptr<consumer_sink> sink,
                    bool no_ack, bool exclusive);
  void cancel_consumer(consumer_id id);
  // A consumer may have new credit: deliver what it can take.
  void dispatch();

  struct get_result {
    std::optional<delivered_message> message;
    size_t remaining = 0;  // ready messages left (basic.get-ok's message-count)
  };
  get_result get(holder_id holder, bool no_ack);

  void ack(holder_id holder, std::span<const int64_t> offsets);
  // Without requeue: dead-lettered (reason rejected) or dropped.
  void nack(holder_id holder, std::span<const int64_t> offsets, bool requeue);
  // The channel is gone: everything it holds goes back to the queue.
  void release(holder_id holder);
  // basic.recover(requeue=true) is release(); this is the list a redelivery needs.
  std::vector<int64_t> held_by(holder_id holder) const { return _state.unacked_of(holder); }

  size_t purge();
  queue_stats stats() const;
  int64_t last_used_ms() const { return _last_used_ms; }

  // Periodic work on this shard: expires messages, deletes the log below the oldest live
  // message, snapshots and trims the journal, syncs it.
  void housekeeping();

  // Cancels the consumers (delete) and closes the logs; with `remove_files` deletes them.
  result<void> close(bool remove_files);

 private:
  queue(const queue_env& env, std::string name, std::filesystem::path dir,
        queue_settings settings);
  result<void> recover();
  result<message_ptr> read_message(int64_t offset);
  message_ptr cached_or_read(int64_t offset);
  void after_removals(std::vector<removed_message> removed);
  void journal_removed();
  void write_journal();
  void write_journal_snapshot();
  void arm_expiry_timer();
  void touch() { _last_used_ms = _env.now(); }

  struct consumer_entry {
    std::shared_ptr<consumer_sink> sink;
    bool no_ack = false;
    bool exclusive = false;
  };

  queue_env _env;
  std::string _name;
  std::filesystem::path _dir;
  queue_settings _settings;
  std::unique_ptr<storage::log> _log;
  std::unique_ptr<storage::log> _journal;
  queue_state _state;
  std::unordered_map<consumer_id, consumer_entry> _consumers;
  // Messages published in this run, until they leave the queue: deliveries need no read.
  std::unordered_map<int64_t, message_ptr> _cache;
  uint64_t _cache_bytes = 0;
  offset_ranges _removed;            // removed offsets at or above the log start
  std::vector<int64_t> _unjournaled;  // removed, not yet in the journal
  // Returns (requeues) of messages still in the queue: x-delivery-count survives a restart.
  std::unordered_map<int64_t, uint32_t> _return_counts;
  std::vector<std::pair<int64_t, uint32_t>> _unjournaled_returns;
  bool _journal_flush_posted = false;
  int64_t _delivered_mark = -1;  // highest offset ever delivered (journaled lazily)
  int64_t _journaled_mark = -1;
  std::unique_ptr<net::asio::steady_timer> _expiry_timer;
  int64_t _expiry_armed_for = -1;
  int64_t _last_used_ms = 0;
  bool _closed = false;
  dead_letter_fn _dead_letter;
  std::function<void()> _unused;
  bool _had_consumer = false;
};

}  // namespace tern::broker
