#include "broker/partition.h"

#include "base/logger.h"

namespace tern::broker {

void partition::add_waiter(int64_t offset, std::weak_ptr<void> alive, std::function<void()> wake) {
  if (_log->high_watermark() > offset) {
    wake();
    return;
  }
  // Drop waiters whose fetch already finished, so an idle partition's list stays bounded.
  std::erase_if(_waiters, [](const waiter& w) { return w.alive.expired(); });
  _waiters.push_back({offset, std::move(alive), std::move(wake)});
}

void partition::notify_waiters() {
  if (_waiters.empty()) return;
  int64_t hw = _log->high_watermark();
  std::vector<waiter> keep;
  std::vector<std::function<void()>> ready;
  for (auto& w : _waiters) {
    if (w.alive.expired()) continue;
    if (hw > w.offset)
      ready.push_back(std::move(w.wake));
    else
      keep.push_back(std::move(w));
  }
  _waiters = std::move(keep);
  for (auto& f : ready) f();
}

void partition::flush(std::function<void(std::error_code)> done) {
  _log->flush([self = shared_from_this(), done = std::move(done)](std::error_code ec) {
    self->notify_waiters();
    if (done) done(ec);
  });
}

net::awaitable<std::error_code> partition::flush_awaitable() {
  return net::asio::async_initiate<decltype(net::asio::use_awaitable), void(std::error_code)>(
      [self = shared_from_this()](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        self->flush([h](std::error_code ec) { (*h)(ec); });
      },
      net::asio::use_awaitable);
}

namespace {
spdlog::logger& broker_log() { return module_logger("broker"); }

// Reads the whole batches of [from, log end) in chunks and hands each header to `fn`.
result<void> for_each_batch_header(storage::log& l, int64_t from,
                                   const std::function<void(const storage::batch_header&)>& fn) {
  constexpr size_t kChunk = 4 << 20;
  while (from < l.log_end_offset()) {
    auto r = l.read(from, l.log_end_offset(), kChunk, true);
    if (!r) return r.error();
    if (r->ranges.empty()) break;
    auto data = storage::copy_to_memory(*r);
    if (!data) return data.error();
    auto batches = storage::split_batches(*data);
    if (!batches || batches->empty()) return storage::errc::invalid_record;
    for (auto b : *batches) {
      auto h = storage::parse_batch_header(b);
      if (!h) return h.error();
      fn(*h);
      from = h->base_offset + h->last_offset_delta + 1;
    }
  }
  return ok();
}
}  // namespace

result<void> partition::recover_producers(storage::file_system& fs, int64_t now_ms) {
  auto loaded = load_producer_snapshot(fs, _log->dir(), offset{_log->log_end_offset()}, {});
  if (!loaded) return loaded.error();
  int64_t from = _log->log_start_offset();
  if (*loaded) {
    _producers = std::move((*loaded)->table);
    from = std::max(from, (*loaded)->at());
  }
  _producers.remove_before(offset{_log->log_start_offset()});
  _producers.expire(now_ms);
  auto replayed = for_each_batch_header(
      *_log, from, [&](const storage::batch_header& h) { _producers.rebuild(h, now_ms); });
  if (!replayed) return replayed.error();
  _producers_changed = from < _log->log_end_offset();
  return ok();
}

void partition::maybe_snapshot_producers(storage::file_system& fs, storage::flusher& flusher,
                                         storage::poster post, bool sync_now) {
  if (!_producers_changed || _snapshot_in_flight) return;
  _producers_changed = false;
  auto snap = std::make_shared<producer_snapshot>(
      encode_producer_snapshot(_producers, offset{_log->log_end_offset()}));
  auto dir = _log->dir();
  if (sync_now) {
    if (auto r = write_producer_snapshot(fs, dir, *snap); !r)
      broker_log().warn("{}-{}: producer state snapshot failed: {}", _topic, _id, r.error().message());
    return;
  }
  _snapshot_in_flight = true;
  flusher.submit(
      [&fs, dir, snap]() -> std::error_code {
        auto r = write_producer_snapshot(fs, dir, *snap);
        return r ? std::error_code() : r.error();
      },
      std::move(post),
      [self = shared_from_this()](std::error_code ec) {
        self->_snapshot_in_flight = false;
        if (ec) {
          self->_producers_changed = true;  // try again at the next interval
          broker_log().warn("{}-{}: producer state snapshot failed: {}", self->_topic, self->_id,
                     ec.message());
        }
      });
}

}  // namespace tern::broker
