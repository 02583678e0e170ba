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

#include "net/asio.h"
#include "storage/log.h"

namespace tern::broker {

class partition : public std::enable_shared_from_this<partition> {
 public:
  partition(std::string topic, int32_t id, std::unique_ptr<storage::log> log)
      : _topic(std::move(topic)), _id(id), _log(std::move(log)) {}

  const std::string& topic() const { return _topic; }
  int32_t id() const { return _id; }
  storage::log& log() { return *_log; }

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
};

}  // namespace tern::broker
