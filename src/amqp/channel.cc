#include "amqp/channel.h"

#include <limits>

#include "amqp/connection.h"
#include "amqp/consumer_link.h"
#include "amqp/convert.h"
#include "base/logger.h"

namespace tern::amqp {
namespace {

spdlog::logger& log() { return module_logger("amqp"); }
constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max() / 2;

}  // namespace

channel::channel(connection& conn, uint16_t number)
    : _conn(conn),
      _number(number),
      _holder(conn.queues().next_id()),
      _channel_credit(std::make_shared<std::atomic<int64_t>>(kUnlimited)),
      _flow_active(std::make_shared<std::atomic<bool>>(true)) {}

channel::~channel() { teardown(); }

void channel::reply(const method& m) {
  write_method_frame(_conn.output(), _number, m);
  _conn.flush();
}

std::optional<error> channel::fail(reply_code code, std::string text, uint16_t class_id,
                                   uint16_t method_id) {
  error e{code, std::move(text), class_id, method_id};
  if (e.is_hard()) return e;
  log().info("channel {} error: {}", _number, reply_text(e));
  _closing = true;
  _content.reset();
  reply(make_channel_close(e));
  teardown();
  return std::nullopt;
}

std::optional<error> channel::fail(const broker::service_status& st, uint16_t class_id,
                                   uint16_t method_id) {
  reply_code code = reply_code::internal_error;
  switch (st.code) {
    case broker::service_errc::ok: return std::nullopt;
    case broker::service_errc::not_found: code = reply_code::not_found; break;
    case broker::service_errc::access_refused: code = reply_code::access_refused; break;
    case broker::service_errc::precondition_failed:
      code = reply_code::precondition_failed;
      break;
    case broker::service_errc::resource_locked: code = reply_code::resource_locked; break;
    case broker::service_errc::resource_error: code = reply_code::resource_error; break;
  }
  return fail(code, st.message, class_id, method_id);
}

net::awaitable<std::optional<error>> channel::on_frame(const frame& f) {
  if (f.type == frame_type::method) {
    auto m = decode_method(f.payload);
    if (!m) co_return m.error();
    if (_content) {
      co_return error{reply_code::unexpected_frame,
                      "expected content header for class 60, got non content header frame "
                      "instead",
                      traits(*m).class_id, traits(*m).method_id};
    }
    if (_closing) {
      // After channel.close only close-ok (or close) matters; the rest is dropped.
      if (std::holds_alternative<channel_close_ok>(*m)) {
        // The close we started is done: the connection forgets this channel, so the client
        // may open the number again.
        _closing = false;
        co_return error{reply_code::success, "channel closed", 0, 0};
      } else if (std::holds_alternative<channel_close>(*m)) {
        reply(channel_close_ok{});
      }
      co_return std::nullopt;
    }
    co_return co_await on_method(std::move(*m));
  }
  if (_closing) co_return std::nullopt;
  co_return on_content_frame(f);
}

std::optional<error> channel::on_content_frame(const frame& f) {
  if (!_content) {
    return error{reply_code::unexpected_frame,
                 f.type == frame_type::header ? "unexpected content header frame"
                                              : "unexpected content body frame",
                 0, 0};
  }
  if (f.type == frame_type::header) {
    if (_content->header)
      return error{reply_code::unexpected_frame, "expected content body, got content header", 60,
                   40};
    _content->header_payload.assign(f.payload.begin(), f.payload.end());
    auto h = decode_content_header(_content->header_payload);
    if (!h) return h.error();
    if (h->body_size > _conn.config().max_message_bytes) {
      _content.reset();
      return fail(reply_code::precondition_failed,
                  "message size " + std::to_string(h->body_size) +
                      " is larger than configured max size " +
                      std::to_string(_conn.config().max_message_bytes),
                  60, 40);
    }
    _content->body.reserve(h->body_size);
    _content->header = std::move(*h);
    if (_content->header->body_size == 0) return complete_publish();
    return std::nullopt;
  }
  // A body frame.
  if (!_content->header)
    return error{reply_code::unexpected_frame, "expected content header, got content body", 60,
                 40};
  auto& body = _content->body;
  if (body.size() + f.payload.size() > _content->header->body_size)
    return error{reply_code::frame_error, "content body larger than the header announced", 60,
                 40};
  body.insert(body.end(), f.payload.begin(), f.payload.end());
  if (body.size() == _content->header->body_size) return complete_publish();
  return std::nullopt;
}

std::optional<error> channel::complete_publish() {
  pending_content c = std::move(*_content);
  _content.reset();
  std::string why;
  auto msg = to_queue_message(c.method.exchange, c.method.routing_key, *c.header,
                              std::move(c.body), &why);
  if (!msg) return fail(reply_code::precondition_failed, why, 60, 40);
  broker::header_table headers;
  if (c.header->properties.headers) headers = to_header_table(*c.header->properties.headers);
  auto shared = std::make_shared<const broker::queue_message>(std::move(*msg));
  if (_tx) {
    _tx_publishes.push_back({std::move(c.method), std::move(shared), std::move(headers)});
    return std::nullopt;
  }
  uint64_t seq = 0;
  if (_confirm) {
    seq = _next_publish_seq++;
    _pending_confirms.emplace(seq, std::nullopt);
  }
  publish(c.method, shared, headers, [w = weak_from_this(), seq](bool ok) {
    auto self = w.lock();
    if (self && seq) self->confirm(seq, ok);
  });
  return std::nullopt;
}

void channel::publish(const basic_publish& method, broker::message_ptr message,
                      const broker::header_table& headers, std::function<void(bool)> on_done) {
  auto w = weak_from_this();
  _conn.queues().publish(
      _conn.vhost(), method.exchange, method.routing_key, headers, message,
      [w, method, message, on_done = std::move(on_done)](broker::publish_outcome o) {
        auto self = w.lock();
        if (self && !self->_torn_down && !self->_closing) {
          if (!o.status) {
            // A connection-level error (506) cannot be raised from here: the channel closes.
            (void)self->fail(o.status, 60, 40);
          } else if (o.queues == 0 && method.mandatory) {
            self->return_message(method, *message);
          }
        }
        on_done(o.status.ok() && o.rejected == 0 && o.failed == 0);
      });
}

void channel::return_message(const basic_publish& method, const broker::queue_message& m) {
  basic_return r;
  r.reply_code = uint16_t(reply_code::no_route);
  r.reply_text = "NO_ROUTE";
  r.exchange = method.exchange;
  r.routing_key = method.routing_key;
  auto& out = _conn.output();
  write_method_frame(out, _number, r);
  write_content_header_frame(out, _number, m.body.size(), bytes::byte_view(m.properties));
  write_body_frames(out, _number, m.body, _conn.frame_max());
  _conn.flush();
}

// Confirms leave in publish order: a later publish that completes first waits for the
// earlier ones, and a run of acks goes out as one basic.ack with multiple=true.
void channel::confirm(uint64_t seq, bool ok) {
  auto it = _pending_confirms.find(seq);
  if (it == _pending_confirms.end()) return;
  it->second = ok;
  uint64_t acked_through = 0;
  while (!_pending_confirms.empty() && _pending_confirms.begin()->second.has_value()) {
    auto [s, good] = *_pending_confirms.begin();
    _pending_confirms.erase(_pending_confirms.begin());
    if (*good) {
      acked_through = s;
      continue;
    }
    if (acked_through) {
      write_method_frame(_conn.output(), _number,
                         basic_ack{.delivery_tag = acked_through, .multiple = true});
      acked_through = 0;
    }
    write_method_frame(_conn.output(), _number,
                       basic_nack{.delivery_tag = s, .multiple = false, .requeue = false});
  }
  if (acked_through)
    write_method_frame(_conn.output(), _number,
                       basic_ack{.delivery_tag = acked_through, .multiple = true});
  _conn.flush();
}

void write_delivery_properties(bytes::buffer& out, uint16_t channel, const broker::queue_ref& q,
                               const broker::delivered_message& m) {
  const auto& msg = *m.message;
  // Quorum queues tell the consumer how often a message came back (RabbitMQ's
  // x-delivery-count); other deliveries go out with the publisher's properties untouched.
  if (m.delivery_count > 0 && q.q && q.q->settings().quorum) {
    if (auto p = decode_basic_properties(msg.properties)) {
      field_table headers = p->headers.value_or(field_table{});
      headers.set("x-delivery-count", int64_t(m.delivery_count));
      p->headers = std::move(headers);
      write_content_header_frame(out, channel, msg.body.size(), *p);
      return;
    }
  }
  write_content_header_frame(out, channel, msg.body.size(), bytes::byte_view(msg.properties));
}

void channel::write_delivery(const std::string& consumer_tag, const broker::queue_ref& q,
                             const broker::delivered_message& m, bool no_ack) {
  uint64_t tag = _next_delivery_tag++;
  if (!no_ack) {
    _unacked.emplace(tag, unacked{q, m.offset, consumer_tag});
  }
  auto& out = _conn.output();
  write_method_frame(out, _number,
                     basic_deliver{.consumer_tag = consumer_tag,
                                   .delivery_tag = tag,
                                   .redelivered = m.redelivered,
                                   .exchange = m.message->exchange,
                                   .routing_key = m.message->routing_key});
  write_delivery_properties(out, _number, q, m);
  write_body_frames(out, _number, m.message->body, _conn.frame_max());
}

void channel::on_delivery(const std::string& consumer_tag, broker::queue_ref q,
                          broker::delivered_message m, int64_t reserved_bytes) {
  _conn.pending_output() -= reserved_bytes;
  auto it = _consumers.find(consumer_tag);
  if (_torn_down) return;  // release() on the queue returns it
  if (it == _consumers.end()) {
    // Cancelled meanwhile: the client no longer expects it. Give it back (a no-ack delivery
    // is gone from the queue already; nothing to give).
    auto holder = _holder;
    auto offset = m.offset;
    _conn.queues().shards().post_to(q.shard, [q, holder, offset] {
      int64_t o[] = {offset};
      q.q->nack(holder, o, true);
    });
    return;
  }
  auto& c = it->second;
  remember_queue(q);
  if (!c.ready) {
    c.early.emplace_back(std::move(m), 0);
    return;
  }
  write_delivery(consumer_tag, q, m, c.no_ack);
  _conn.flush();
}

}  // namespace tern::amqp

namespace tern::amqp {

void consumer_link::deliver(broker::delivered_message m) {
  int64_t reserved = int64_t(m.message ? m.message->body.size() : 0);
  pending_output->fetch_add(reserved);
  net::asio::post(home, [w = ch, tag = tag, q = q, m = std::move(m), reserved]() mutable {
    if (auto c = w.lock()) {
      c->on_delivery(tag, q, std::move(m), reserved);
    }
  });
}

void consumer_link::cancelled() {
  net::asio::post(home, [w = ch, tag = tag] {
    if (auto c = w.lock()) c->on_consumer_cancelled(tag);
  });
}

void channel::remember_queue(const broker::queue_ref& q) {
  if (q.q) _queues_held.emplace(q.q.get(), q);
}

void channel::on_consumer_cancelled(const std::string& consumer_tag) {
  auto it = _consumers.find(consumer_tag);
  if (it == _consumers.end()) return;
  _consumers.erase(it);
  if (_conn.consumer_cancel_notify() && !_closing && !_torn_down) {
    reply(basic_cancel{.consumer_tag = consumer_tag, .nowait = true});
  }
}

void channel::poke_blocked() {
  for (auto& [tag, c] : _consumers) {
    if (c.link && c.link->blocked.exchange(false)) {
      auto q = c.q;
      _conn.queues().shards().post_to(q.shard, [q] { q.q->dispatch(); });
    }
  }
}

void channel::give_credit(const std::string& consumer_tag, size_t n) {
  if (_channel_prefetch) _channel_credit->fetch_add(int64_t(n));
  if (consumer_tag.empty()) {
    if (_channel_prefetch) poke_blocked();
    return;
  }
  auto it = _consumers.find(consumer_tag);
  if (it != _consumers.end() && it->second.link && it->second.link->limited)
    it->second.link->credit.fetch_add(int64_t(n));
  // Channel-wide credit may unblock any consumer of the channel.
  poke_blocked();
}

std::optional<error> channel::settle(uint64_t tag, bool multiple, bool ack, bool requeue,
                                     uint16_t class_id, uint16_t method_id) {
  std::vector<std::map<uint64_t, unacked>::iterator> chosen;
  if (multiple) {
    auto end = tag == 0 ? _unacked.end() : _unacked.upper_bound(tag);
    for (auto it = _unacked.begin(); it != end; ++it) chosen.push_back(it);
  } else {
    auto it = _unacked.find(tag);
    if (it == _unacked.end())
      return fail(reply_code::precondition_failed, "unknown delivery tag " + std::to_string(tag),
                  class_id, method_id);
    chosen.push_back(it);
  }
  // One call per queue, on its shard.
  std::unordered_map<broker::queue*, std::pair<broker::queue_ref, std::vector<int64_t>>> by_queue;
  std::map<std::string, size_t> credit;
  for (auto it : chosen) {
    auto& entry = by_queue[it->second.q.q.get()];
    entry.first = it->second.q;
    entry.second.push_back(it->second.offset);
    ++credit[it->second.consumer_tag];
    _unacked.erase(it);
  }
  auto holder = _holder;
  for (auto& [ptr, entry] : by_queue) {
    auto q = entry.first;
    _conn.queues().shards().post_to(
        q.shard, [q, holder, offsets = std::move(entry.second), ack, requeue] {
          if (ack) {
            q.q->ack(holder, offsets);
          } else {
            q.q->nack(holder, offsets, requeue);
          }
        });
  }
  for (auto& [ctag, n] : credit) give_credit(ctag, n);
  return std::nullopt;
}

void channel::teardown() {
  if (_torn_down) return;
  _torn_down = true;
  auto& shards = _conn.queues().shards();
  for (auto& [tag, c] : _consumers) {
    auto q = c.q;
    auto id = c.id;
    shards.post_to(q.shard, [q, id] { q.q->cancel_consumer(id); });
  }
  _consumers.clear();
  // After the cancels (same order on each queue's shard): what this channel holds goes back.
  auto holder = _holder;
  for (auto& [ptr, q] : _queues_held) {
    auto ref = q;
    shards.post_to(ref.shard, [ref, holder] { ref.q->release(holder); });
  }
  _queues_held.clear();
  _unacked.clear();
}

std::optional<std::string> channel::resolve_queue(const std::string& name) {
  if (!name.empty()) return name;
  if (_last_queue.empty()) return std::nullopt;
  return _last_queue;
}

std::optional<broker::queue_ref> channel::find_queue(const std::string& name,
                                                     broker::service_status* why) {
  return _conn.queues().find_queue(_conn.vhost(), name, _conn.id(), why);
}

}  // namespace tern::amqp
