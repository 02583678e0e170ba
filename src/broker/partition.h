#pragma once
// One partition of a topic on its owner shard: the log plus the consumers waiting for data.
// Created, used and destroyed only on the shard that owns it (broker::shard_of). Held by
// shared_ptr: a pending flush keeps it alive past the deletion of its topic.
//
// Visibility: consumers read up to the log's high watermark, which under flush.policy=always
// is the durable end of the log. A produce therefore becomes visible to consumers at the same
// moment it is acknowledged, and a consumer never sees a message that a crash could still
// take away.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/producer_state.h"
#include "net/asio.h"
#include "storage/file.h"
#include "storage/flusher.h"
#include "storage/log.h"

namespace tern::broker {

class partition : public std::enable_shared_from_this<partition> {
 public:
  partition(std::string topic, int32_t id, std::unique_ptr<storage::log> log)
      : _topic(std::move(topic)), _id(id), _log(std::move(log)) {}

  const std::string& topic() const { return _topic; }
  int32_t id() const { return _id; }
  storage::log& log() { return *_log; }

  // Idempotent-producer state (producer_state.h), rebuilt by recover_producers() at open.
  producer_state_table& producers() { return _producers; }

  // Loads the newest producer-state snapshot at or below the log end and replays the log
  // after it. Runs at open, on the owner shard, before the partition serves requests; it
  // reads the log synchronously (bounded by the snapshot interval).
  result<void> recover_producers(storage::file_system& fs, int64_t now_ms);

  // Writes a producer-state snapshot at the log end on a flusher thread when the table has
  // changed since the last one; with `sync_now` (clean shutdown) writes it inline instead.
  void maybe_snapshot_producers(storage::file_system& fs, storage::flusher& flusher,
                                storage::poster post, bool sync_now);
  void mark_producers_changed() { _producers_changed = true; }

  // Calls `wake` (on this shard) as soon as the high watermark is above `offset`: at once if
  // it already is. A waiter whose `alive` has expired is dropped without being called.
  void add_waiter(int64_t offset, std::weak_ptr<void> alive, std::function<void()> wake);

  // Wakes the waiters that can now make progress; called whenever the high watermark moves.
  void notify_waiters();

  // Requests a flush (group commit); `done` runs on this shard when it completes. Waiters are
  // notified first, so consumers see data no later than producers get their ack.
  void flush(std::function<void(std::error_code)> done);

  // Awaits the durability of everything appended so far.
  net::awaitable<std::error_code> flush_awaitable();

 private:
  struct waiter {
    int64_t offset;
    std::weak_ptr<void> alive;
    std::function<void()> wake;
  };

  std::string _topic;
  int32_t _id;
  std::unique_ptr<storage::log> _log;
  std::vector<waiter> _waiters;
  producer_state_table _producers;
  bool _producers_changed = false;
  bool _snapshot_in_flight = false;
};

}  // namespace tern::broker
