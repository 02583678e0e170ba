// routing_table durable metadata: what to_json writes (durable things only), the round trip
// through load_json, bindings to queues that did not come back, and corrupt documents that
// must load nothing and never crash.

#include "broker/routing_table.h"

#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "broker/tests/routing_test_util.h"

namespace tern::broker {
namespace {

using namespace testing;

// A table with a bit of everything, durable and not.
routing_table populated() {
  routing_table t("/v");
  t.declare_queue("dq", true);
  t.declare_queue("dq2", true);
  t.declare_queue("tq", false);
  std::string odd_name("bin\xff\x01", 5);  // not UTF-8
  auto ok = [](const routing_status& st) { EXPECT_TRUE(st) << st.message(); };
  ok(t.declare_exchange(
      decl("topic", "topic", true, false, false,
           {{"alternate-exchange", "ae"}, {"x-extra", header_table{{"n", 1.5}}}})));
  ok(t.declare_exchange(decl("ae", "fanout", true)));
  ok(t.declare_exchange(decl("hdr", "headers", true, true, true)));
  ok(t.declare_exchange(
      decl("delayed", "x-delayed-message", true, false, false, {{"x-delayed-type", "direct"}})));
  ok(t.declare_exchange(decl(odd_name, "direct", true)));
  ok(t.declare_exchange(decl("transient", "direct", false)));
  ok(t.bind(to_queue("topic", "dq", "a.#")));
  ok(t.bind(to_queue("topic", "dq2", std::string("k\xfe", 2))));
  ok(t.bind(to_exchange("topic", "hdr", "*.b")));
  ok(t.bind(to_queue("hdr", "dq", "", {{"x-match", "any"}, {"h", header_value{}}, {"n", 2}})));
  ok(t.bind(to_queue("ae", "dq2")));
  ok(t.bind(to_queue("delayed", "dq", "now")));
  ok(t.bind(to_queue(odd_name, "dq", "x")));
  ok(t.bind(to_queue("amq.direct", "dq", "pre")));
  // Not durable: transient queue, transient exchange at either end.
  ok(t.bind(to_queue("topic", "tq", "#")));
  ok(t.bind(to_queue("transient", "dq", "t")));
  ok(t.bind(to_exchange("topic", "transient", "t")));
  return t;
}

routing_table fresh_with_queues() {
  routing_table t("/v");
  t.declare_queue("dq", true);
  t.declare_queue("dq2", true);
  return t;
}

std::vector<exchange_info> durable_exchanges(const routing_table& t) {
  std::vector<exchange_info> out;
  for (auto& x : t.list_exchanges())
    if (x.durable) out.push_back(x);
  return out;
}

TEST(RoutingJson, RoundTripRestoresDurableExchangesAndBindings) {
  routing_table t = populated();
  std::string text = t.to_json_string();  // the non-UTF-8 names must not make dump() throw

  routing_table back = fresh_with_queues();
  load_result r = back.load_json_string(text);
  ASSERT_TRUE(r.status) << r.status.message();
  EXPECT_EQ(r.exchanges, 5u);
  EXPECT_EQ(r.bindings, 8u);
  EXPECT_EQ(r.dropped_bindings, 0u);

  EXPECT_EQ(durable_exchanges(back), durable_exchanges(t));
  EXPECT_EQ(back.find_exchange("transient"), nullptr);
  std::vector<binding> want;
  for (auto& b : t.list_bindings())
    if (b.destination != "tq" && b.source != "transient" && b.destination != "transient")
      want.push_back(b);
  EXPECT_EQ(back.list_bindings(), want);

  // It routes the same way.
  EXPECT_EQ(route(back, "topic", "a.b"), names{"dq"});
  EXPECT_EQ(route(back, "topic", "x.b", {{"h", 1}}), names{"dq"});
  EXPECT_EQ(route(back, "topic", "nothing"), names{"dq2"});  // via the alternate exchange
  EXPECT_EQ(route(back, "topic", std::string("k\xfe", 2)), names{"dq2"});
  EXPECT_EQ(route(back, "delayed", "now"), names{"dq"});
  EXPECT_EQ(route(back, std::string("bin\xff\x01", 5), "x"), names{"dq"});
  EXPECT_EQ(route(back, "amq.direct", "pre"), names{"dq"});

  // And writes the same document again.
  EXPECT_EQ(back.to_json(), t.to_json());
}

TEST(RoutingJson, DocumentShape) {
  routing_table t("/");
  t.declare_queue("q", true);
  ASSERT_ROUTING_OK(t.declare_exchange(decl("x", "fanout", true)));
  ASSERT_ROUTING_OK(t.bind(to_queue("x", "q", "k", {{"a", 1}})));
  EXPECT_EQ(t.to_json(), nlohmann::json::parse(R"({
    "format": 1, "vhost": "/",
    "exchanges": [{"name": "x", "type": "fanout", "auto_delete": false, "internal": false,
                   "arguments": []}],
    "bindings": [{"source": "x", "destination_kind": "queue", "destination": "q",
                  "routing_key": "k", "arguments": [["a", 1]]}]})"));
  routing_table empty;
  EXPECT_EQ(empty.to_json()["exchanges"], nlohmann::json::array());
  EXPECT_EQ(empty.to_json()["bindings"], nlohmann::json::array());
}

TEST(RoutingJson, BindingsToQueuesThatDidNotComeBackAreDropped) {
  routing_table t = populated();
  routing_table back("/v");
  back.declare_queue("dq2", true);  // dq is gone
  load_result r = back.load_json(t.to_json());
  ASSERT_TRUE(r.status) << r.status.message();
  EXPECT_EQ(r.dropped_bindings, 5u);
  EXPECT_EQ(r.bindings, 3u);
  EXPECT_EQ(route(back, "topic", "nothing"), names{"dq2"});
}

TEST(RoutingJson, CorruptDocumentsLoadNothing) {
  const std::string good = populated().to_json_string();
  auto j = [&] { return nlohmann::json::parse(good); };
  std::vector<std::pair<std::string, nlohmann::json>> cases;
  cases.emplace_back("array", nlohmann::json::array());
  {
    auto d = j();
    d["format"] = 2;
    cases.emplace_back("format", d);
  }
  {
    auto d = j();
    d["vhost"] = "/other";
    cases.emplace_back("vhost", d);
  }
  {
    auto d = j();
    d.erase("bindings");
    cases.emplace_back("no bindings", d);
  }
  {
    auto d = j();
    d["exchanges"][0].erase("internal");
    cases.emplace_back("exchange field", d);
  }
  {
    auto d = j();
    d["exchanges"][0]["type"] = "x-unknown";
    cases.emplace_back("type", d);
  }
  {
    auto d = j();
    d["exchanges"][0]["name"] = "amq.sneaky";
    cases.emplace_back("reserved", d);
  }
  {
    auto d = j();
    d["exchanges"][0]["name"] = "";
    cases.emplace_back("default", d);
  }
  {
    auto d = j();
    d["exchanges"].push_back(d["exchanges"][0]);
    cases.emplace_back("twice", d);
  }
  {
    auto d = j();
    d["exchanges"][0]["arguments"] = {{"x", 1}};
    cases.emplace_back("arguments", d);
  }
  {
    auto d = j();
    d["bindings"][0]["source"] = "ghost";
    cases.emplace_back("source", d);
  }
  {
    auto d = j();
    d["bindings"][0]["source"] = "";
    cases.emplace_back("default source", d);
  }
  {
    auto d = j();
    d["bindings"][0]["destination_kind"] = "exchange";
    d["bindings"][0]["destination"] = "ghost";
    cases.emplace_back("destination", d);
  }
  {
    auto d = j();
    d["bindings"][0]["destination_kind"] = "topic";
    cases.emplace_back("kind", d);
  }
  {
    auto d = j();
    for (auto& b : d["bindings"])
      if (b["source"] == "hdr") b["arguments"] = nlohmann::json::parse(R"([["x-match", "most"]])");
    cases.emplace_back("x-match", d);
  }
  {
    auto d = j();
    d["bindings"][0]["routing_key"] = {{"hex", "f"}};
    cases.emplace_back("hex", d);
  }
  {
    nlohmann::json deep = 1;
    for (int i = 0; i < 100; ++i) deep = {{"array", nlohmann::json::array({deep})}};
    auto d = j();
    d["bindings"][0]["arguments"] = nlohmann::json::array({nlohmann::json::array({"a", deep})});
    cases.emplace_back("deep", d);
  }
  for (auto& [what, doc] : cases) {
    routing_table t = fresh_with_queues();
    auto before = t.list_exchanges();
    load_result r = t.load_json(doc);
    EXPECT_EQ(r.status.code(), routing_errc::corrupt_metadata) << what;
    EXPECT_FALSE(r.status.message().empty());
    EXPECT_EQ(r.exchanges + r.bindings + r.dropped_bindings, 0u) << what;
    EXPECT_EQ(t.list_exchanges(), before) << what;
    EXPECT_EQ(t.binding_count(), 0u) << what;
  }
}

TEST(RoutingJson, LoadIntoATableThatAlreadyHasTheExchangeIsCorrupt) {
  routing_table t = populated();
  load_result r = t.load_json(t.to_json());
  EXPECT_EQ(r.status.code(), routing_errc::corrupt_metadata);
}

TEST(RoutingJson, NotJsonAndMangledTextNeverCrash) {
  routing_table t = fresh_with_queues();
  EXPECT_EQ(t.load_json_string("").status.code(), routing_errc::corrupt_metadata);
  EXPECT_EQ(t.load_json_string("{\"format\": 1,").status.code(), routing_errc::corrupt_metadata);
  EXPECT_EQ(t.load_json_string("\xff\xfe").status.code(), routing_errc::corrupt_metadata);

  const std::string good = populated().to_json_string();
  std::mt19937 rng(7);
  int loaded = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string s = good;
    switch (rng() % 3) {
      case 0:
        s.resize(rng() % s.size());
        break;
      case 1:
        s[rng() % s.size()] = static_cast<char>(rng());
        break;
      case 2:
        s.erase(rng() % s.size(), 1 + rng() % 8);
        break;
    }
    routing_table u = fresh_with_queues();
    load_result r = u.load_json_string(s);
    if (r.status) {
      ++loaded;  // a mutation inside a string value can still be a valid document
    } else {
      EXPECT_EQ(r.status.code(), routing_errc::corrupt_metadata);
      EXPECT_EQ(u.binding_count(), 0u);
    }
  }
  EXPECT_LT(loaded, 2000);
}

}  // namespace
}  // namespace tern::broker
