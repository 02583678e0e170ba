#pragma once
// A basic.consume as its queue sees it (broker::consumer_sink): takes prefetch credit on the
// queue's shard and hands deliveries over to the channel's shard. Internal to src/amqp.

#include <atomic>
#include <memory>
#include <string>

#include "broker/queue.h"
#include "broker/queue_service.h"
#include "net/asio.h"

namespace tern::amqp {

class channel;

// Takes one unit from a counter if it has one (never below zero).
inline bool take_credit(std::atomic<int64_t>& c) {
  int64_t v = c.load(std::memory_order_relaxed);
  while (v > 0)
    if (c.compare_exchange_weak(v, v - 1, std::memory_order_acq_rel)) return true;
  return false;
}

struct consumer_link final : broker::consumer_sink {
  // Deliveries stop while the connection has this much output not yet written.
  static constexpr int64_t kMaxPendingOutput = 4 << 20;

  std::weak_ptr<channel> ch;
  net::asio::any_io_executor home;  // the channel's shard
  std::string tag;
  broker::queue_ref q;
  bool no_ack = false;                // no credit needed: nothing comes back
  bool limited = false;               // per-consumer prefetch in force
  std::atomic<int64_t> credit{0};     // per-consumer prefetch left (when limited)
  std::shared_ptr<std::atomic<int64_t>> channel_credit;
  std::shared_ptr<std::atomic<bool>> flow_active;
  std::shared_ptr<std::atomic<int64_t>> pending_output;  // the connection's
  std::atomic<bool> blocked{false};  // a try_acquire failed: poke the queue when it may not

  bool try_acquire() override {
    if (!flow_active->load() || pending_output->load() > kMaxPendingOutput) {
      blocked = true;
      return false;
    }
    if (no_ack) return true;
    if (limited && !take_credit(credit)) {
      blocked = true;
      return false;
    }
    if (!take_credit(*channel_credit)) {
      if (limited) credit.fetch_add(1);
      blocked = true;
      return false;
    }
    return true;
  }

  void deliver(broker::delivered_message m) override;
  void cancelled() override;
};

}  // namespace tern::amqp
