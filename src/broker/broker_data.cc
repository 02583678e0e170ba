// The data path: produce, read, offsets and long-poll waits, each run on the partition's
// owner shard.
#include "base/logger.h"
#include "broker/broker.h"

namespace tern::broker {

net::awaitable<produce_result> broker::produce(const std::string& topic, int32_t partition,
                                               std::vector<std::span<uint8_t>> batches,
                                               bool wait_durable) {
  co_return co_await _shards.invoke_on(
      shard_of(topic, partition), [&]() -> net::awaitable<produce_result> {
        produce_result out;
        auto p = local_partition(topic, partition);
        if (!p) {
          out.error = errc::unknown_topic_or_partition;
          co_return out;
        }
        auto& log = p->log();
        uint32_t max_bytes = log.config().max_message_bytes;
        for (auto& b : batches) {
          if (b.size() > max_bytes) {
            out.error = errc::record_too_large;
            co_return out;
          }
        }
        // Idempotence: from check() to the last record() nothing may interleave (no co_await).
        std::vector<producer_batch> producers;
        std::vector<int64_t> max_timestamps;
        producers.reserve(batches.size());
        for (auto& b : batches) {
          auto h = storage::parse_batch_header(b);
          if (!h) {
            out.error = h.error();
            co_return out;
          }
          producers.push_back(producer_batch::of(*h));
          max_timestamps.push_back(h->max_timestamp);
        }
        auto& table = p->producers();
        auto verdict = table.check(producers);
        switch (verdict.outcome) {
          case check_outcome::append: break;
          case check_outcome::duplicate: {
            // A retry of batches already in the log: answer with their offsets once they are
            // durable (the original append may still be waiting for its flush).
            out.base_offset = verdict.original.first_offset();
            out.log_start_offset = log.log_start_offset();
            if (wait_durable) {
              if (auto ec = co_await p->flush_awaitable()) out.error = ec;
            }
            co_return out;
          }
          case check_outcome::out_of_order_sequence:
            out.error = errc::out_of_order_sequence;
            co_return out;
          case check_outcome::invalid_producer_epoch:
            out.error = errc::invalid_producer_epoch;
            co_return out;
          case check_outcome::unknown_producer_id:
            out.error = errc::unknown_producer_id;
            co_return out;
          case check_outcome::invalid_record:
            out.error = errc::invalid_producer_fields;
            co_return out;
        }
        const int64_t now = system_now_ms();
        for (size_t i = 0; i < batches.size(); ++i) {
          auto r = log.append(batches[i]);
          if (!r) {
            out.error = r.error();
            break;
          }
          if (producers[i].idempotent()) {
            table.record(producers[i], offset{r->base_offset}, offset{r->last_offset},
                         r->log_append_time != -1 ? r->log_append_time : max_timestamps[i], now);
            p->mark_producers_changed();
          }
          if (out.base_offset < 0) {
            out.base_offset = r->base_offset;
            out.log_append_time = r->log_append_time;
          }
        }
        out.log_start_offset = log.log_start_offset();
        if (out.base_offset < 0) co_return out;
        p->notify_waiters();  // policies where appended data is readable at once
        if (wait_durable) {
          if (auto ec = co_await p->flush_awaitable(); ec && !out.error) out.error = ec;
        } else {
          p->flush(nullptr);  // advances the durable end, and so what consumers may read
        }
        co_return out;
      });
}

net::awaitable<read_result> broker::read(const std::string& topic, int32_t partition,
                                         int64_t offset, size_t max_bytes, bool min_one_batch) {
  co_return co_await _shards.invoke_on(shard_of(topic, partition), [&]() -> read_result {
    read_result out;
    auto p = local_partition(topic, partition);
    if (!p) {
      out.error = errc::unknown_topic_or_partition;
      return out;
    }
    auto& log = p->log();
    out.high_watermark = log.high_watermark();
    out.log_start_offset = log.log_start_offset();
    out.log_end_offset = log.log_end_offset();
    if (offset < out.log_start_offset || offset > out.log_end_offset) {
      out.error = errc::offset_out_of_range;
      return out;
    }
    if (offset >= out.high_watermark) return out;  // nothing readable yet
    auto r = log.read(offset, out.high_watermark, max_bytes, min_one_batch);
    if (!r) {
      out.error = r.error();
      return out;
    }
    out.data = std::move(*r);
    return out;
  });
}

net::awaitable<partition_offsets> broker::offsets(const std::string& topic, int32_t partition) {
  co_return co_await _shards.invoke_on(shard_of(topic, partition), [&]() -> partition_offsets {
    partition_offsets out;
    auto p = local_partition(topic, partition);
    if (!p) {
      out.error = errc::unknown_topic_or_partition;
      return out;
    }
    out.log_start_offset = p->log().log_start_offset();
    out.high_watermark = p->log().high_watermark();
    out.log_end_offset = p->log().log_end_offset();
    return out;
  });
}

net::awaitable<result<std::optional<std::pair<int64_t, int64_t>>>> broker::offset_for_timestamp(
    const std::string& topic, int32_t partition, int64_t timestamp) {
  using R = result<std::optional<std::pair<int64_t, int64_t>>>;
  co_return co_await _shards.invoke_on(shard_of(topic, partition), [&]() -> R {
    auto p = local_partition(topic, partition);
    if (!p) return errc::unknown_topic_or_partition;
    auto r = p->log().offset_for_timestamp(timestamp);
    if (!r) return r.error();
    if (*r && (*r)->first >= p->log().high_watermark()) return std::optional<std::pair<int64_t, int64_t>>{};
    return r;
  });
}

net::awaitable<result<int64_t>> broker::delete_records(const std::string& topic,
                                                       int32_t partition, int64_t offset) {
  co_return co_await _shards.invoke_on(shard_of(topic, partition), [&]() -> result<int64_t> {
    auto p = local_partition(topic, partition);
    if (!p) return errc::unknown_topic_or_partition;
    auto& log = p->log();
    // As Kafka: records of a compact-only topic are removed by compaction, never by offset.
    if (!log.config().cleanup_delete) return errc::policy_violation;
    if (offset == -1) offset = log.high_watermark();
    if (offset < 0 || offset > log.high_watermark()) return errc::offset_out_of_range;
    if (offset <= log.log_start_offset()) return log.log_start_offset();
    if (auto r = log.delete_records_before(offset); !r) return r.error();
    p->producers().remove_before(tern::offset{log.log_start_offset()});
    return log.log_start_offset();
  });
}

net::awaitable<void> broker::wait_for_data(const std::vector<wait_key>& keys,
                                           std::chrono::steady_clock::time_point deadline) {
  // A timer on the caller's shard is the event: any partition with data cancels it.
  struct wait_state {
    explicit wait_state(net::asio::any_io_executor ex) : timer(ex) {}
    net::asio::steady_timer timer;
    bool woken = false;
  };
  auto ex = co_await net::asio::this_coro::executor;
  auto state = std::make_shared<wait_state>(ex);
  state->timer.expires_at(deadline);
  std::weak_ptr<wait_state> weak = state;
  for (auto& k : keys) {
    unsigned owner = shard_of(k.topic, k.partition);
    _shards.post_to(owner, [this, k, weak, ex] {
      auto p = local_partition(k.topic, k.partition);
      if (!p || weak.expired()) return;
      p->add_waiter(k.offset, std::weak_ptr<void>(weak.lock()), [weak, ex] {
        net::asio::post(ex, [weak] {
          if (auto s = weak.lock()) {
            s->woken = true;
            s->timer.cancel();
          }
        });
      });
    });
  }
  if (!state->woken) co_await state->timer.async_wait(net::use_nothrow);
}

}  // namespace tern::broker
