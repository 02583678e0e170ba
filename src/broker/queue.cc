#include "broker/queue.h"

#include <algorithm>

#include "base/logger.h"
#include "broker/queue_journal.h"
#include "broker/queue_record.h"

namespace tern::broker {
namespace {

spdlog::logger& log() { return module_logger("queue"); }

// Messages published in this run stay in memory until they leave the queue, up to this much
// per queue; beyond it deliveries read the log (the page cache, usually).
constexpr uint64_t kCacheBytes = 64ull << 20;
// Deliveries made in one go before the queue lets other work run on its shard.
constexpr int kDispatchBatch = 512;
// The log's segments: small enough that consumed messages free disk space soon.
constexpr uint64_t kMaxQueueSegmentBytes = 64ull << 20;
constexpr uint64_t kJournalSegmentBytes = 4ull << 20;
// The journal is snapshotted (and everything before the snapshot dropped) past this size.
constexpr uint64_t kJournalSnapshotBytes = 16ull << 20;
constexpr size_t kRecoveryReadBytes = 1u << 20;
constexpr size_t kMaxDecompressed = 256u << 20;

}  // namespace

queue::queue(const queue_env& env, std::string name, std::filesystem::path dir,
             queue_settings settings)
    : _env(env),
      _name(std::move(name)),
      _dir(std::move(dir)),
      _settings(std::move(settings)),
      _state(_settings.limits) {}

queue::~queue() = default;

result<std::shared_ptr<queue>> queue::open(const queue_env& env, std::string name,
                                           std::filesystem::path dir, queue_settings settings) {
  std::error_code ec;
  if (!settings.durable) std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (ec) return ec;
  std::shared_ptr<queue> q(new queue(env, std::move(name), dir, std::move(settings)));

  storage::log_config lc = env.log_defaults;
  lc.segment_bytes = std::min<uint64_t>(lc.segment_bytes, kMaxQueueSegmentBytes);
  lc.retention_ms = -1;  // a queue's messages leave by being consumed, not by age
  lc.retention_bytes = -1;
  lc.flush = q->_settings.durable ? storage::flush_policy::always : storage::flush_policy::never;
  lc.log_append_time = false;
  lc.max_message_bytes = std::max<uint32_t>(lc.max_message_bytes, 128u << 20);
  auto l = storage::log::open(*env.fs, *env.flusher, env.post, dir / "log", lc, env.now);
  if (!l) return l.error();
  q->_log = std::move(*l);

  storage::log_config jc = lc;
  jc.segment_bytes = kJournalSegmentBytes;
  jc.flush = storage::flush_policy::interval;
  jc.flush_interval_ms = 1000;
  auto j = storage::log::open(*env.fs, *env.flusher, env.post, dir / "journal", jc, env.now);
  if (!j) return j.error();
  q->_journal = std::move(*j);

  if (auto r = q->recover(); !r) return r.error();
  q->_expiry_timer = std::make_unique<net::asio::steady_timer>(env.executor);
  q->touch();
  q->arm_expiry_timer();
  return q;
}

// Reads the journal, then the log, and rebuilds the ready set from what was not removed.
result<void> queue::recover() {
  journal_state js;
  auto replayed = replay_journal(*_journal, js);
  if (!replayed) return replayed.error();
  _removed = std::move(js.removed);
  _removed.trim_below(_log->log_start_offset());
  _delivered_mark = _journaled_mark = js.delivered_mark;
  _return_counts = std::move(js.return_counts);

  size_t restored = 0, dropped_transient = 0;
  int64_t offset = _log->log_start_offset();
  const int64_t end = _log->log_end_offset();
  while (offset < end) {
    auto r = _log->read(offset, end, kRecoveryReadBytes, true);
    if (!r) return r.error();
    if (r->ranges.empty()) break;
    auto data = storage::copy_to_memory(*r);
    if (!data) return data.error();
    bytes::byte_view rest(*data);
    int64_t next = offset;
    while (rest.size() >= storage::batch_layout::header_size) {
      auto h = storage::parse_batch_header(rest);
      if (!h || h->size() > rest.size()) break;
      auto batch = rest.first(h->size());
      rest = rest.subspan(h->size());
      next = h->last_offset() + 1;
      auto walked = storage::for_each_record(batch, kMaxDecompressed, [&](auto& rec) {
        if (rec.offset < offset || _removed.contains(rec.offset)) return true;
        auto meta = decode_queue_meta(rec);
        if (!meta) return true;  // not a queue message
        if (!meta->persistent || !_settings.durable) {
          ++dropped_transient;
          _removed.add(rec.offset);
          _unjournaled.push_back(rec.offset);
          return true;
        }
        message_meta m;
        m.offset = rec.offset;
        m.body_size = rec.value ? uint32_t(rec.value->size()) : 0;
        m.priority = meta->priority;
        m.expires_at_ms = meta->expires_at_ms;
        m.redelivered = rec.offset <= _delivered_mark;
        if (auto c = _return_counts.find(rec.offset); c != _return_counts.end())
          m.delivery_count = c->second;
        _state.restore(m);
        ++restored;
        return true;
      });
      if (!walked) return walked.error();
    }
    if (next <= offset) break;  // no progress: a batch larger than the read (cannot happen)
    offset = next;
  }
  if (restored || dropped_transient)
    log().info("queue '{}': recovered {} messages ({} transient dropped)", _name, restored,
               dropped_transient);
  write_journal_snapshot();
  return {};
}

void queue::publish(message_ptr m, std::function<void(publish_status)> done) {
  if (_closed) return done(publish_status::failed);
  touch();
  const int64_t now = _env.now();
  auto body_size = uint32_t(std::min<size_t>(m->body.size(), UINT32_MAX));
  if (_state.refuses(body_size)) {
    if (_settings.limits.overflow == overflow_policy::reject_publish_dlx && _dead_letter &&
        _settings.dead_letter_exchange)
      _dead_letter(*this, m, removal_reason::maxlen);
    return done(publish_status::rejected);
  }
  stored_meta meta;
  meta.persistent = m->persistent;
  meta.priority = m->priority;
  int64_t ttl = m->ttl_ms;
  if (_settings.message_ttl_ms >= 0 && (ttl < 0 || _settings.message_ttl_ms < ttl))
    ttl = _settings.message_ttl_ms;
  meta.expires_at_ms = ttl >= 0 ? now + ttl : -1;

  auto batch = encode_queue_record(*m, meta);
  auto appended = _log->append(std::span<uint8_t>(batch));
  if (!appended) {
    log().error("queue '{}': append failed: {}", _name, appended.error().message());
    return done(publish_status::failed);
  }
  const int64_t offset = appended->base_offset;
  if (_cache_bytes + m->body.size() <= kCacheBytes) {
    _cache.emplace(offset, m);
    _cache_bytes += m->body.size();
  }
  message_meta mm;
  mm.offset = offset;
  mm.body_size = body_size;
  mm.priority = m->priority;
  mm.expires_at_ms = meta.expires_at_ms;
  auto out = _state.enqueue(mm);
  after_removals(std::move(out.dropped));
  dispatch();
  // dispatch() arms the expiry timer only when there are consumers; a TTL message in a queue
  // nobody consumes must still expire (and be dead-lettered) on time, not at housekeeping.
  if (mm.expires_at_ms >= 0) arm_expiry_timer();
  if (m->persistent && _settings.durable) {
    _log->flush([done = std::move(done)](std::error_code ec) {
      done(ec ? publish_status::failed : publish_status::ok);
    });
  } else {
    done(publish_status::ok);
  }
}

bool queue::add_consumer(consumer_id id, holder_id holder, std::shared_ptr<consumer_sink> sink,
                         bool no_ack, bool exclusive) {
  for (auto& [cid, c] : _consumers)
    if (c.exclusive || exclusive) return false;
  _consumers[id] = consumer_entry{std::move(sink), no_ack, exclusive};
  _state.add_consumer(id, holder);
  _had_consumer = true;
  touch();
  dispatch();
  return true;
}

void queue::cancel_consumer(consumer_id id) {
  if (_consumers.erase(id) == 0) return;
  _state.remove_consumer(id);
  touch();
  if (_consumers.empty() && _had_consumer && _settings.auto_delete && _unused) {
    _unused();
    return;
  }
  // Under single-active-consumer the next one may now receive.
  dispatch();
}

void queue::dispatch() {
  if (_closed || _consumers.empty() || _state.ready_count() == 0) return;
  const int64_t now = _env.now();
  after_removals(_state.expire(now));
  auto can_take = [this](consumer_id c) {
    auto it = _consumers.find(c);
    return it != _consumers.end() && it->second.sink->try_acquire();
  };
  auto no_ack = [this](consumer_id c) {
    auto it = _consumers.find(c);
    return it != _consumers.end() && it->second.no_ack;
  };
  int delivered = 0;
  for (; delivered < kDispatchBatch; ++delivered) {
    std::vector<removed_message> expired;
    auto d = _state.next_delivery(now, can_take, no_ack, expired);
    after_removals(std::move(expired));
    if (!d) break;
    _delivered_mark = std::max(_delivered_mark, d->meta.offset);
    auto msg = cached_or_read(d->meta.offset);
    auto& c = _consumers.at(d->consumer);
    if (!msg) {
      // The log cannot give the message back (a disk error, logged by the read): drop it
      // rather than deliver nothing forever, and give the consumer its credit's worth.
      if (!c.no_ack) _state.ack(d->meta.offset, d->holder);
      continue;
    }
    c.sink->deliver({d->meta.offset, d->meta.redelivered || d->meta.delivery_count > 0,
                     d->meta.delivery_count, std::move(msg)});
  }
  journal_removed();
  if (delivered == kDispatchBatch) {
    net::asio::post(_env.executor, [w = weak_from_this()] {
      if (auto q = w.lock()) q->dispatch();
    });
  }
  arm_expiry_timer();
}

queue::get_result queue::get(holder_id holder, bool no_ack) {
  get_result out;
  touch();
  if (_closed) return out;
  std::vector<removed_message> expired;
  auto m = _state.get(_env.now(), holder, no_ack, expired);
  after_removals(std::move(expired));
  if (m) {
    _delivered_mark = std::max(_delivered_mark, m->offset);
    if (auto msg = cached_or_read(m->offset)) {
      out.message = delivered_message{m->offset, m->redelivered || m->delivery_count > 0,
                                      m->delivery_count, std::move(msg)};
    } else if (!no_ack) {
      _state.ack(m->offset, holder);
    }
  }
  out.remaining = _state.ready_count();
  journal_removed();
  return out;
}

void queue::ack(holder_id holder, std::span<const int64_t> offsets) {
  for (int64_t o : offsets) _state.ack(o, holder);
  journal_removed();
}

void queue::nack(holder_id holder, std::span<const int64_t> offsets, bool requeue) {
  std::vector<removed_message> dead;
  for (int64_t o : offsets) {
    if (requeue) {
      const message_meta* held = _state.unacked(o, holder);
      if (!held) continue;
      uint32_t count = held->delivery_count + 1;
      bool found = false;
      if (auto d = _state.requeue(o, holder, &found)) {
        dead.push_back(*d);
      } else {
        _return_counts[o] = count;
        _unjournaled_returns.emplace_back(o, count);
      }
    } else if (auto d = _state.reject(o, holder)) {
      dead.push_back(*d);
    }
  }
  after_removals(std::move(dead));
  journal_removed();
  dispatch();
}

void queue::release(holder_id holder) {
  auto held = _state.unacked_of(holder);
  nack(holder, held, true);
}

size_t queue::purge() {
  size_t n = _state.purge();
  journal_removed();
  return n;
}

queue_stats queue::stats() const {
  queue_stats s;
  s.ready = _state.ready_count();
  s.unacked = _state.unacked_count();
  s.consumers = _consumers.size();
  s.ready_bytes = _state.ready_bytes();
  s.log_bytes = _log ? _log->size_bytes() : 0;
  return s;
}

result<message_ptr> queue::read_message(int64_t offset) {
  auto r = _log->read(offset, offset + 1, 1, true);
  if (!r) return r.error();
  auto data = storage::copy_to_memory(*r);
  if (!data) return data.error();
  std::optional<decoded_queue_record> found;
  bytes::byte_view rest(*data);
  while (!found && rest.size() >= storage::batch_layout::header_size) {
    auto h = storage::parse_batch_header(rest);
    if (!h || h->size() > rest.size()) break;
    auto walked = storage::for_each_record(rest.first(h->size()), kMaxDecompressed,
                                           [&](auto& rec) {
                                             if (rec.offset != offset) return true;
                                             found = decode_queue_record(rec);
                                             return false;
                                           });
    if (!walked) return walked.error();
    rest = rest.subspan(h->size());
  }
  if (!found) return make_error_code(std::errc::no_message);
  return std::make_shared<const queue_message>(std::move(found->message));
}

message_ptr queue::cached_or_read(int64_t offset) {
  if (auto it = _cache.find(offset); it != _cache.end()) return it->second;
  auto m = read_message(offset);
  if (!m) {
    log().error("queue '{}': cannot read message {}: {}", _name, offset, m.error().message());
    return nullptr;
  }
  return *m;
}

void queue::after_removals(std::vector<removed_message> removed) {
  if (removed.empty()) return;
  if (_dead_letter && _settings.dead_letter_exchange) {
    for (auto& r : removed)
      if (auto m = cached_or_read(r.meta.offset)) _dead_letter(*this, m, r.reason);
  }
}

// Moves what the state removed into the journal: written once per turn of the event loop,
// so the acks of one burst share one record.
void queue::journal_removed() {
  for (int64_t o : _state.take_removed()) {
    if (auto it = _cache.find(o); it != _cache.end()) {
      _cache_bytes -= it->second->body.size();
      _cache.erase(it);
    }
    _removed.add(o);
    _return_counts.erase(o);
    _unjournaled.push_back(o);
  }
  bool pending = !_unjournaled.empty() || !_unjournaled_returns.empty() ||
                 _delivered_mark > _journaled_mark;
  if (!pending || _journal_flush_posted || _closed) return;
  _journal_flush_posted = true;
  net::asio::post(_env.executor, [w = weak_from_this()] {
    if (auto q = w.lock()) q->write_journal();
  });
}

void queue::write_journal() {
  _journal_flush_posted = false;
  if (_closed || !_journal) return;
  journal_entry e;
  e.removed = std::exchange(_unjournaled, {});
  e.returns = std::exchange(_unjournaled_returns, {});
  e.delivered_mark = _delivered_mark > _journaled_mark ? _delivered_mark : -1;
  if (e.removed.empty() && e.returns.empty() && e.delivered_mark < 0) return;
  auto batch = encode_journal_entry(e, _env.now());
  if (auto r = _journal->append(std::span<uint8_t>(batch)); !r) {
    log().error("queue '{}': journal append failed: {}", _name, r.error().message());
    return;
  }
  if (e.delivered_mark >= 0) _journaled_mark = e.delivered_mark;
}

void queue::write_journal_snapshot() {
  write_journal();
  journal_snapshot s;
  s.log_start = _log->log_start_offset();
  s.removed = &_removed;
  s.delivered_mark = _delivered_mark;
  s.return_counts = &_return_counts;
  auto batch = encode_journal_snapshot(s, _env.now());
  auto r = _journal->append(std::span<uint8_t>(batch));
  if (!r) {
    log().error("queue '{}': journal snapshot failed: {}", _name, r.error().message());
    return;
  }
  _journaled_mark = _delivered_mark;
  // Everything before the snapshot is summarised by it.
  if (r->base_offset > _journal->log_start_offset()) {
    if (auto d = _journal->delete_records_before(r->base_offset); !d)
      log().warn("queue '{}': journal trim failed: {}", _name, d.error().message());
  }
}

void queue::housekeeping() {
  if (_closed) return;
  const int64_t now = _env.now();
  after_removals(_state.expire(now));
  journal_removed();
  // Free the log below the oldest message still held, a whole segment at a time.
  int64_t low = _state.lowest_live_offset();
  if (low < 0) low = _log->log_end_offset();
  low = std::min(low, _log->high_watermark());
  auto bases = _log->segment_bases();
  if (bases.size() > 1 && bases[1] <= low && low > _log->log_start_offset()) {
    if (auto d = _log->delete_records_before(low); d) {
      _removed.trim_below(low);
    } else {
      log().warn("queue '{}': cannot trim the log: {}", _name, d.error().message());
    }
  }
  if (_journal->size_bytes() > kJournalSnapshotBytes) write_journal_snapshot();
  _journal->maybe_flush_interval(now);
  arm_expiry_timer();
}

void queue::arm_expiry_timer() {
  if (_closed || !_expiry_timer) return;
  int64_t next = _state.next_expiry();
  if (next < 0 || (_expiry_armed_for >= 0 && _expiry_armed_for <= next)) return;
  _expiry_armed_for = next;
  int64_t delay = std::max<int64_t>(0, next - _env.now() + 1);
  _expiry_timer->expires_after(std::chrono::milliseconds(delay));
  _expiry_timer->async_wait([w = weak_from_this()](const net::error_code& ec) {
    if (ec) return;
    auto q = w.lock();
    if (!q || q->_closed) return;
    q->_expiry_armed_for = -1;
    q->after_removals(q->_state.expire(q->_env.now()));
    q->journal_removed();
    q->arm_expiry_timer();
  });
}

result<void> queue::close(bool remove_files) {
  if (_closed) return {};
  if (!remove_files) write_journal_snapshot();
  _closed = true;
  if (_expiry_timer) _expiry_timer->cancel();
  auto consumers = std::move(_consumers);
  _consumers.clear();
  if (remove_files)
    for (auto& [id, c] : consumers) c.sink->cancelled();
  result<void> out;
  if (_journal) {
    if (auto r = _journal->close(); !r) out = r;
  }
  if (_log) {
    if (auto r = _log->close(); !r) out = r;
  }
  if (remove_files) {
    std::error_code ec;
    std::filesystem::remove_all(_dir, ec);
    if (ec) return ec;
  }
  return out;
}

}  // namespace tern::broker
