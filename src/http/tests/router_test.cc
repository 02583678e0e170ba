#include "http/router.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/json.h"

namespace tern::http {
namespace {

request make(std::string method, std::string path, std::string query = "") {
  request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  return r;
}

// Runs the router's dispatch to completion on a private io_context.
response run(const router& rt, const request& r) {
  net::asio::io_context io;
  response out;
  net::asio::co_spawn(
      io, [&]() -> net::awaitable<void> { out = co_await rt.dispatch(r); }, net::asio::detached);
  io.run();
  return out;
}

handler echo(std::string tag) {
  return [tag](const request&, const route_args& a) -> net::awaitable<response> {
    nlohmann::json j{{"tag", tag}, {"params", a.params}, {"flag", a.query_flag("if-empty")}};
    co_return json_response(200, j);
  };
}

router sample() {
  router rt;
  rt.add("GET", "/api/queues", echo("all"));
  rt.add("GET", "/api/queues/{vhost}", echo("vhost"));
  rt.add("GET", "/api/queues/{vhost}/{name}", echo("one"));
  rt.add("DELETE", "/api/queues/{vhost}/{name}", echo("delete"));
  rt.add("DELETE", "/api/queues/{vhost}/{name}/contents", echo("purge"));
  rt.add("GET", "/boom", [](const request&, const route_args&) -> net::awaitable<response> {
    throw std::runtime_error("boom");
    co_return response{};
  });
  return rt;
}

nlohmann::json body(const response& r) { return nlohmann::json::parse(r.body); }

TEST(Router, CapturesAreDecodedAfterSplitting) {
  auto rt = sample();
  auto r = run(rt, make("GET", "/api/queues/%2F/a%2Fb"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body(r)["tag"], "one");
  EXPECT_EQ(body(r)["params"], nlohmann::json({"/", "a/b"}));
}

TEST(Router, MethodSelectsTheRouteAndQueryFlagsAreRead) {
  auto rt = sample();
  auto r = run(rt, make("DELETE", "/api/queues/v/q", "if-empty=true"));
  EXPECT_EQ(body(r)["tag"], "delete");
  EXPECT_EQ(body(r)["flag"], true);
  EXPECT_EQ(body(run(rt, make("DELETE", "/api/queues/v/q/contents")))["tag"], "purge");
  EXPECT_EQ(body(run(rt, make("GET", "/api/queues/")))["tag"], "all");
}

TEST(Router, UnknownPathIs404Json) {
  auto rt = sample();
  auto r = run(rt, make("GET", "/api/nothing"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(body(r)["error"], "not_found");
  EXPECT_EQ(run(rt, make("GET", "/")).status, 404);
}

TEST(Router, WrongMethodIs405WithAllow) {
  auto rt = sample();
  auto r = run(rt, make("PUT", "/api/queues/v/q"));
  EXPECT_EQ(r.status, 405);
  ASSERT_NE(r.headers.find("Allow"), nullptr);
  EXPECT_EQ(*r.headers.find("Allow"), "GET, DELETE");
}

TEST(Router, BadEscapeIs400) {
  auto rt = sample();
  EXPECT_EQ(run(rt, make("GET", "/api/queues/%zz")).status, 400);
  EXPECT_EQ(run(rt, make("GET", "/api/queues", "a=%")).status, 400);
}

TEST(Router, ThrowingHandlerIs500) {
  auto rt = sample();
  auto r = run(rt, make("GET", "/boom"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(body(r)["error"], "internal_error");
}

}  // namespace
}  // namespace tern::http
