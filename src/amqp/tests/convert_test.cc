#include "amqp/convert.h"

#include <gtest/gtest.h>

namespace tern::amqp {
namespace {

content_header header_with(basic_properties p, bytes::buffer& storage) {
  storage.clear();
  encode_basic_properties(p, storage);
  content_header h;
  h.properties = std::move(p);
  h.raw_properties = storage;
  return h;
}

TEST(Convert, FieldTableToHeaderTableWidensIntegers) {
  field_table inner{{"n", int8_t(-3)}};
  field_table t{{"a", uint16_t(7)},      {"b", int64_t(1) << 40}, {"c", "text"},
                {"d", true},             {"e", 2.5},              {"f", field_value()},
                {"g", timestamp{1234}},  {"h", inner},            {"i", field_array{1, "x"}}};
  auto h = to_header_table(t);
  ASSERT_EQ(h.size(), 9u);
  EXPECT_EQ(*h[0].second.as_int(), 7);
  EXPECT_EQ(*h[1].second.as_int(), int64_t(1) << 40);
  EXPECT_EQ(*h[2].second.as_string(), "text");
  EXPECT_TRUE(*h[3].second.as_bool());
  EXPECT_EQ(*h[4].second.as_double(), 2.5);
  EXPECT_TRUE(h[5].second.is_void());
  EXPECT_EQ(*h[6].second.as_int(), 1234);
  EXPECT_EQ(*h[7].second.as_table()->at(0).second.as_int(), -3);
  EXPECT_EQ(h[8].second.as_array()->size(), 2u);
}

TEST(Convert, QueueMessageKeepsRawPropertiesAndReadsDeliveryFields) {
  basic_properties p;
  p.delivery_mode = 2;
  p.priority = 7;
  p.expiration = "1500";
  p.content_type = "text/plain";
  bytes::buffer raw;
  auto h = header_with(p, raw);
  std::string why;
  auto m = to_queue_message("ex", "rk", h, bytes::buffer{'h', 'i'}, &why);
  ASSERT_TRUE(m) << why;
  EXPECT_TRUE(m->persistent);
  EXPECT_EQ(m->priority, 7);
  EXPECT_EQ(m->ttl_ms, 1500);
  EXPECT_EQ(m->properties, raw);
  EXPECT_EQ(m->exchange, "ex");
  EXPECT_EQ(m->routing_key, "rk");
}

TEST(Convert, TransientByDefault) {
  bytes::buffer raw;
  auto h = header_with({}, raw);
  std::string why;
  auto m = to_queue_message("", "q", h, {}, &why);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->persistent);
  EXPECT_EQ(m->ttl_ms, -1);
}

TEST(Convert, InvalidExpirationIsRefused) {
  for (const char* bad : {"-1", "abc", "12x", ""}) {
    basic_properties p;
    p.expiration = bad;
    bytes::buffer raw;
    auto h = header_with(p, raw);
    std::string why;
    EXPECT_FALSE(to_queue_message("", "q", h, {}, &why)) << bad;
    EXPECT_NE(why.find("invalid expiration"), std::string::npos);
  }
}

TEST(Convert, DeadLetterAddsXDeathAndCountsRepeats) {
  basic_properties p;
  p.expiration = "100";
  p.headers = field_table{{"keep", "me"}};
  broker::queue_message m;
  m.exchange = "orig";
  m.routing_key = "key";
  encode_basic_properties(p, m.properties);
  m.body = {'x'};
  broker::dead_letter_event ev{"/", "q1", broker::removal_reason::expired, "dlx", "dead"};

  auto [first, headers] = dead_letter_rewrite(m, ev);
  EXPECT_EQ(first->exchange, "dlx");
  EXPECT_EQ(first->routing_key, "dead");
  EXPECT_EQ(first->body, m.body);
  auto props = decode_basic_properties(first->properties);
  ASSERT_TRUE(props);
  EXPECT_FALSE(props->expiration) << "removed so the message does not expire again";
  ASSERT_TRUE(props->headers);
  EXPECT_EQ(props->headers->get_string("keep"), "me");
  EXPECT_EQ(props->headers->get_string("x-first-death-reason"), "expired");
  auto* deaths = props->headers->get_array("x-death");
  ASSERT_NE(deaths, nullptr);
  ASSERT_EQ(deaths->size(), 1u);
  auto& d = std::get<field_table>(deaths->front().as_variant());
  EXPECT_EQ(d.get_int("count"), 1);
  EXPECT_EQ(d.get_string("queue"), "q1");
  EXPECT_EQ(d.get_string("reason"), "expired");
  EXPECT_EQ(d.get_string("exchange"), "orig");
  EXPECT_EQ(d.get_string("original-expiration"), "100");
  EXPECT_NE(broker::find_header(headers, "x-death"), nullptr) << "routing sees the new headers";

  // Dead-lettered again from the same queue for the same reason: one entry, count 2.
  auto [second, h2] = dead_letter_rewrite(*first, ev);
  auto p2 = decode_basic_properties(second->properties);
  auto* d2 = p2->headers->get_array("x-death");
  ASSERT_EQ(d2->size(), 1u);
  EXPECT_EQ(std::get<field_table>(d2->front().as_variant()).get_int("count"), 2);

  // Another reason: a second entry, most recent first; the first death stays recorded.
  broker::dead_letter_event rejected = ev;
  rejected.reason = broker::removal_reason::rejected;
  auto [third, h3] = dead_letter_rewrite(*second, rejected);
  auto p3 = decode_basic_properties(third->properties);
  auto* d3 = p3->headers->get_array("x-death");
  ASSERT_EQ(d3->size(), 2u);
  EXPECT_EQ(std::get<field_table>(d3->front().as_variant()).get_string("reason"), "rejected");
  EXPECT_EQ(p3->headers->get_string("x-first-death-reason"), "expired");
  EXPECT_EQ(p3->headers->get_string("x-last-death-reason"), "rejected");
}

}  // namespace
}  // namespace tern::amqp
