#include "http/admin_api.h"

#include <algorithm>

#include "http/json.h"

namespace tern::http {
namespace {

using broker::service_errc;
using broker::service_status;
using nlohmann::json;

response service_error(const service_status& s) {
  switch (s.code) {
    case service_errc::not_found:
      return error_response(404, "not_found", s.message);
    case service_errc::access_refused:
      return error_response(403, "access_refused", s.message);
    case service_errc::precondition_failed:
      return error_response(400, "precondition_failed", s.message);
    case service_errc::resource_locked:
      return error_response(409, "resource_locked", s.message);
    default:
      return error_response(500, "internal_error", s.message);
  }
}

response no_vhost(const std::string& vhost) {
  return error_response(404, "not_found", "no vhost '" + vhost + "'");
}

json queue_json(const broker::queue_service::queue_summary& q) {
  return {{"vhost", q.vhost},
          {"name", q.name},
          {"durable", q.durable},
          {"exclusive", q.exclusive},
          {"auto_delete", q.auto_delete},
          {"messages_ready", q.stats.ready},
          {"messages_unacknowledged", q.stats.unacked},
          {"messages", q.stats.ready + q.stats.unacked},
          {"consumers", q.stats.consumers},
          {"message_bytes_ready", q.stats.ready_bytes},
          {"state", "running"}};
}

response no_content() {
  response r;
  r.status = 204;
  return r;
}

}  // namespace

void admin_api::add_listener(listener_info l) {
  std::lock_guard lock(_mutex);
  _listeners.push_back(std::move(l));
}

void admin_api::add_routes(router& r) {
  using args = route_args;
  r.add("GET", "/api/overview", [this](const request&, const args&) { return overview(); });
  r.add("GET", "/api/queues", [this](const request&, const args&) { return list_queues(nullptr); });
  r.add("GET", "/api/queues/{vhost}",
        [this](const request&, const args& a) { return list_queues(&a.params[0]); });
  r.add("GET", "/api/queues/{vhost}/{name}",
        [this](const request&, const args& a) { return get_queue(a.params[0], a.params[1]); });
  r.add("DELETE", "/api/queues/{vhost}/{name}", [this](const request&, const args& a) {
    return delete_queue(a.params[0], a.params[1], a.query_flag("if-unused"),
                        a.query_flag("if-empty"));
  });
  r.add("DELETE", "/api/queues/{vhost}/{name}/contents",
        [this](const request&, const args& a) { return purge_queue(a.params[0], a.params[1]); });
  // Synchronous handlers (the vhost registry is behind the service's mutex).
  auto sync = [](auto fn) {
    return [fn](const request&, const args& a) -> net::awaitable<response> { co_return fn(a); };
  };
  r.add("GET", "/api/vhosts", sync([this](const args&) { return list_vhosts(); }));
  r.add("GET", "/api/vhosts/{name}",
        sync([this](const args& a) { return get_vhost(a.params[0]); }));
  r.add("PUT", "/api/vhosts/{name}",
        sync([this](const args& a) { return put_vhost(a.params[0]); }));
  r.add("DELETE", "/api/vhosts/{name}",
        sync([this](const args& a) { return delete_vhost(a.params[0]); }));
}

net::awaitable<response> admin_api::overview() {
  json listeners = json::array();
  {
    std::lock_guard lock(_mutex);
    for (auto& l : _listeners)
      listeners.push_back({{"protocol", l.protocol}, {"ip_address", l.host}, {"port", l.port}});
  }
  co_return json_response(200, {{"product_name", "Tern"},
                                {"product_version", _version},
                                {"listeners", std::move(listeners)}});
}

net::awaitable<response> admin_api::list_queues(const std::string* vhost) {
  if (vhost && !_queues.has_vhost(*vhost)) co_return no_vhost(*vhost);
  auto all = co_await _queues.list_queues();
  json out = json::array();
  for (auto& q : all)
    if (!vhost || q.vhost == *vhost) out.push_back(queue_json(q));
  co_return json_response(200, out);
}

net::awaitable<response> admin_api::get_queue(const std::string& vhost, const std::string& name) {
  service_status why;
  auto ref = _queues.find_queue(vhost, name, 0, &why);
  if (!ref) {
    if (why.code != service_errc::resource_locked) co_return service_error(why);
    // An exclusive queue is its connection's to use, but anyone may look at it.
    for (auto& q : co_await _queues.list_queues())
      if (q.vhost == vhost && q.name == name) co_return json_response(200, queue_json(q));
    co_return error_response(404, "not_found", "no queue '" + name + "' in vhost '" + vhost + "'");
  }
  broker::queue_service::queue_summary s;
  s.vhost = vhost;
  s.name = name;
  auto q = ref->q;
  auto [settings, stats] = co_await _queues.shards().invoke_on(
      ref->shard, [q] { return std::make_pair(q->settings(), q->stats()); });
  s.durable = settings.durable;
  s.exclusive = settings.exclusive;
  s.auto_delete = settings.auto_delete;
  s.stats = stats;
  co_return json_response(200, queue_json(s));
}

net::awaitable<response> admin_api::delete_queue(const std::string& vhost, const std::string& name,
                                                 bool if_unused, bool if_empty) {
  service_status why;
  // queue.delete of a missing queue succeeds in AMQP; here it is a 404, as in RabbitMQ's API.
  if (!_queues.find_queue(vhost, name, 0, &why)) co_return service_error(why);
  auto deleted = co_await _queues.delete_queue(vhost, name, if_unused, if_empty, 0, &why);
  if (!deleted) co_return service_error(why);
  co_return json_response(200, {{"vhost", vhost}, {"name", name}, {"messages_deleted", *deleted}});
}

net::awaitable<response> admin_api::purge_queue(const std::string& vhost, const std::string& name) {
  service_status why;
  auto ref = _queues.find_queue(vhost, name, 0, &why);
  if (!ref) co_return service_error(why);
  auto q = ref->q;
  size_t purged = co_await _queues.shards().invoke_on(ref->shard, [q] { return q->purge(); });
  co_return json_response(200, {{"vhost", vhost}, {"name", name}, {"messages_purged", purged}});
}

response admin_api::list_vhosts() {
  auto names = _queues.list_vhosts();
  std::sort(names.begin(), names.end());
  json out = json::array();
  for (auto& n : names) out.push_back({{"name", n}});
  return json_response(200, out);
}

response admin_api::get_vhost(const std::string& name) {
  if (!_queues.has_vhost(name)) return no_vhost(name);
  return json_response(200, {{"name", name}});
}

response admin_api::put_vhost(const std::string& name) {
  bool existed = _queues.has_vhost(name);
  if (auto s = _queues.add_vhost(name); !s) return service_error(s);
  if (existed) return no_content();
  return json_response(201, {{"name", name}});
}

response admin_api::delete_vhost(const std::string& name) {
  if (auto s = _queues.delete_vhost(name); !s) return service_error(s);
  return no_content();
}

}  // namespace tern::http
