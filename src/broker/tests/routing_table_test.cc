// routing_table metadata operations with RabbitMQ's rules and error texts: predeclared
// exchanges, declare (passive, equivalence, reserved names, argument validation), delete,
// bind and unbind, queue deletion, auto-delete cascades, the durable generation, copies.

#include "broker/routing_table.h"

#include <gtest/gtest.h>

#include "broker/tests/routing_test_util.h"

namespace tern::broker {
namespace {

using namespace testing;

void expect_error(const routing_status& st, routing_errc code, std::string_view message) {
  EXPECT_FALSE(st);
  EXPECT_EQ(st.code(), code) << st.message();
  EXPECT_EQ(st.message(), message);
}

TEST(ExchangeDeclare, EveryVhostHasThePredeclaredExchanges) {
  routing_table t("/prod");
  auto all = t.list_exchanges();
  ASSERT_EQ(all.size(), 6u);
  struct want {
    const char* name;
    exchange_type type;
  };
  for (auto w :
       {want{"", exchange_type::direct}, want{"amq.direct", exchange_type::direct},
        want{"amq.fanout", exchange_type::fanout}, want{"amq.topic", exchange_type::topic},
        want{"amq.headers", exchange_type::headers}, want{"amq.match", exchange_type::headers}}) {
    const exchange_info* x = t.find_exchange(w.name);
    ASSERT_NE(x, nullptr) << w.name;
    EXPECT_EQ(x->type, w.type);
    EXPECT_TRUE(x->durable);
    EXPECT_FALSE(x->auto_delete);
    EXPECT_FALSE(x->internal);
  }
  EXPECT_EQ(t.vhost(), "/prod");
  EXPECT_EQ(t.durable_generation(), 0u);
}

TEST(ExchangeDeclare, CreatesOnceAndRedeclaringEquivalentIsANoOp) {
  routing_table t;
  ASSERT_ROUTING_OK(t.declare_exchange(decl("logs", "topic", true)));
  auto gen = t.durable_generation();
  EXPECT_ROUTING_OK(t.declare_exchange(decl("logs", "topic", true)));
  EXPECT_EQ(t.durable_generation(), gen);
  const exchange_info* x = t.find_exchange("logs");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->type, exchange_type::topic);
  EXPECT_EQ(x->routing_type, exchange_type::topic);
  EXPECT_TRUE(x->durable);
}

TEST(ExchangeDeclare, InequivalentPropertiesArePreconditionFailed) {
  routing_table t;
  ASSERT_ROUTING_OK(t.declare_exchange(decl("x", "direct", true, false, false)));
  expect_error(t.declare_exchange(decl("x", "fanout", true)), routing_errc::precondition_failed,
               "inequivalent arg 'type' for exchange 'x' in vhost '/': received 'fanout' but "
               "current is 'direct'");
  expect_error(t.declare_exchange(decl("x", "direct", false)), routing_errc::precondition_failed,
               "inequivalent arg 'durable' for exchange 'x' in vhost '/': received 'false' but "
               "current is 'true'");
  expect_error(t.declare_exchange(decl("x", "direct", true, true)),
               routing_errc::precondition_failed,
               "inequivalent arg 'auto_delete' for exchange 'x' in vhost '/': received 'true' "
               "but current is 'false'");
  expect_error(t.declare_exchange(decl("x", "direct", true, false, true)),
               routing_errc::precondition_failed,
               "inequivalent arg 'internal' for exchange 'x' in vhost '/': received 'true' but "
               "current is 'false'");
}

TEST(ExchangeDeclare, AlternateExchangeArgumentMustBeEquivalentOthersAreIgnored) {
  routing_table t;
  ASSERT_ROUTING_OK(t.declare_exchange(
      decl("x", "direct", false, false, false, {{"alternate-exchange", "ae"}, {"x-foo", 1}})));
  EXPECT_ROUTING_OK(t.declare_exchange(
      decl("x", "direct", false, false, false, {{"alternate-exchange", "ae"}, {"x-foo", 2}})));
  expect_error(t.declare_exchange(decl("x", "direct")), routing_errc::precondition_failed,
               "inequivalent arg 'alternate-exchange' for exchange 'x' in vhost '/': received "
               "'none' but current is 'ae'");
  expect_error(
      t.declare_exchange(decl("x", "direct", false, false, false, {{"alternate-exchange", "b"}})),
      routing_errc::precondition_failed,
      "inequivalent arg 'alternate-exchange' for exchange 'x' in vhost '/': received 'b' but "
      "current is 'ae'");
  EXPECT_EQ(t.find_exchange("x")->arguments.size(), 2u);  // the first declaration's
}

TEST(ExchangeDeclare, UnknownTypeIsPreconditionFailedEvenForAnExistingName) {
  routing_table t;
  expect_error(t.declare_exchange(decl("x", "x-consistent-hash")),
               routing_errc::precondition_failed, "unknown exchange type 'x-consistent-hash'");
  expect_error(t.declare_exchange(decl("amq.direct", "nope", true)),
               routing_errc::precondition_failed, "unknown exchange type 'nope'");
  EXPECT_EQ(t.find_exchange("x"), nullptr);
}

TEST(ExchangeDeclare, DefaultExchangeCannotBeDeclared) {
  routing_table t;
  expect_error(t.declare_exchange(decl("", "direct", true)), routing_errc::access_refused,
               "operation not permitted on the default exchange");
  expect_error(t.declare_exchange(passive("")), routing_errc::access_refused,
               "operation not permitted on the default exchange");
}

TEST(ExchangeDeclare, ReservedPrefixOnlyForNewExchanges) {
  routing_table t;
  expect_error(t.declare_exchange(decl("amq.custom", "direct")), routing_errc::access_refused,
               "exchange name 'amq.custom' contains reserved prefix 'amq.*'");
  // Re-declaring a predeclared exchange equivalently is allowed, inequivalently is not.
  EXPECT_ROUTING_OK(t.declare_exchange(decl("amq.direct", "direct", true)));
  EXPECT_ROUTING_OK(t.declare_exchange(decl("amq.match", "headers", true)));
  expect_error(t.declare_exchange(decl("amq.topic", "topic", false)),
               routing_errc::precondition_failed,
               "inequivalent arg 'durable' for exchange 'amq.topic' in vhost '/': received "
               "'false' but current is 'true'");
  // "amq" without the dot is an ordinary name.
  EXPECT_ROUTING_OK(t.declare_exchange(decl("amqp.x", "direct")));
}

TEST(ExchangeDeclare, PassiveChecksExistenceOnly) {
  routing_table t;
  expect_error(t.declare_exchange(passive("nope")), routing_errc::not_found,
               "no exchange 'nope' in vhost '/'");
  expect_error(t.declare_exchange(passive("amq.nope")), routing_errc::not_found,
               "no exchange 'amq.nope' in vhost '/'");
  EXPECT_ROUTING_OK(t.declare_exchange(passive("amq.fanout")));
  ASSERT_ROUTING_OK(t.declare_exchange(decl("x", "fanout")));
  auto p = passive("x");
  p.type = "topic";  // ignored, as are the other fields
  p.durable = true;
  EXPECT_ROUTING_OK(t.declare_exchange(p));
}

TEST(ExchangeDeclare, AlternateExchangeMustBeAStringButNeedNotExist) {
  routing_table t;
  expect_error(
      t.declare_exchange(decl("x", "direct", false, false, false, {{"alternate-exchange", 5}})),
      routing_errc::precondition_failed,
      "invalid type 'int' for arg 'alternate-exchange' in exchange 'x' in vhost '/'");
  ASSERT_ROUTING_OK(
      t.declare_exchange(decl("y", "direct", false, false, false, {{"alternate-exchange", "z"}})));
  EXPECT_EQ(t.find_exchange("y")->alternate_exchange, "z");
}

TEST(ExchangeDeclare, DelayedMessageNeedsAnExistingDelayedType) {
  routing_table t;
  const char* must_exist = "Invalid argument, 'x-delayed-type' must be an existing exchange type";
  expect_error(t.declare_exchange(decl("d", "x-delayed-message")),
               routing_errc::precondition_failed, must_exist);
  expect_error(t.declare_exchange(
                   decl("d", "x-delayed-message", false, false, false, {{"x-delayed-type", "x"}})),
               routing_errc::precondition_failed, must_exist);
  expect_error(t.declare_exchange(
                   decl("d", "x-delayed-message", false, false, false, {{"x-delayed-type", 1}})),
               routing_errc::precondition_failed, must_exist);
  expect_error(t.declare_exchange(decl("d", "x-delayed-message", false, false, false,
                                       {{"x-delayed-type", "x-delayed-message"}})),
               routing_errc::precondition_failed,
               "Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'");
  ASSERT_ROUTING_OK(t.declare_exchange(
      decl("d", "x-delayed-message", true, false, false, {{"x-delayed-type", "topic"}})));
  const exchange_info* x = t.find_exchange("d");
  EXPECT_EQ(x->type, exchange_type::delayed_message);
  EXPECT_EQ(x->routing_type, exchange_type::topic);
  expect_error(t.declare_exchange(decl("d", "x-delayed-message", true, false, false,
                                       {{"x-delayed-type", "direct"}})),
               routing_errc::precondition_failed,
               "inequivalent arg 'x-delayed-type' for exchange 'd' in vhost '/': received "
               "'direct' but current is 'topic'");
}

TEST(ExchangeDelete, RulesForDefaultSystemMissingAndInUse) {
  routing_table t;
  expect_error(t.delete_exchange("", false), routing_errc::access_refused,
               "operation not permitted on the default exchange");
  expect_error(t.delete_exchange("amq.direct", false), routing_errc::access_refused,
               "deletion of system exchange 'amq.direct' in vhost '/' not allowed");
  EXPECT_ROUTING_OK(t.delete_exchange("missing", true));

  ASSERT_ROUTING_OK(t.declare_exchange(decl("x", "direct")));
  t.declare_queue("q", false);
  ASSERT_ROUTING_OK(t.bind(to_queue("x", "q", "k")));
  expect_error(t.delete_exchange("x", true), routing_errc::precondition_failed,
               "exchange 'x' in vhost '/' in use");
  EXPECT_ROUTING_OK(t.delete_exchange("x", false));
  EXPECT_EQ(t.find_exchange("x"), nullptr);
  EXPECT_EQ(t.binding_count(), 0u);
  EXPECT_TRUE(t.has_queue("q"));
}

TEST(ExchangeDelete, IfUnusedIgnoresBindingsWhereItIsTheDestination) {
  routing_table t;
  ASSERT_ROUTING_OK(t.declare_exchange(decl("up", "fanout")));
  ASSERT_ROUTING_OK(t.declare_exchange(decl("down", "fanout")));
  ASSERT_ROUTING_OK(t.bind(to_exchange("up", "down")));
  EXPECT_ROUTING_OK(t.delete_exchange("down", true));
  EXPECT_EQ(t.binding_count(), 0u);
  EXPECT_NE(t.find_exchange("up"), nullptr);
}

TEST(RoutingBind, DefaultExchangeBindingsAreImplicit) {
  routing_table t;
  t.declare_queue("q", false);
  ASSERT_ROUTING_OK(t.declare_exchange(decl("x", "direct")));
  const char* refused = "operation not permitted on the default exchange";
  expect_error(t.bind(to_queue("", "q", "q")), routing_errc::access_refused, refused);
  expect_error(t.unbind(to_queue("", "q", "q")), routing_errc::access_refused, refused);
  expect_error(t.bind(to_exchange("x", "")), routing_errc::access_refused, refused);
  expect_error(t.unbind(to_exchange("x", "")), routing_errc::access_refused, refused);
  EXPECT_TRUE(t.list_bindings().empty());
}

TEST(RoutingBind, MissingEndsAreNotFound) {
  routing_table t;
  t.declare_queue("q", false);
  ASSERT_ROUTING_OK(t.declare_exchange(decl("x", "direct")));
  expect_error(t.bind(to_queue("nope", "q")), routing_errc::not_found,
               "no exchange 'nope' in vhost '/'");
  expect_error(t.bind(to_queue("nope", "nq")), routing_errc::not_found,
               "no exchange 'nope' in vhost '/'");  // the source is checked first
  expect_error(t.bind(to_queue("x", "nq")), routing_errc::not_found, "no queue 'nq' in vhost '/'");
  expect_error(t.bind(to_exchange("x", "ny")), routing_errc::not_found,
               "no exchange 'ny' in vhost '/'");
  EXPECT_EQ(t.binding_count(), 0u);
}

TEST(RoutingBind, BindingTwiceIsANoOpAndArgumentOrderDoesNotMatter) {
  routing_table t;
  t.declare_queue("q", false);
  ASSERT_ROUTING_OK(t.declare_exchange(decl("h", "headers")));
  header_table ab{{"x-match", "any"}, {"a", 1}, {"b", "two"}};
  header_table ba{{"b", "two"}, {"a", 1}, {"x-match", "any"}};
  ASSERT_ROUTING_OK(t.bind(to_queue("h", "q", "", ab)));
  ASSERT_ROUTING_OK(t.bind(to_queue("h", "q", "", ba)));
  EXPECT_EQ(t.binding_count(), 1u);
  auto listed = t.list_bindings();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].arguments, sorted_by_name(ab));
  // Another key, other arguments, or an integer 1 written as 1.0: other bindings.
  ASSERT_ROUTING_OK(t.bind(to_queue("h", "q", "k", ab)));
  ASSERT_ROUTING_OK(t.bind(to_queue("h", "q", "", {{"x-match", "any"}, {"a", 1.0}, {"b", "two"}})));
  EXPECT_EQ(t.binding_count(), 3u);
  ASSERT_ROUTING_OK(t.unbind(to_queue("h", "q", "", ba)));
  EXPECT_EQ(t.binding_count(), 2u);
}

TEST(RoutingBind, HeadersExchangesValidateXMatch) {
  routing_table t;
  t.declare_queue("q", false);
  ASSERT_ROUTING_OK(t.declare_exchange(
      decl("dh", "x-delayed-message", false, false, false, {{"x-delayed-type", "headers"}})));
  for (const char* x : {"amq.headers", "amq.match", "dh"}) {
    expect_error(t.bind(to_queue(x, "q", "", {{"x-match", "most"}})),
                 routing_errc::precondition_failed,
                 "Invalid x-match field value most; expected all, any, all-with-x, or any-with-x");
  }
  // Other types do not look at the arguments.
  EXPECT_ROUTING_OK(t.bind(to_queue("amq.direct", "q", "", {{"x-match", "most"}})));
}

TEST(RoutingUnbind, MissingBindingExchangeOrQueueIsOk) {
  routing_table t;
  t.declare_queue("q", false);
  ASSERT_ROUTING_OK(t.declare_exchange(decl("x", "direct")));
  ASSERT_ROUTING_OK(t.bind(to_queue("x", "q", "k")));
  EXPECT_ROUTING_OK(t.unbind(to_queue("x", "q", "other")));
  EXPECT_ROUTING_OK(t.unbind(to_queue("nope", "q", "k")));
  EXPECT_ROUTING_OK(t.unbind(to_queue("x", "nq", "k")));
  EXPECT_ROUTING_OK(t.unbind(to_exchange("x", "ny", "k")));
  EXPECT_EQ(t.binding_count(), 1u);
  EXPECT_ROUTING_OK(t.unbind(to_queue("x", "q", "k")));
  EXPECT_EQ(t.binding_count(), 0u);
  EXPECT_EQ(route(t, "x", "k"), names{});
}

TEST(RoutingQueues, DeletingAQueueRemovesItsBindings) {
  routing_table t;
  t.declare_queue("q1", false);
  t.declare_queue("q2", false);
  ASSERT_ROUTING_OK(t.bind(to_queue("amq.direct", "q1", "k")));
  ASSERT_ROUTING_OK(t.bind(to_queue("amq.direct", "q2", "k")));
  ASSERT_ROUTING_OK(t.bind(to_queue("amq.fanout", "q1")));
  EXPECT_EQ(route(t, "amq.direct", "k"), (names{"q1", "q2"}));
  t.delete_queue("q1");
  EXPECT_FALSE(t.has_queue("q1"));
  EXPECT_EQ(t.binding_count(), 1u);
  EXPECT_EQ(route(t, "amq.direct", "k"), names{"q2"});
  EXPECT_EQ(route(t, "amq.fanout", "k"), names{});
  EXPECT_EQ(route(t, "", "q1"), names{});
  t.delete_queue("q1");  // unknown: no-op
  // A queue declared again under the same name starts without bindings.
  t.declare_queue("q1", false);
  EXPECT_EQ(route(t, "amq.direct", "k"), names{"q2"});
  EXPECT_EQ(route(t, "", "q1"), names{"q1"});
}

TEST(RoutingAutoDelete, NotDeletedBeforeItsFirstBindingButAfterItsLast) {
  routing_table t;
  t.declare_queue("q1", false);
  t.declare_queue("q2", false);
  ASSERT_ROUTING_OK(t.declare_exchange(decl("ad", "direct", false, true)));
  EXPECT_NE(t.find_exchange("ad"), nullptr);  // declared without bindings: stays
  ASSERT_ROUTING_OK(t.bind(to_queue("ad", "q1", "a")));
  ASSERT_ROUTING_OK(t.bind(to_queue("ad", "q2", "b")));
  ASSERT_ROUTING_OK(t.unbind(to_queue("ad", "q1", "a")));
  EXPECT_NE(t.find_exchange("ad"), nullptr);
  ASSERT_ROUTING_OK(t.unbind(to_queue("ad", "q2", "b")));
  EXPECT_EQ(t.find_exchange("ad"), nullptr);
}

TEST(RoutingAutoDelete, QueueDeletionDeletesTheExchangeItLeavesEmpty) {
  routing_table t;
  t.declare_queue("q", false);
  ASSERT_ROUTING_OK(t.declare_exchange(decl("ad", "fanout", false, true)));
  ASSERT_ROUTING_OK(t.declare_exchange(decl("keep", "fanout", false, false)));
  ASSERT_ROUTING_OK(t.bind(to_queue("ad", "q")));
  ASSERT_ROUTING_OK(t.bind(to_queue("keep", "q")));
  t.delete_queue("q");
  EXPECT_EQ(t.find_exchange("ad"), nullptr);
  EXPECT_NE(t.find_exchange("keep"), nullptr);
}

TEST(RoutingAutoDelete, CascadesUpAChainOfExchangeToExchangeBindings) {
  // top(ad) -> mid(ad) -> q, and side(not ad) -> mid.
  routing_table t;
  t.declare_queue("q", false);
  ASSERT_ROUTING_OK(t.declare_exchange(decl("top", "fanout", false, true)));
  ASSERT_ROUTING_OK(t.declare_exchange(decl("mid", "fanout", false, true)));
  ASSERT_ROUTING_OK(t.declare_exchange(decl("side", "fanout")));
  ASSERT_ROUTING_OK(t.bind(to_exchange("top", "mid")));
  ASSERT_ROUTING_OK(t.bind(to_exchange("side", "mid")));
  ASSERT_ROUTING_OK(t.bind(to_queue("mid", "q")));
  EXPECT_EQ(route(t, "top", ""), names{"q"});
  t.delete_queue("q");  // mid loses its only binding, then top loses its only one
  EXPECT_EQ(t.find_exchange("mid"), nullptr);
  EXPECT_EQ(t.find_exchange("top"), nullptr);
  EXPECT_NE(t.find_exchange("side"), nullptr);
  EXPECT_EQ(t.binding_count(), 0u);
}

TEST(RoutingAutoDelete, DeletingADestinationExchangeCanEmptyAnAutoDeleteSource) {
  routing_table t;
  ASSERT_ROUTING_OK(t.declare_exchange(decl("src", "fanout", false, true)));
  ASSERT_ROUTING_OK(t.declare_exchange(decl("dst", "fanout")));
  ASSERT_ROUTING_OK(t.bind(to_exchange("src", "dst")));
  ASSERT_ROUTING_OK(t.delete_exchange("dst", false));
  EXPECT_EQ(t.find_exchange("src"), nullptr);
}

TEST(RoutingAutoDelete, SelfBindingAndCyclesAreDeletedWithoutLoopingForever) {
  routing_table t;
  ASSERT_ROUTING_OK(t.declare_exchange(decl("a", "fanout", false, true)));
  ASSERT_ROUTING_OK(t.declare_exchange(decl("b", "fanout", false, true)));
  ASSERT_ROUTING_OK(t.bind(to_exchange("a", "a")));
  ASSERT_ROUTING_OK(t.bind(to_exchange("a", "b")));
  ASSERT_ROUTING_OK(t.bind(to_exchange("b", "a")));
  EXPECT_EQ(route(t, "a", ""), names{});
  ASSERT_ROUTING_OK(t.unbind(to_exchange("a", "a")));
  EXPECT_NE(t.find_exchange("a"), nullptr);
  // Deleting b removes a->b and b->a; a is left with nothing and goes too.
  ASSERT_ROUTING_OK(t.delete_exchange("b", false));
  EXPECT_EQ(t.find_exchange("a"), nullptr);
  EXPECT_EQ(t.binding_count(), 0u);
}

TEST(RoutingDurability, GenerationMovesOnlyForDurableState) {
  routing_table t;
  t.declare_queue("dq", true);
  t.declare_queue("tq", false);
  auto gen = t.durable_generation();
  ASSERT_ROUTING_OK(t.declare_exchange(decl("tx", "direct", false)));
  EXPECT_EQ(t.durable_generation(), gen);
  ASSERT_ROUTING_OK(t.declare_exchange(decl("dx", "direct", true)));
  EXPECT_GT(t.durable_generation(), gen);
  gen = t.durable_generation();
  ASSERT_ROUTING_OK(t.bind(to_queue("dx", "tq", "k")));  // transient queue
  ASSERT_ROUTING_OK(t.bind(to_queue("tx", "dq", "k")));  // transient exchange
  ASSERT_ROUTING_OK(t.bind(to_exchange("dx", "tx", "k")));
  EXPECT_EQ(t.durable_generation(), gen);
  ASSERT_ROUTING_OK(t.bind(to_queue("dx", "dq", "k")));
  EXPECT_GT(t.durable_generation(), gen);
  gen = t.durable_generation();
  ASSERT_ROUTING_OK(t.bind(to_queue("dx", "dq", "k")));  // already there
  EXPECT_EQ(t.durable_generation(), gen);
  t.delete_queue("dq");
  EXPECT_GT(t.durable_generation(), gen);
}

TEST(RoutingTableCopy, IsAnIndependentEquivalentTable) {
  routing_table t("v");
  t.declare_queue("q1", true);
  t.declare_queue("q2", false);
  ASSERT_ROUTING_OK(t.declare_exchange(decl("topic", "topic", true)));
  ASSERT_ROUTING_OK(t.declare_exchange(decl("direct", "direct", false, true)));
  ASSERT_ROUTING_OK(t.bind(to_queue("topic", "q1", "a.#")));
  ASSERT_ROUTING_OK(t.bind(to_exchange("topic", "direct", "*.b")));
  ASSERT_ROUTING_OK(t.bind(to_queue("direct", "q2", "a.b")));
  ASSERT_ROUTING_OK(t.bind(to_queue("amq.headers", "q2", "", {{"h", 1}})));

  routing_table copy(t);
  EXPECT_EQ(copy.vhost(), "v");
  EXPECT_EQ(copy.list_exchanges(), t.list_exchanges());
  EXPECT_EQ(copy.list_bindings(), t.list_bindings());
  EXPECT_EQ(copy.durable_generation(), t.durable_generation());
  EXPECT_EQ(route(copy, "topic", "a.b"), (names{"q1", "q2"}));
  EXPECT_EQ(route(copy, "amq.headers", "", {{"h", 1}}), names{"q2"});

  t.delete_queue("q2");  // auto-deletes "direct" in t only
  EXPECT_EQ(t.find_exchange("direct"), nullptr);
  EXPECT_NE(copy.find_exchange("direct"), nullptr);
  EXPECT_EQ(route(copy, "topic", "a.b"), (names{"q1", "q2"}));
  EXPECT_EQ(route(t, "topic", "a.b"), names{"q1"});

  routing_table assigned;
  assigned = copy;
  EXPECT_EQ(assigned.list_bindings(), copy.list_bindings());
  routing_table moved(std::move(assigned));
  EXPECT_EQ(route(moved, "topic", "a.b"), (names{"q1", "q2"}));
}

}  // namespace
}  // namespace tern::broker
