#include "broker/queue_service.h"

#include <algorithm>

#include "base/logger.h"

namespace tern::broker {
namespace {

spdlog::logger& log() { return module_logger("queues"); }

service_status error(service_errc c, std::string msg) { return {c, std::move(msg)}; }

void set(service_status* why, service_status s) {
  if (why) *why = std::move(s);
}

// RabbitMQ compares these arguments when a queue is declared again.
constexpr std::string_view kComparedArguments[] = {
    "x-message-ttl",       "x-expires",           "x-max-length",
    "x-max-length-bytes",  "x-overflow",          "x-dead-letter-exchange",
    "x-dead-letter-routing-key", "x-max-priority", "x-queue-type",
    "x-single-active-consumer", "x-delivery-limit"};

}  // namespace

service_status service_status::from(const routing_status& s) {
  if (s.ok()) return {};
  switch (s.code()) {
    case routing_errc::not_found: return error(service_errc::not_found, s.message());
    case routing_errc::access_refused: return error(service_errc::access_refused, s.message());
    case routing_errc::precondition_failed:
      return error(service_errc::precondition_failed, s.message());
    case routing_errc::corrupt_metadata: return error(service_errc::resource_error, s.message());
  }
  return error(service_errc::resource_error, s.message());
}

queue_service::queue_service(net::shard_set& shards, storage::file_system& fs,
                             queue_service_config cfg)
    : _shards(shards),
      _fs(fs),
      _cfg(std::move(cfg)),
      _flusher(std::make_unique<storage::flusher>(std::max(1u, _cfg.flusher_threads))) {}

queue_service::~queue_service() = default;

std::filesystem::path queue_service::queue_dir(const std::string& vhost,
                                               const std::string& name) const {
  return _cfg.data_dir / "amqp" / "queues" / queue_dir_name(vhost) / queue_dir_name(name);
}

unsigned queue_service::shard_for(const std::string& vhost, const std::string& name) const {
  size_t h = std::hash<std::string>{}(vhost) * 31 + std::hash<std::string>{}(name);
  return unsigned(h % _shards.count());
}

queue_env queue_service::env_for(unsigned shard) {
  queue_env e;
  e.fs = &_fs;
  e.flusher = _flusher.get();
  auto* ctx = &_shards.context(shard);
  e.post = [ctx](std::function<void()> fn) { net::asio::post(*ctx, std::move(fn)); };
  e.executor = _shards.executor(shard);
  e.shard = shard;
  e.log_defaults = _cfg.log_defaults;
  return e;
}

result<void> queue_service::open_queue(const std::string& vhost, queue_entry& entry) {
  unsigned shard = shard_for(vhost, entry.decl.name);
  auto q = queue::open(env_for(shard), entry.decl.name, queue_dir(vhost, entry.decl.name),
                       entry.settings);
  if (!q) return q.error();
  std::string vh = vhost, name = entry.decl.name;
  (*q)->set_dead_letter_hook([this, vh](const queue& from, message_ptr m, removal_reason why) {
    on_dead_letter(vh, from, std::move(m), why);
  });
  (*q)->set_unused_hook([this, vh, name] { on_unused(vh, name); });
  entry.ref = queue_ref{*q, shard};
  return {};
}

void queue_service::remove_queue_locked(vhost_state& vh, const std::string& name) {
  auto it = vh.queues.find(name);
  if (it == vh.queues.end()) return;
  queue_ref ref = it->second.ref;
  vh.table.delete_queue(name);
  vh.queues.erase(it);
  if (ref.q) {
    _shards.post_to(ref.shard, [ref] {
      if (auto r = ref.q->close(true); !r)
        log().warn("deleting queue '{}': {}", ref.q->name(), r.error().message());
    });
  }
}

// ---- vhosts ----------------------------------------------------------------------------

bool queue_service::has_vhost(const std::string& name) const {
  std::lock_guard lock(_mutex);
  return _vhosts.count(name) > 0;
}

std::vector<std::string> queue_service::list_vhosts() const {
  std::lock_guard lock(_mutex);
  std::vector<std::string> out;
  for (auto& [name, vh] : _vhosts) out.push_back(name);
  return out;
}

service_status queue_service::add_vhost(const std::string& name) {
  if (name.empty() || name.size() > 255)
    return error(service_errc::precondition_failed, "invalid vhost name");
  std::lock_guard lock(_mutex);
  if (_vhosts.count(name)) return {};
  _vhosts.emplace(name, std::make_unique<vhost_state>(name));
  if (auto w = write_metadata_locked(); !w)
    return error(service_errc::resource_error, "cannot write metadata: " + w.error().message());
  return {};
}

service_status queue_service::delete_vhost(const std::string& name) {
  std::lock_guard lock(_mutex);
  auto it = _vhosts.find(name);
  if (it == _vhosts.end()) return error(service_errc::not_found, "no vhost '" + name + "'");
  std::vector<std::string> names;
  for (auto& [q, e] : it->second->queues) names.push_back(q);
  for (auto& q : names) remove_queue_locked(*it->second, q);
  _vhosts.erase(it);
  if (auto w = write_metadata_locked(); !w)
    return error(service_errc::resource_error, "cannot write metadata: " + w.error().message());
  return {};
}

// ---- exchanges and bindings ------------------------------------------------------------

namespace {
template <class F>
service_status with_table_change(std::mutex& m, auto& vhosts, const std::string& vhost, F fn,
                                 auto write) {
  std::lock_guard lock(m);
  auto it = vhosts.find(vhost);
  if (it == vhosts.end()) return error(service_errc::not_found, "no vhost '" + vhost + "'");
  auto& table = it->second->table;
  uint64_t before = table.durable_generation();
  auto st = service_status::from(fn(table));
  if (st.ok() && table.durable_generation() != before) {
    if (auto w = write(); !w)
      return error(service_errc::resource_error, "cannot write metadata: " + w.error().message());
  }
  return st;
}
}  // namespace

service_status queue_service::declare_exchange(const std::string& vhost,
                                               const exchange_declaration& d) {
  return with_table_change(
      _mutex, _vhosts, vhost, [&](routing_table& t) { return t.declare_exchange(d); },
      [this] { return write_metadata_locked(); });
}

service_status queue_service::delete_exchange(const std::string& vhost, const std::string& name,
                                              bool if_unused) {
  return with_table_change(
      _mutex, _vhosts, vhost, [&](routing_table& t) { return t.delete_exchange(name, if_unused); },
      [this] { return write_metadata_locked(); });
}

service_status queue_service::bind(const std::string& vhost, const binding& b) {
  return with_table_change(
      _mutex, _vhosts, vhost, [&](routing_table& t) { return t.bind(b); },
      [this] { return write_metadata_locked(); });
}

service_status queue_service::unbind(const std::string& vhost, const binding& b) {
  return with_table_change(
      _mutex, _vhosts, vhost, [&](routing_table& t) { return t.unbind(b); },
      [this] { return write_metadata_locked(); });
}

// ---- queues ----------------------------------------------------------------------------

namespace {
bool equivalent_arguments(const header_table& a, const header_table& b, std::string* which) {
  for (auto name : kComparedArguments) {
    const header_value* x = find_header(a, name);
    const header_value* y = find_header(b, name);
    bool same = (!x && !y) || (x && y && header_values_match(*x, *y));
    if (!same) {
      *which = std::string(name);
      return false;
    }
  }
  return true;
}
}  // namespace

result<queue_declare_ok> queue_service::declare_queue(const std::string& vhost,
                                                      const queue_declaration& d,
                                                      service_status* why) {
  std::lock_guard lock(_mutex);
  auto vit = _vhosts.find(vhost);
  if (vit == _vhosts.end()) {
    set(why, error(service_errc::not_found, "no vhost '" + vhost + "'"));
    return make_error_code(std::errc::no_such_file_or_directory);
  }
  auto& vh = *vit->second;
  auto fail = [&](service_errc c, std::string msg) -> result<queue_declare_ok> {
    set(why, error(c, std::move(msg)));
    return make_error_code(std::errc::invalid_argument);
  };
  auto it = vh.queues.find(d.name);
  if (it != vh.queues.end()) {
    auto& e = it->second;
    if (e.decl.exclusive && e.decl.owner != d.owner)
      return fail(service_errc::resource_locked,
                  "cannot obtain exclusive access to locked " + describe_queue(vhost, d.name) +
                      ". It could be originally declared on another connection or the "
                      "exclusive property value does not match that of the original "
                      "declaration.");
    if (!d.passive) {
      auto inequivalent = [&](const char* what, bool got, bool have) {
        return fail(service_errc::precondition_failed,
                    std::string("inequivalent arg '") + what + "' for " +
                        describe_queue(vhost, d.name) + ": received '" +
                        (got ? "true" : "false") + "' but current is '" +
                        (have ? "true" : "false") + "'");
      };
      if (d.durable != e.decl.durable) return inequivalent("durable", d.durable, e.decl.durable);
      if (d.auto_delete != e.decl.auto_delete)
        return inequivalent("auto_delete", d.auto_delete, e.decl.auto_delete);
      if (d.exclusive != e.decl.exclusive)
        return inequivalent("exclusive", d.exclusive, e.decl.exclusive);
      std::string which;
      if (!equivalent_arguments(d.arguments, e.decl.arguments, &which))
        return fail(service_errc::precondition_failed,
                    "inequivalent arg '" + which + "' for " + describe_queue(vhost, d.name));
    }
    queue_declare_ok ok;
    ok.name = d.name;
    return ok;  // counts are filled in by the caller on the queue's shard
  }
  if (d.passive)
    return fail(service_errc::not_found, "no " + describe_queue(vhost, d.name));
  if (d.name.rfind("amq.", 0) == 0 && !d.server_named)
    return fail(service_errc::access_refused,
                "queue name '" + d.name + "' contains reserved prefix 'amq.*'");
  queue_entry entry;
  entry.decl = d;
  entry.decl.passive = false;
  if (auto st = parse_queue_arguments(d.arguments, entry.settings); !st) {
    set(why, st);
    return make_error_code(std::errc::invalid_argument);
  }
  entry.settings.durable = d.durable && !d.exclusive;
  entry.settings.exclusive = d.exclusive;
  entry.settings.auto_delete = d.auto_delete;
  if (auto r = open_queue(vhost, entry); !r)
    return fail(service_errc::resource_error,
                "cannot create " + describe_queue(vhost, d.name) + ": " + r.error().message());
  vh.table.declare_queue(d.name, entry.settings.durable);
  vh.queues.emplace(d.name, std::move(entry));
  if (d.durable && !d.exclusive) {
    if (auto w = write_metadata_locked(); !w)
      return fail(service_errc::resource_error, "cannot write metadata: " + w.error().message());
  }
  queue_declare_ok ok;
  ok.name = d.name;
  return ok;
}

std::optional<queue_ref> queue_service::find_queue(const std::string& vhost,
                                                   const std::string& name, uint64_t owner,
                                                   service_status* why) {
  std::lock_guard lock(_mutex);
  auto vit = _vhosts.find(vhost);
  if (vit == _vhosts.end()) {
    set(why, error(service_errc::not_found, "no vhost '" + vhost + "'"));
    return std::nullopt;
  }
  auto it = vit->second->queues.find(name);
  if (it == vit->second->queues.end()) {
    set(why, error(service_errc::not_found, "no " + describe_queue(vhost, name)));
    return std::nullopt;
  }
  if (it->second.decl.exclusive && it->second.decl.owner != owner) {
    set(why, error(service_errc::resource_locked,
                   "cannot obtain exclusive access to locked " + describe_queue(vhost, name)));
    return std::nullopt;
  }
  return it->second.ref;
}

net::awaitable<result<uint64_t>> queue_service::delete_queue(std::string vhost,
                                                             std::string name, bool if_unused,
                                                             bool if_empty, uint64_t owner,
                                                             service_status* why) {
  auto ref = find_queue(vhost, name, owner, why);
  if (!ref) {
    // Deleting a queue that does not exist is ok in RabbitMQ.
    if (why && why->code == service_errc::not_found && has_vhost(vhost)) {
      *why = {};
      co_return uint64_t(0);
    }
    co_return make_error_code(std::errc::invalid_argument);
  }
  auto q = ref->q;
  queue_stats stats = co_await _shards.invoke_on(ref->shard, [q] { return q->stats(); });
  if (if_unused && stats.consumers > 0) {
    set(why, error(service_errc::precondition_failed, describe_queue(vhost, name) + " in use"));
    co_return make_error_code(std::errc::invalid_argument);
  }
  if (if_empty && stats.ready > 0) {
    set(why, error(service_errc::precondition_failed, describe_queue(vhost, name) + " not empty"));
    co_return make_error_code(std::errc::invalid_argument);
  }
  std::lock_guard lock(_mutex);
  auto vit = _vhosts.find(vhost);
  if (vit == _vhosts.end()) co_return uint64_t(0);
  auto it = vit->second->queues.find(name);
  if (it == vit->second->queues.end() || it->second.ref.q != q) co_return uint64_t(0);
  bool durable = it->second.settings.durable;
  remove_queue_locked(*vit->second, name);
  if (durable) {
    if (auto w = write_metadata_locked(); !w) {
      set(why, error(service_errc::resource_error,
                     "cannot write metadata: " + w.error().message()));
      co_return w.error();
    }
  }
  co_return uint64_t(stats.ready);
}

void queue_service::drop_exclusive(uint64_t owner) {
  std::lock_guard lock(_mutex);
  for (auto& [vname, vh] : _vhosts) {
    std::vector<std::string> names;
    for (auto& [name, e] : vh->queues)
      if (e.decl.exclusive && e.decl.owner == owner) names.push_back(name);
    for (auto& n : names) remove_queue_locked(*vh, n);
  }
}

void queue_service::on_unused(const std::string& vhost, const std::string& name) {
  service_status why;
  std::lock_guard lock(_mutex);
  auto vit = _vhosts.find(vhost);
  if (vit == _vhosts.end()) return;
  auto it = vit->second->queues.find(name);
  if (it == vit->second->queues.end()) return;
  bool durable = it->second.settings.durable;
  remove_queue_locked(*vit->second, name);
  if (durable) (void)write_metadata_locked();
}

net::awaitable<std::vector<queue_service::queue_summary>> queue_service::list_queues() {
  std::vector<queue_summary> out;
  std::vector<std::pair<size_t, queue_ref>> refs;
  {
    std::lock_guard lock(_mutex);
    for (auto& [vname, vh] : _vhosts) {
      for (auto& [name, e] : vh->queues) {
        queue_summary s;
        s.vhost = vname;
        s.name = name;
        s.durable = e.settings.durable;
        s.exclusive = e.decl.exclusive;
        s.auto_delete = e.decl.auto_delete;
        refs.emplace_back(out.size(), e.ref);
        out.push_back(std::move(s));
      }
    }
  }
  for (auto& [index, ref] : refs) {
    auto q = ref.q;
    out[index].stats = co_await _shards.invoke_on(ref.shard, [q] { return q->stats(); });
  }
  co_return out;
}

// ---- publishing ------------------------------------------------------------------------

void queue_service::publish(const std::string& vhost, const std::string& exchange,
                            const std::string& routing_key, const header_table& headers,
                            message_ptr m, publish_done done, const route_options& options) {
  std::vector<queue_ref> targets;
  publish_outcome outcome;
  {
    std::lock_guard lock(_mutex);
    auto vit = _vhosts.find(vhost);
    if (vit == _vhosts.end()) {
      outcome.status = error(service_errc::not_found, "no vhost '" + vhost + "'");
      return done(outcome);
    }
    auto routed = vit->second->table.route(exchange, routing_key, headers, options);
    if (!routed.status) {
      outcome.status = service_status::from(routed.status);
      return done(outcome);
    }
    for (auto& name : routed.queues) {
      auto it = vit->second->queues.find(name);
      if (it != vit->second->queues.end() && it->second.ref.q) targets.push_back(it->second.ref);
    }
  }
  append_to(std::move(targets), std::move(m), std::move(outcome), std::move(done));
}

void queue_service::append_to(std::vector<queue_ref> targets, message_ptr m,
                              publish_outcome outcome, publish_done done) {
  outcome.queues = targets.size();
  if (targets.empty()) return done(outcome);

  // Completions come back to this shard, so the tally needs no lock.
  struct tally {
    publish_outcome outcome;
    size_t remaining;
    publish_done done;
  };
  auto t = std::make_shared<tally>(tally{outcome, targets.size(), std::move(done)});
  const unsigned home = net::shard_set::current();
  auto finish = [t](queue::publish_status s) {
    if (s == queue::publish_status::rejected) ++t->outcome.rejected;
    if (s == queue::publish_status::failed) ++t->outcome.failed;
    if (--t->remaining == 0) t->done(t->outcome);
  };
  for (auto& ref : targets) {
    if (ref.shard == home) {
      ref.q->publish(m, finish);
    } else {
      _shards.post_to(ref.shard, [this, ref, m, finish, home] {
        ref.q->publish(m, [this, finish, home](queue::publish_status s) {
          _shards.post_to(home, [finish, s] { finish(s); });
        });
      });
    }
  }
}

void queue_service::on_dead_letter(const std::string& vhost, const queue& from, message_ptr m,
                                   removal_reason why) {
  const auto& s = from.settings();
  if (!s.dead_letter_exchange || !_rewrite) return;
  dead_letter_event ev;
  ev.vhost = vhost;
  ev.queue = from.name();
  ev.reason = why;
  ev.exchange = *s.dead_letter_exchange;
  ev.routing_key = s.dead_letter_routing_key.value_or(m->routing_key);
  auto [rewritten, headers] = _rewrite(*m, ev);
  if (!rewritten) return;
  route_options options;
  options.allow_internal = true;
  std::string queue_name = from.name();
  auto cycle = dead_letter_cycle_queues(headers, why);
  std::vector<queue_ref> targets;
  size_t dropped = 0;
  {
    std::lock_guard lock(_mutex);
    auto vit = _vhosts.find(vhost);
    if (vit == _vhosts.end()) return;
    auto routed = vit->second->table.route(ev.exchange, ev.routing_key, headers, options);
    if (!routed.status) {
      log().debug("dead-lettering from '{}': {}", queue_name, routed.status.message());
      return;
    }
    for (auto& name : routed.queues) {
      if (std::find(cycle.begin(), cycle.end(), name) != cycle.end()) {
        ++dropped;
        continue;
      }
      auto it = vit->second->queues.find(name);
      if (it != vit->second->queues.end() && it->second.ref.q) targets.push_back(it->second.ref);
    }
  }
  if (dropped)
    log().debug("dead-lettered message from '{}' ({}) dropped for {} queues: cycle", queue_name,
                removal_reason_name(why), dropped);
  append_to(std::move(targets), rewritten, {}, [queue_name, why](publish_outcome o) {
    if (o.queues == 0 || o.failed)
      log().debug("dead-lettered message from '{}' ({}) reached {} queues", queue_name,
                  removal_reason_name(why), o.queues);
  });
}

std::vector<std::string> dead_letter_cycle_queues(const header_table& routing_headers,
                                                  removal_reason why) {
  std::vector<std::string> out;
  if (why == removal_reason::rejected) return out;
  const header_value* deaths = find_header(routing_headers, "x-death");
  const header_array* list = deaths ? deaths->as_array() : nullptr;
  if (!list) return out;
  // Most recent first: every queue met before the first rejection closes a fully automatic
  // cycle if the message goes back there.
  for (auto& d : *list) {
    const header_table* t = d.as_table();
    if (!t) continue;
    const header_value* reason = find_header(*t, "reason");
    const std::string* r = reason ? reason->as_string() : nullptr;
    if (r && *r == removal_reason_name(removal_reason::rejected)) break;
    const header_value* queue = find_header(*t, "queue");
    if (const std::string* q = queue ? queue->as_string() : nullptr) out.push_back(*q);
  }
  return out;
}

// ---- lifecycle -------------------------------------------------------------------------

net::awaitable<result<void>> queue_service::start() {
  if (auto r = load_metadata(); !r) co_return r.error();
  _timers.resize(_shards.count());
  for (unsigned s = 0; s < _shards.count(); ++s) {
    _timers[s] = std::make_unique<net::asio::steady_timer>(_shards.executor(s));
    net::asio::co_spawn(_shards.executor(s), housekeeping_loop(s), net::asio::detached);
  }
  co_return result<void>{};
}

net::awaitable<void> queue_service::housekeeping_loop(unsigned shard) {
  auto& timer = *_timers[shard];
  while (!_stopping.load()) {
    timer.expires_after(std::chrono::milliseconds(_cfg.housekeeping_interval_ms));
    auto [ec] = co_await timer.async_wait(net::use_nothrow);
    if (ec || _stopping.load()) co_return;
    std::vector<std::pair<std::string, queue_ref>> mine;
    std::vector<std::pair<std::string, std::string>> expired;
    {
      std::lock_guard lock(_mutex);
      for (auto& [vname, vh] : _vhosts)
        for (auto& [name, e] : vh->queues)
          if (e.ref.shard == shard && e.ref.q) mine.emplace_back(vname, e.ref);
    }
    const int64_t now = system_now_ms();
    for (auto& [vname, ref] : mine) {
      ref.q->housekeeping();
      const auto& s = ref.q->settings();
      if (s.expires_ms >= 0 && ref.q->stats().consumers == 0 &&
          now - ref.q->last_used_ms() >= s.expires_ms)
        expired.emplace_back(vname, ref.q->name());
    }
    for (auto& [vname, name] : expired) on_unused(vname, name);
  }
}

net::awaitable<void> queue_service::stop() {
  if (_before_stop) co_await _before_stop();
  _stopping = true;
  for (unsigned s = 0; s < _timers.size(); ++s) {
    co_await _shards.invoke_on(s, [this, s] {
      if (_timers[s]) _timers[s]->cancel();
    });
  }
  std::vector<queue_ref> refs;
  {
    std::lock_guard lock(_mutex);
    for (auto& [vname, vh] : _vhosts)
      for (auto& [name, e] : vh->queues)
        if (e.ref.q) refs.push_back(e.ref);
  }
  for (auto& ref : refs) {
    co_await _shards.invoke_on(ref.shard, [ref] {
      if (auto r = ref.q->close(!ref.q->settings().durable); !r)
        log().warn("closing queue '{}': {}", ref.q->name(), r.error().message());
    });
  }
  for (unsigned s = 0; s < _timers.size(); ++s)
    co_await _shards.invoke_on(s, [this, s] { _timers[s].reset(); });
}

}  // namespace tern::broker
