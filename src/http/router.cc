#include "http/router.h"

#include <exception>

#include "base/logger.h"
#include "http/codec/uri.h"
#include "http/json.h"

namespace tern::http {
namespace {

spdlog::logger& log() { return module_logger("http"); }

bool is_capture(const std::string& s) {
  return s.size() >= 2 && s.front() == '{' && s.back() == '}';
}

// A trailing '/' does not make another resource: "/api/queues/" is "/api/queues".
std::vector<std::string> segments_of(std::string_view pattern) {
  std::vector<std::string> out;
  if (!pattern.empty() && pattern.front() == '/') pattern.remove_prefix(1);
  while (!pattern.empty()) {
    size_t slash = pattern.find('/');
    out.emplace_back(pattern.substr(0, slash));
    if (slash == std::string_view::npos) break;
    pattern.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

response json_response(int status, const nlohmann::json& body) {
  response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  // Invalid UTF-8 in a name (queue names are bytes) is replaced, not an exception.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

response error_response(int status, std::string_view error, std::string_view reason) {
  return json_response(status, {{"error", error}, {"reason", reason}});
}

const std::string* route_args::query_value(std::string_view name) const {
  const std::string* found = nullptr;
  for (auto& [k, v] : query)
    if (k == name) found = &v;
  return found;
}

bool route_args::query_flag(std::string_view name) const {
  const std::string* v = query_value(name);
  return v && (v->empty() || *v == "true" || *v == "1" || *v == "yes");
}

void router::add(std::string method, std::string_view pattern, handler h) {
  _routes.push_back({std::move(method), segments_of(pattern), std::move(h)});
}

router::match router::find(const request& r) const {
  match m;
  auto segments = split_path(r.path);
  auto query = parse_query(r.query);
  if (!segments || !query) {
    m.error = error_response(400, "bad_request", "malformed %-escape in the request target");
    return m;
  }
  if (segments->size() > 1 && segments->back().empty()) segments->pop_back();
  if (segments->size() == 1 && segments->front().empty()) segments->clear();
  std::string allow;
  for (auto& route : _routes) {
    if (route.segments.size() != segments->size()) continue;
    bool same = true;
    for (size_t i = 0; i < route.segments.size() && same; ++i)
      same = is_capture(route.segments[i]) || route.segments[i] == (*segments)[i];
    if (!same) continue;
    if (route.method != r.method) {
      if (allow.find(route.method) == std::string::npos)
        allow += (allow.empty() ? "" : ", ") + route.method;
      continue;
    }
    m.fn = &route.fn;
    for (size_t i = 0; i < route.segments.size(); ++i)
      if (is_capture(route.segments[i])) m.args.params.push_back(std::move((*segments)[i]));
    m.args.query = std::move(*query);
    return m;
  }
  if (allow.empty()) {
    m.error = error_response(404, "not_found", "no such resource: " + r.path);
  } else {
    m.error = error_response(405, "method_not_allowed",
                             r.method + " is not allowed here; allowed: " + allow);
    m.error->headers.add("Allow", allow);
  }
  return m;
}

net::awaitable<response> router::dispatch(const request& r) const {
  match m = find(r);
  if (!m.fn) co_return std::move(*m.error);
  try {
    co_return co_await (*m.fn)(r, m.args);
  } catch (const std::exception& e) {
    log().error("{} {}: handler failed: {}", r.method, r.path, e.what());
  } catch (...) {
    log().error("{} {}: handler failed", r.method, r.path);
  }
  co_return error_response(500, "internal_error", "the request could not be completed");
}

}  // namespace tern::http
