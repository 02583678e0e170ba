// The methods of the channel, exchange, queue, basic, confirm and tx classes.
#include <random>

#include "amqp/channel.h"
#include "amqp/connection.h"
#include "amqp/consumer_link.h"
#include "amqp/convert.h"

namespace tern::amqp {
namespace {

constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max() / 2;

// RabbitMQ's generated names: amq.gen-<24 base64url characters>, amq.ctag-<...>.
std::string generated_name(const char* prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string s = prefix;
  for (int i = 0; i < 22; ++i) s.push_back(alphabet[rng() % 64]);
  return s;
}

template <class M>
constexpr uint16_t cid() {
  return M::traits.class_id;
}
template <class M>
constexpr uint16_t mid() {
  return M::traits.method_id;
}

}  // namespace

net::awaitable<std::optional<error>> channel::on_method(method m) {
  const auto& t = traits(m);
  switch (t.class_id) {
    case 20: {
      if (std::holds_alternative<channel_close>(m)) {
        teardown();
        reply(channel_close_ok{});
        co_return error{reply_code::success, "channel closed", 0, 0};  // connection drops it
      }
      if (auto* f = std::get_if<channel_flow>(&m)) {
        _flow_active->store(f->active);
        reply(channel_flow_ok{.active = f->active});
        if (f->active) poke_blocked();
        co_return std::nullopt;
      }
      if (std::holds_alternative<channel_open>(m))
        co_return error{reply_code::channel_error, "second 'channel.open' seen", 20, 10};
      if (std::holds_alternative<channel_close_ok>(m)) co_return std::nullopt;
      break;
    }
    case 30:
      if (std::holds_alternative<access_request>(m)) {
        reply(access_request_ok{});
        co_return std::nullopt;
      }
      break;
    case 40: co_return co_await exchange_method(m);
    case 50: co_return co_await queue_method(m);
    case 60: co_return co_await basic_method(m);
    case 85: {
      if (!std::holds_alternative<confirm_select>(m)) break;
      auto& c = std::get<confirm_select>(m);
      if (_tx)
        co_return fail(reply_code::precondition_failed,
                       "cannot switch from tx to confirm mode", 85, 10);
      _confirm = true;
      if (!c.nowait) reply(confirm_select_ok{});
      co_return std::nullopt;
    }
    case 90: co_return co_await tx_method(m);
  }
  co_return error{reply_code::command_invalid,
                  std::string("unexpected method ") + std::string(t.name) + " on a channel",
                  t.class_id, t.method_id};
}

net::awaitable<std::optional<error>> channel::exchange_method(const method& m) {
  auto& svc = _conn.queues();
  const auto& vhost = _conn.vhost();
  if (auto* d = std::get_if<exchange_declare>(&m)) {
    broker::exchange_declaration decl;
    decl.name = d->exchange;
    decl.type = d->type;
    decl.passive = d->passive;
    decl.durable = d->durable;
    decl.auto_delete = d->auto_delete;
    decl.internal = d->internal;
    decl.arguments = to_header_table(d->arguments);
    auto st = svc.declare_exchange(vhost, decl);
    if (!st) co_return fail(st, cid<exchange_declare>(), mid<exchange_declare>());
    if (!d->nowait) reply(exchange_declare_ok{});
    co_return std::nullopt;
  }
  if (auto* d = std::get_if<exchange_delete>(&m)) {
    auto st = svc.delete_exchange(vhost, d->exchange, d->if_unused);
    if (!st) co_return fail(st, cid<exchange_delete>(), mid<exchange_delete>());
    if (!d->nowait) reply(exchange_delete_ok{});
    co_return std::nullopt;
  }
  auto e2e = [&](const auto& b, bool bind) -> std::optional<error> {
    broker::binding x;
    x.source = b.source;
    x.kind = broker::destination_kind::exchange;
    x.destination = b.destination;
    x.routing_key = b.routing_key;
    x.arguments = to_header_table(b.arguments);
    auto st = bind ? svc.bind(vhost, x) : svc.unbind(vhost, x);
    using M = std::decay_t<decltype(b)>;
    if (!st) return fail(st, cid<M>(), mid<M>());
    if (!b.nowait) {
      if (bind) reply(exchange_bind_ok{});
      else reply(exchange_unbind_ok{});
    }
    return std::nullopt;
  };
  if (auto* b = std::get_if<exchange_bind>(&m)) co_return e2e(*b, true);
  if (auto* b = std::get_if<exchange_unbind>(&m)) co_return e2e(*b, false);
  const auto& t = traits(m);
  co_return error{reply_code::command_invalid, "unexpected " + std::string(t.name), t.class_id,
                  t.method_id};
}

net::awaitable<std::optional<error>> channel::queue_method(const method& m) {
  auto& svc = _conn.queues();
  const auto& vhost = _conn.vhost();
  if (auto* d = std::get_if<queue_declare>(&m)) {
    broker::queue_declaration decl;
    decl.name = d->queue.empty() ? generated_name("amq.gen-") : d->queue;
    decl.server_named = d->queue.empty() && !d->passive;
    decl.passive = d->passive;
    decl.durable = d->durable;
    decl.exclusive = d->exclusive;
    decl.auto_delete = d->auto_delete;
    decl.arguments = to_header_table(d->arguments);
    decl.owner = _conn.id();
    if (d->passive && d->queue.empty()) {
      if (_last_queue.empty())
        co_return fail(reply_code::not_found, "no previously declared queue", 50, 10);
      decl.name = _last_queue;
    }
    broker::service_status why;
    auto ok = svc.declare_queue(vhost, decl, &why);
    if (!ok) co_return fail(why, 50, 10);
    _last_queue = ok->name;
    if (!d->nowait) {
      queue_declare_ok reply_ok{.queue = ok->name};
      if (auto ref = find_queue(ok->name, &why)) {
        auto q = ref->q;
        auto stats = co_await svc.shards().invoke_on(ref->shard, [q] { return q->stats(); });
        reply_ok.message_count = uint32_t(stats.ready);
        reply_ok.consumer_count = uint32_t(stats.consumers);
      }
      reply(reply_ok);
    }
    co_return std::nullopt;
  }
  auto queue_binding = [&](const std::string& queue, const std::string& exchange,
                           const std::string& key, const field_table& args,
                           broker::binding& out) -> std::optional<error> {
    auto name = resolve_queue(queue);
    if (!name) return fail(reply_code::not_found, "no previously declared queue", 50, 20);
    broker::service_status why;
    if (!find_queue(*name, &why)) return fail(why, 50, 20);
    out.source = exchange;
    out.kind = broker::destination_kind::queue;
    out.destination = *name;
    out.routing_key = (key.empty() && queue.empty()) ? *name : key;
    out.arguments = to_header_table(args);
    return std::nullopt;
  };
  if (auto* b = std::get_if<queue_bind>(&m)) {
    broker::binding x;
    if (auto e = queue_binding(b->queue, b->exchange, b->routing_key, b->arguments, x); e || _closing)
      co_return e;
    auto st = svc.bind(vhost, x);
    if (!st) co_return fail(st, 50, 20);
    if (!b->nowait) reply(queue_bind_ok{});
    co_return std::nullopt;
  }
  if (auto* b = std::get_if<queue_unbind>(&m)) {
    broker::binding x;
    if (auto e = queue_binding(b->queue, b->exchange, b->routing_key, b->arguments, x); e || _closing)
      co_return e;
    auto st = svc.unbind(vhost, x);
    if (!st) co_return fail(st, 50, 50);
    reply(queue_unbind_ok{});
    co_return std::nullopt;
  }
  if (auto* p = std::get_if<queue_purge>(&m)) {
    auto name = resolve_queue(p->queue);
    if (!name) co_return fail(reply_code::not_found, "no previously declared queue", 50, 30);
    broker::service_status why;
    auto ref = find_queue(*name, &why);
    if (!ref) co_return fail(why, 50, 30);
    auto q = ref->q;
    size_t n = co_await svc.shards().invoke_on(ref->shard, [q] { return q->purge(); });
    if (!p->nowait) reply(queue_purge_ok{.message_count = uint32_t(n)});
    co_return std::nullopt;
  }
  if (auto* d = std::get_if<queue_delete>(&m)) {
    auto name = resolve_queue(d->queue);
    if (!name) co_return fail(reply_code::not_found, "no previously declared queue", 50, 40);
    broker::service_status why;
    auto n = co_await svc.delete_queue(vhost, *name, d->if_unused, d->if_empty, _conn.id(), &why);
    if (!n) co_return fail(why, 50, 40);
    if (!d->nowait) reply(queue_delete_ok{.message_count = uint32_t(*n)});
    co_return std::nullopt;
  }
  const auto& t = traits(m);
  co_return error{reply_code::command_invalid, "unexpected " + std::string(t.name), t.class_id,
                  t.method_id};
}

net::awaitable<std::optional<error>> channel::basic_method(const method& m) {
  if (auto* p = std::get_if<basic_publish>(&m)) {
    if (p->immediate)
      co_return error{reply_code::not_implemented, "immediate=true", 60, 40};
    _content.emplace();
    _content->method = *p;
    co_return std::nullopt;
  }
  if (auto* a = std::get_if<basic_ack>(&m)) {
    if (_tx) {
      _tx_settles.push_back({a->delivery_tag, a->multiple, true, false});
      co_return std::nullopt;
    }
    co_return settle(a->delivery_tag, a->multiple, true, false, 60, 80);
  }
  if (auto* n = std::get_if<basic_nack>(&m)) {
    if (_tx) {
      _tx_settles.push_back({n->delivery_tag, n->multiple, false, n->requeue});
      co_return std::nullopt;
    }
    co_return settle(n->delivery_tag, n->multiple, false, n->requeue, 60, 120);
  }
  if (auto* r = std::get_if<basic_reject>(&m)) {
    if (_tx) {
      _tx_settles.push_back({r->delivery_tag, false, false, r->requeue});
      co_return std::nullopt;
    }
    co_return settle(r->delivery_tag, false, false, r->requeue, 60, 90);
  }
  if (auto* q = std::get_if<basic_qos>(&m)) {
    if (q->global) {
      int64_t held = 0;
      for (auto& [tag, u] : _unacked) held += u.consumer_tag.empty() ? 0 : 1;
      _channel_prefetch = q->prefetch_count;
      _channel_credit->store(q->prefetch_count ? int64_t(q->prefetch_count) - held : kUnlimited);
      poke_blocked();
    } else {
      _consumer_prefetch = q->prefetch_count;
    }
    reply(basic_qos_ok{});
    co_return std::nullopt;
  }
  if (auto* c = std::get_if<basic_consume>(&m)) co_return co_await consume(*c);
  if (auto* c = std::get_if<basic_cancel>(&m)) co_return cancel(*c);
  if (auto* g = std::get_if<basic_get>(&m)) co_return co_await get(*g);
  if (auto* r = std::get_if<basic_recover>(&m)) {
    if (auto e = settle(0, true, false, true, 60, 110); e || _closing) co_return e;
    (void)r;
    reply(basic_recover_ok{});
    co_return std::nullopt;
  }
  if (std::holds_alternative<basic_recover_async>(m)) {
    co_return settle(0, true, false, true, 60, 100);
  }
  const auto& t = traits(m);
  co_return error{reply_code::command_invalid, "unexpected " + std::string(t.name), t.class_id,
                  t.method_id};
}

net::awaitable<std::optional<error>> channel::consume(const basic_consume& m) {
  auto name = resolve_queue(m.queue);
  if (!name) co_return fail(reply_code::not_found, "no previously declared queue", 60, 20);
  broker::service_status why;
  auto ref = find_queue(*name, &why);
  if (!ref) co_return fail(why, 60, 20);
  std::string tag = m.consumer_tag.empty() ? generated_name("amq.ctag-") : m.consumer_tag;
  if (_consumers.count(tag))
    co_return error{reply_code::not_allowed,
                    "attempt to reuse consumer tag '" + tag + "'", 60, 20};
  auto link = std::make_shared<consumer_link>();
  link->ch = weak_from_this();
  link->home = _conn.executor();
  link->tag = tag;
  link->q = *ref;
  link->no_ack = m.no_ack;
  link->limited = !m.no_ack && _consumer_prefetch > 0;
  link->credit = _consumer_prefetch;
  link->channel_credit = _channel_credit;
  link->flow_active = _flow_active;
  link->pending_output = _conn.pending_output_ptr();
  consumer& c = _consumers[tag];
  c.tag = tag;
  c.q = *ref;
  c.id = _conn.queues().next_id();
  c.no_ack = m.no_ack;
  c.link = link;
  remember_queue(*ref);
  auto q = ref->q;
  auto id = c.id;
  auto holder = _holder;
  bool exclusive = m.exclusive;
  bool no_ack = m.no_ack;
  bool added = co_await _conn.queues().shards().invoke_on(
      ref->shard, [q, id, holder, link, no_ack, exclusive] {
        return q->add_consumer(id, holder, link, no_ack, exclusive);
      });
  auto it = _consumers.find(tag);
  if (it == _consumers.end()) co_return std::nullopt;  // the queue went meanwhile
  if (!added) {
    _consumers.erase(it);
    co_return fail(reply_code::access_refused,
                   "queue '" + *name + "' in vhost '" + _conn.vhost() + "' in exclusive use", 60,
                   20);
  }
  if (!m.nowait) write_method_frame(_conn.output(), _number, basic_consume_ok{.consumer_tag = tag});
  it->second.ready = true;
  for (auto& [d, reserved] : it->second.early) write_delivery(tag, it->second.q, d, no_ack);
  it->second.early.clear();
  _conn.flush();
  co_return std::nullopt;
}

std::optional<error> channel::cancel(const basic_cancel& m) {
  auto it = _consumers.find(m.consumer_tag);
  if (it != _consumers.end()) {
    auto q = it->second.q;
    auto id = it->second.id;
    _conn.queues().shards().post_to(q.shard, [q, id] { q.q->cancel_consumer(id); });
    _consumers.erase(it);
  }
  if (!m.nowait) reply(basic_cancel_ok{.consumer_tag = m.consumer_tag});
  return std::nullopt;
}

net::awaitable<std::optional<error>> channel::get(const basic_get& m) {
  auto name = resolve_queue(m.queue);
  if (!name) co_return fail(reply_code::not_found, "no previously declared queue", 60, 70);
  broker::service_status why;
  auto ref = find_queue(*name, &why);
  if (!ref) co_return fail(why, 60, 70);
  remember_queue(*ref);
  auto q = ref->q;
  auto holder = _holder;
  bool no_ack = m.no_ack;
  auto got = co_await _conn.queues().shards().invoke_on(
      ref->shard, [q, holder, no_ack] { return q->get(holder, no_ack); });
  if (!got.message) {
    reply(basic_get_empty{});
    co_return std::nullopt;
  }
  uint64_t tag = _next_delivery_tag++;
  if (!no_ack) _unacked.emplace(tag, unacked{*ref, got.message->offset, {}});
  auto& msg = *got.message->message;
  auto& out = _conn.output();
  write_method_frame(out, _number,
                     basic_get_ok{.delivery_tag = tag,
                                  .redelivered = got.message->redelivered,
                                  .exchange = msg.exchange,
                                  .routing_key = msg.routing_key,
                                  .message_count = uint32_t(got.remaining)});
  write_delivery_properties(out, _number, *ref, *got.message);
  write_body_frames(out, _number, msg.body, _conn.frame_max());
  _conn.flush();
  co_return std::nullopt;
}

net::awaitable<std::optional<error>> channel::tx_method(const method& m) {
  if (std::holds_alternative<tx_select>(m)) {
    if (_confirm)
      co_return fail(reply_code::precondition_failed, "cannot switch from confirm to tx mode",
                     90, 10);
    _tx = true;
    reply(tx_select_ok{});
    co_return std::nullopt;
  }
  if (!_tx)
    co_return fail(reply_code::precondition_failed, "channel is not transactional",
                   traits(m).class_id, traits(m).method_id);
  if (std::holds_alternative<tx_rollback>(m)) {
    _tx_publishes.clear();
    _tx_settles.clear();
    reply(tx_rollback_ok{});
    co_return std::nullopt;
  }
  if (std::holds_alternative<tx_commit>(m)) {
    auto settles = std::move(_tx_settles);
    _tx_settles.clear();
    for (auto& s : settles) {
      if (auto e = settle(s.tag, s.multiple, s.ack, s.requeue, 90, 20); e || _closing) co_return e;
    }
    auto publishes = std::move(_tx_publishes);
    _tx_publishes.clear();
    // Commit-ok once every publish is where it is going (durable when persistent).
    auto remaining = std::make_shared<size_t>(publishes.size());
    auto done = std::make_shared<net::asio::steady_timer>(_conn.executor());
    done->expires_at(net::asio::steady_timer::time_point::max());
    for (auto& p : publishes) {
      publish(p.method, p.message, p.headers, [remaining, done](bool) {
        if (--*remaining == 0) done->cancel();
      });
    }
    if (*remaining > 0) co_await done->async_wait(net::use_nothrow);
    if (_closing || _torn_down) co_return std::nullopt;
    reply(tx_commit_ok{});
    co_return std::nullopt;
  }
  const auto& t = traits(m);
  co_return error{reply_code::command_invalid, "unexpected " + std::string(t.name), t.class_id,
                  t.method_id};
}

}  // namespace tern::amqp
