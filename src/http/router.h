#pragma once
// Routes requests to handlers by method and path pattern. A pattern is literal segments and
// {captures}: "/api/queues/{vhost}/{name}". Paths are split into segments before they are
// %-decoded, so a capture may hold '/' ("%2F", RabbitMQ's name for the default vhost).
//
// No route for the path -> 404; a route for the path but not the method -> 405 with Allow;
// a bad %-escape -> 400. Errors are JSON (json.h), like every answer of the admin API.
//
// Built once at start-up and read-only afterwards, so every shard may share one router.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/codec/message.h"
#include "net/asio.h"

namespace tern::http {

struct route_args {
  std::vector<std::string> params;  // the {captures}, in pattern order, decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded

  // The last value of query parameter `name`, or nullptr.
  const std::string* query_value(std::string_view name) const;
  // "true" (or "1", "yes", "") -> true; absent -> false.
  bool query_flag(std::string_view name) const;
};

using handler = std::function<net::awaitable<response>(const request&, const route_args&)>;

class router {
 public:
  void add(std::string method, std::string_view pattern, handler h);

  struct match {
    const handler* fn = nullptr;  // set when a route matched
    route_args args;
    std::optional<response> error;  // 400 / 404 / 405 otherwise
  };
  match find(const request& r) const;

  // find(), then the handler. A handler that throws gets a 500 (and a log line).
  net::awaitable<response> dispatch(const request& r) const;

 private:
  struct route {
    std::string method;
    std::vector<std::string> segments;  // "{...}" marks a capture
    handler fn;
  };
  std::vector<route> _routes;
};

}  // namespace tern::http
