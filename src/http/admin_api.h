#pragma once
// The admin API's endpoints, shaped like RabbitMQ's management API so that its users (and
// scripts) recognise them. Names in paths are %-encoded; the default vhost "/" is "%2F".
//
//   GET    /api/overview                       {"product_name", "product_version", "listeners"}
//   GET    /api/queues                         [queue]
//   GET    /api/queues/{vhost}                 [queue]                  404: no such vhost
//   GET    /api/queues/{vhost}/{name}          queue                    404: no such queue
//   DELETE /api/queues/{vhost}/{name}          {"messages_deleted"}     ?if-unused=true
//                                                                       &if-empty=true (400)
//   DELETE /api/queues/{vhost}/{name}/contents {"messages_purged"}      (purge)
//   GET    /api/vhosts                         [{"name"}]
//   GET    /api/vhosts/{name}                  {"name"}
//   PUT    /api/vhosts/{name}                  201 created, 204 already there
//   DELETE /api/vhosts/{name}                  204, 404
//
//   queue = {"vhost", "name", "durable", "exclusive", "auto_delete", "messages_ready",
//            "messages_unacknowledged", "messages", "consumers", "message_bytes_ready",
//            "state"}
//
// Errors: {"error": "not_found" | "bad_request" | "precondition_failed" | "resource_locked"
// | "internal_error" ..., "reason": "..."} with 404 / 400 / 400 / 409 / 500.
//
// No authentication yet: the listener binds to 127.0.0.1 by default (docs/configuration.md).
//
// Threading: handlers run on the shard of the connection; queue objects are reached through
// shard_set::invoke_on on their own shard. The listener list is read and written under a
// mutex (serve.cc adds each listener as it starts).

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "broker/queue_service.h"
#include "http/router.h"

namespace tern::http {

struct listener_info {
  std::string protocol;  // "amqp", "kafka", "http"
  std::string host;
  uint16_t port = 0;
};

class admin_api {
 public:
  // `queues` must outlive the router the routes are added to.
  admin_api(broker::queue_service& queues, std::string version)
      : _queues(queues), _version(std::move(version)) {}

  void add_routes(router& r);
  void add_listener(listener_info l);

 private:
  net::awaitable<response> overview();
  net::awaitable<response> list_queues(const std::string* vhost);
  net::awaitable<response> get_queue(const std::string& vhost, const std::string& name);
  net::awaitable<response> delete_queue(const std::string& vhost, const std::string& name,
                                        bool if_unused, bool if_empty);
  net::awaitable<response> purge_queue(const std::string& vhost, const std::string& name);
  response list_vhosts();
  response get_vhost(const std::string& name);
  response put_vhost(const std::string& name);
  response delete_vhost(const std::string& name);

  broker::queue_service& _queues;
  std::string _version;
  std::mutex _mutex;  // guards _listeners
  std::vector<listener_info> _listeners;
};

}  // namespace tern::http
