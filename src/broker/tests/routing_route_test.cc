// routing_table::route: every exchange type, the default exchange, internal exchanges,
// exchange-to-exchange bindings with cycles, alternate exchanges, CC/BCC, and a randomized
// comparison with a naive router over random topologies.

#include "broker/routing_table.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <set>

#include "broker/exchange_topic.h"
#include "broker/tests/routing_test_util.h"

namespace tern::broker {
namespace {

using namespace testing;

class RoutingRoute : public ::testing::Test {
 protected:
  RoutingRoute() {
    for (auto q : {"q1", "q2", "q3"}) t.declare_queue(q, false);
  }
  void declare(std::string name, std::string type, header_table args = {}, bool internal = false) {
    ASSERT_ROUTING_OK(t.declare_exchange(
        decl(std::move(name), std::move(type), false, false, internal, std::move(args))));
  }
  void bind(binding b) { ASSERT_ROUTING_OK(t.bind(b)); }

  routing_table t;
};

TEST_F(RoutingRoute, DefaultExchangeRoutesToTheQueueNamedByTheKey) {
  EXPECT_EQ(route(t, "", "q2"), names{"q2"});
  EXPECT_EQ(route(t, "", "nope"), names{});
  EXPECT_EQ(route(t, "", ""), names{});
}

TEST_F(RoutingRoute, DirectMatchesTheWholeKeyAndDeduplicates) {
  declare("d", "direct");
  bind(to_queue("d", "q2", "k"));
  bind(to_queue("d", "q1", "k"));
  bind(to_queue("d", "q1", "k", {{"other", "args"}}));  // a second binding, same queue
  bind(to_queue("d", "q3", "k2"));
  EXPECT_EQ(route(t, "d", "k"), (names{"q1", "q2"}));  // sorted, once each
  EXPECT_EQ(route(t, "d", "k2"), names{"q3"});
  EXPECT_EQ(route(t, "d", "K"), names{});
  EXPECT_EQ(route(t, "d", "k.x"), names{});
}

TEST_F(RoutingRoute, FanoutIgnoresTheKey) {
  bind(to_queue("amq.fanout", "q1", "ignored"));
  bind(to_queue("amq.fanout", "q3"));
  EXPECT_EQ(route(t, "amq.fanout", "anything"), (names{"q1", "q3"}));
}

TEST_F(RoutingRoute, TopicMatchesPatterns) {
  bind(to_queue("amq.topic", "q1", "*.orange.*"));
  bind(to_queue("amq.topic", "q2", "*.*.rabbit"));
  bind(to_queue("amq.topic", "q2", "lazy.#"));
  bind(to_queue("amq.topic", "q3", "#"));
  EXPECT_EQ(route(t, "amq.topic", "quick.orange.rabbit"), (names{"q1", "q2", "q3"}));
  EXPECT_EQ(route(t, "amq.topic", "lazy.orange.elephant"), (names{"q1", "q2", "q3"}));
  EXPECT_EQ(route(t, "amq.topic", "quick.orange.fox"), (names{"q1", "q3"}));
  EXPECT_EQ(route(t, "amq.topic", "lazy"), (names{"q2", "q3"}));
  EXPECT_EQ(route(t, "amq.topic", ""), names{"q3"});
}

TEST_F(RoutingRoute, HeadersMatchesArgumentsAgainstHeaders) {
  bind(to_queue("amq.headers", "q1", "", {{"x-match", "all"}, {"a", 1}, {"b", "x"}}));
  bind(to_queue("amq.match", "q2", "", {{"x-match", "any"}, {"a", 1}, {"b", "x"}}));
  bind(to_exchange("amq.headers", "amq.match", "", {{"c", header_value{}}}));
  EXPECT_EQ(route(t, "amq.headers", "", {{"b", "x"}, {"a", 1}}), names{"q1"});
  EXPECT_EQ(route(t, "amq.headers", "", {{"b", "x"}, {"a", 1}, {"c", 0}}), (names{"q1", "q2"}));
  EXPECT_EQ(route(t, "amq.headers", "", {{"a", 1}}), names{});
  EXPECT_EQ(route(t, "amq.match", "", {{"a", 1}}), names{"q2"});
  EXPECT_EQ(route(t, "amq.headers", "", {}), names{});
}

TEST_F(RoutingRoute, DelayedMessageExchangeRoutesAsItsDelayedType) {
  declare("dt", "x-delayed-message", {{"x-delayed-type", "topic"}});
  declare("dd", "x-delayed-message", {{"x-delayed-type", "direct"}});
  declare("df", "x-delayed-message", {{"x-delayed-type", "fanout"}});
  declare("dh", "x-delayed-message", {{"x-delayed-type", "headers"}});
  bind(to_queue("dt", "q1", "a.*"));
  bind(to_queue("dd", "q2", "a.*"));
  bind(to_queue("df", "q3", "zzz"));
  bind(to_queue("dh", "q1", "", {{"h", true}}));
  EXPECT_EQ(route(t, "dt", "a.b"), names{"q1"});
  EXPECT_EQ(route(t, "dd", "a.b"), names{});
  EXPECT_EQ(route(t, "dd", "a.*"), names{"q2"});
  EXPECT_EQ(route(t, "df", "a.b"), names{"q3"});
  EXPECT_EQ(route(t, "dh", "", {{"h", true}}), names{"q1"});
}

TEST_F(RoutingRoute, UnknownExchangeIsNotFound) {
  auto r = t.route("nope", "k", {});
  EXPECT_EQ(r.status.code(), routing_errc::not_found);
  EXPECT_EQ(r.status.message(), "no exchange 'nope' in vhost '/'");
}

TEST_F(RoutingRoute, InternalExchangesRefuseClientsButRouteForTheBroker) {
  declare("int", "fanout", {}, /*internal=*/true);
  bind(to_queue("int", "q1"));
  auto r = t.route("int", "", {});
  EXPECT_EQ(r.status.code(), routing_errc::access_refused);
  EXPECT_EQ(r.status.message(), "cannot publish to internal exchange 'int' in vhost '/'");
  r = t.route("int", "", {}, {.allow_internal = true});
  EXPECT_TRUE(r.status);
  EXPECT_EQ(r.queues, names{"q1"});
  // Reached through a binding, an internal exchange routes normally.
  bind(to_exchange("amq.fanout", "int"));
  EXPECT_EQ(route(t, "amq.fanout", ""), names{"q1"});
}

TEST_F(RoutingRoute, ExchangeToExchangeBindingsAreFollowedWithTheSameKey) {
  declare("a", "topic");
  declare("b", "direct");
  declare("c", "fanout");
  bind(to_exchange("a", "b", "x.*"));
  bind(to_exchange("b", "c", "x.y"));
  bind(to_queue("b", "q1", "x.z"));
  bind(to_queue("c", "q2"));
  EXPECT_EQ(route(t, "a", "x.y"), names{"q2"});
  EXPECT_EQ(route(t, "a", "x.z"), names{"q1"});
  EXPECT_EQ(route(t, "a", "y.y"), names{});
}

TEST_F(RoutingRoute, CyclesAndSelfBindingsVisitEachExchangeOnce) {
  declare("a", "fanout");
  declare("b", "fanout");
  bind(to_exchange("a", "a"));
  bind(to_exchange("a", "b"));
  bind(to_exchange("b", "a"));
  bind(to_queue("b", "q1"));
  bind(to_queue("a", "q2"));
  EXPECT_EQ(route(t, "a", ""), (names{"q1", "q2"}));
  EXPECT_EQ(route(t, "b", ""), (names{"q1", "q2"}));
}

TEST_F(RoutingRoute, DiamondsDeliverOnce) {
  declare("top", "fanout");
  declare("l", "fanout");
  declare("r", "fanout");
  bind(to_exchange("top", "l"));
  bind(to_exchange("top", "r"));
  bind(to_queue("l", "q1"));
  bind(to_queue("r", "q1"));
  EXPECT_EQ(route(t, "top", ""), names{"q1"});
}

TEST_F(RoutingRoute, AlternateExchangeTakesWhatMatchesNoBinding) {
  declare("ae", "fanout");
  declare("x", "direct", {{"alternate-exchange", "ae"}});
  bind(to_queue("ae", "q3"));
  bind(to_queue("x", "q1", "k"));
  EXPECT_EQ(route(t, "x", "k"), names{"q1"});
  EXPECT_EQ(route(t, "x", "other"), names{"q3"});
}

TEST_F(RoutingRoute, AlternateExchangesChainAndCyclesEnd) {
  declare("a", "direct", {{"alternate-exchange", "b"}});
  declare("b", "direct", {{"alternate-exchange", "c"}});
  declare("c", "direct", {{"alternate-exchange", "a"}});  // back to the start
  bind(to_queue("c", "q2", "k"));
  EXPECT_EQ(route(t, "a", "k"), names{"q2"});
  EXPECT_EQ(route(t, "a", "nothing"), names{});
  declare("self", "direct", {{"alternate-exchange", "self"}});
  EXPECT_EQ(route(t, "self", "k"), names{});
}

TEST_F(RoutingRoute, MissingAlternateExchangeMeansUnroutable) {
  declare("x", "direct", {{"alternate-exchange", "not-yet"}});
  EXPECT_EQ(route(t, "x", "k"), names{});
  declare("not-yet", "fanout");
  bind(to_queue("not-yet", "q1"));
  EXPECT_EQ(route(t, "x", "k"), names{"q1"});
}

TEST_F(RoutingRoute, AlternateExchangeIsNotUsedWhenABindingMatchedAnExchangeThatRoutesNowhere) {
  // RabbitMQ's rule: x "routed" the message (to y), so x's alternate is not consulted; y's
  // own alternate, if any, is.
  declare("ae", "fanout");
  declare("y", "direct");
  declare("x", "fanout", {{"alternate-exchange", "ae"}});
  bind(to_queue("ae", "q3"));
  bind(to_exchange("x", "y"));
  EXPECT_EQ(route(t, "x", "k"), names{});
  declare("y2", "direct", {{"alternate-exchange", "ae"}});
  bind(to_exchange("x", "y2"));
  EXPECT_EQ(route(t, "x", "k"), names{"q3"});
}

TEST_F(RoutingRoute, AlternateOfTheDefaultExchangeRoutesByQueueName) {
  declare("x", "direct", {{"alternate-exchange", ""}});
  EXPECT_EQ(route(t, "x", "q2"), names{"q2"});
}

TEST_F(RoutingRoute, CcAndBccAddRoutingKeys) {
  declare("d", "direct");
  bind(to_queue("d", "q1", "a"));
  bind(to_queue("d", "q2", "b"));
  bind(to_queue("d", "q3", "c"));
  header_table h{{"CC", header_array{"b", 7, "b"}}, {"BCC", header_array{"c"}}};
  EXPECT_EQ(route(t, "d", "a", h), (names{"q1", "q2", "q3"}));
  EXPECT_EQ(route(t, "", "q1", h), names{"q1"});  // b and c are not queues
  EXPECT_EQ(route(t, "", "x", {{"CC", header_array{"q2", "q3"}}}), (names{"q2", "q3"}));
  // Case matters, as in RabbitMQ.
  EXPECT_EQ(route(t, "d", "a", {{"cc", header_array{"b"}}}), names{"q1"});
  auto r = t.route("d", "a", h, {.cc_bcc = false});
  EXPECT_EQ(r.queues, names{"q1"});
}

TEST_F(RoutingRoute, CcThatIsNotAnArrayIsAnInvalidMessage) {
  auto r = t.route("amq.direct", "a", {{"CC", "b"}});
  EXPECT_EQ(r.status.code(), routing_errc::precondition_failed);
  EXPECT_EQ(r.status.message(), "invalid message: unacceptable type 'string' in header 'CC'");
  r = t.route("amq.direct", "a", {{"BCC", header_value{}}});
  EXPECT_EQ(r.status.code(), routing_errc::precondition_failed);
}

// --- randomized comparison with a naive router ----------------------------------------------

bool naive_topic(std::span<const std::string_view> p, std::span<const std::string_view> w) {
  if (p.empty()) return w.empty();
  if (p[0] == "#")
    return naive_topic(p.subspan(1), w) || (!w.empty() && naive_topic(p, w.subspan(1)));
  if (w.empty()) return false;
  return (p[0] == "*" || p[0] == w[0]) && naive_topic(p.subspan(1), w.subspan(1));
}

// What the table should contain, kept as plainly as possible.
struct model {
  struct exchange {
    exchange_type type;
    std::optional<std::string> ae;
  };
  std::map<std::string, exchange> exchanges;
  std::set<std::string> queues;
  std::vector<binding> bindings;

  names route(const std::string& start, const std::string& key) const {
    std::set<std::string> out, seen{start};
    std::vector<std::string> work{start};
    while (!work.empty()) {
      std::string x = work.back();
      work.pop_back();
      bool any = false;
      if (x.empty()) {
        if (queues.contains(key)) out.insert(key), any = true;
      }
      for (auto& b : bindings) {
        if (b.source != x || x.empty()) continue;
        bool m = false;
        switch (exchanges.at(x).type) {
          case exchange_type::direct:
            m = b.routing_key == key;
            break;
          case exchange_type::fanout:
            m = true;
            break;
          case exchange_type::topic: {
            auto p = split_topic_words(b.routing_key), w = split_topic_words(key);
            m = naive_topic(p, w);
            break;
          }
          default:
            ADD_FAILURE();
        }
        if (!m) continue;
        any = true;
        if (b.kind == destination_kind::queue)
          out.insert(b.destination);
        else if (seen.insert(b.destination).second)
          work.push_back(b.destination);
      }
      auto& ae = exchanges.at(x).ae;
      if (!any && ae && exchanges.contains(*ae) && seen.insert(*ae).second) work.push_back(*ae);
    }
    return {out.begin(), out.end()};
  }
};

TEST(RoutingRouteRandom, AgreesWithANaiveRouter) {
  const char* key_words[] = {"a", "b", "c"};
  const char* pattern_words[] = {"a", "b", "*", "#"};
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](auto& arr) { return arr[rng() % std::size(arr)]; };
    auto key_of = [&](auto& words) {
      std::string k;
      int n = static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) k += (i ? "." : "") + std::string(pick(words));
      return k;
    };
    routing_table t;
    model m;
    m.exchanges[""] = {exchange_type::direct, std::nullopt};
    std::vector<std::string> xnames, qnames;
    for (int i = 0; i < 8; ++i) xnames.push_back("x" + std::to_string(i));
    for (int i = 0; i < 6; ++i) qnames.push_back("q" + std::to_string(i));
    for (auto& q : qnames) {
      t.declare_queue(q, false);
      m.queues.insert(q);
    }
    const char* types[] = {"direct", "fanout", "topic"};
    auto declare = [&](const std::string& name) {
      std::string type = pick(types);
      header_table args;
      std::optional<std::string> ae;
      if (rng() % 3 == 0) {
        ae = rng() % 5 == 0 ? std::string("") : xnames[rng() % xnames.size()];
        args.emplace_back("alternate-exchange", *ae);
      }
      ASSERT_ROUTING_OK(t.declare_exchange(decl(name, type, false, false, false, args)));
      m.exchanges[name] = {*parse_exchange_type(type), ae};
    };
    for (auto& x : xnames) declare(x);

    for (int step = 0; step < 400; ++step) {
      int op = static_cast<int>(rng() % 100);
      if (op < 55) {  // bind
        std::string src = xnames[rng() % xnames.size()];
        if (!m.exchanges.contains(src)) continue;
        bool to_x = rng() % 3 == 0;
        std::string dst = to_x ? xnames[rng() % xnames.size()] : qnames[rng() % qnames.size()];
        if (to_x ? !m.exchanges.contains(dst) : !m.queues.contains(dst)) continue;
        std::string key = m.exchanges[src].type == exchange_type::topic ? key_of(pattern_words)
                                                                        : key_of(key_words);
        binding b = to_x ? to_exchange(src, dst, key) : to_queue(src, dst, key);
        ASSERT_ROUTING_OK(t.bind(b));
        if (std::find(m.bindings.begin(), m.bindings.end(), b) == m.bindings.end())
          m.bindings.push_back(b);
      } else if (op < 70 && !m.bindings.empty()) {  // unbind
        size_t i = rng() % m.bindings.size();
        ASSERT_ROUTING_OK(t.unbind(m.bindings[i]));
        m.bindings.erase(m.bindings.begin() + static_cast<std::ptrdiff_t>(i));
      } else if (op < 76) {  // delete and re-declare a queue
        std::string q = qnames[rng() % qnames.size()];
        t.delete_queue(q);
        m.queues.erase(q);
        std::erase_if(m.bindings, [&](const binding& b) {
          return b.kind == destination_kind::queue && b.destination == q;
        });
        if (rng() % 2) {
          t.declare_queue(q, false);
          m.queues.insert(q);
        }
      } else if (op < 80) {  // delete and maybe re-declare an exchange
        std::string x = xnames[rng() % xnames.size()];
        ASSERT_ROUTING_OK(t.delete_exchange(x, false));
        m.exchanges.erase(x);
        std::erase_if(m.bindings, [&](const binding& b) {
          return b.source == x || (b.kind == destination_kind::exchange && b.destination == x);
        });
        if (rng() % 2) declare(x);
      } else {  // route
        std::string x = rng() % 6 == 0 ? std::string("") : xnames[rng() % xnames.size()];
        std::string key = rng() % 4 == 0 ? qnames[rng() % qnames.size()] : key_of(key_words);
        auto r = t.route(x, key, {});
        if (!m.exchanges.contains(x)) {
          EXPECT_EQ(r.status.code(), routing_errc::not_found);
          continue;
        }
        ASSERT_TRUE(r.status) << r.status.message();
        ASSERT_EQ(r.queues, m.route(x, key))
            << "seed " << seed << " step " << step << " route " << x << " '" << key << "'";
      }
      ASSERT_EQ(t.binding_count(), m.bindings.size()) << "seed " << seed << " step " << step;
    }
  }
}

}  // namespace
}  // namespace tern::broker
