// Methods: round trip of every method, bit packing, truncation, hand-computed encodings,
// unknown methods, traits.

#include <gtest/gtest.h>

#include <initializer_list>
#include <set>
#include <utility>

#include "amqp/codec/method.h"
#include "amqp/codec/sample.h"

namespace tern::amqp {
namespace {

bytes::buffer b(std::initializer_list<int> v) {
  bytes::buffer out;
  for (int x : v) out.push_back(uint8_t(x));
  return out;
}

bytes::buffer cat(std::initializer_list<bytes::buffer> parts) {
  bytes::buffer out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

bytes::buffer str(std::string_view s) { return bytes::buffer(s.begin(), s.end()); }

// Calls f(std::type_identity<M>{}) for every method type.
template <class F, size_t... I>
void for_each_method_type(F&& f, std::index_sequence<I...>) {
  (f(std::type_identity<std::variant_alternative_t<I, method>>{}), ...);
}
template <class F>
void for_each_method_type(F&& f) {
  for_each_method_type(f, std::make_index_sequence<method_count>());
}

template <class M>
void expect_round_trip(const M& m, const std::string& what) {
  bytes::buffer enc = encode_method(method(m));
  bytes::buffer direct;
  encode_method(m, direct);
  EXPECT_EQ(enc, direct) << what;
  auto back = decode_method(enc);
  ASSERT_TRUE(back) << what << ": " << back.error().text;
  ASSERT_TRUE(std::holds_alternative<M>(*back)) << what;
  EXPECT_EQ(std::get<M>(*back), m) << what;
  EXPECT_EQ(encode_method(*back), enc) << what;
}

TEST(AmqpMethod, EveryMethodRoundTrips) {
  int n = 0;
  for_each_method_type([&](auto tag) {
    using M = typename decltype(tag)::type;
    std::string name(M::traits.name);
    expect_round_trip(M{}, name + " (defaults)");
    expect_round_trip(make_sample<M>(1), name + " (sample 1)");
    expect_round_trip(make_sample<M>(2), name + " (sample 2)");
    ++n;
  });
  EXPECT_EQ(n, 66);
}

TEST(AmqpMethod, SamplesDifferFromDefaultsInEveryArgument) {
  for_each_method_type([&](auto tag) {
    using M = typename decltype(tag)::type;
    M def{}, sample = make_sample<M>(1);
    size_t i = 0;
    std::vector<const void*> fields;
    for_each_arg(sample, [&](std::string_view, const auto& f, arg_type) { fields.push_back(&f); });
    for_each_arg(def, [&](std::string_view name, const auto& f, arg_type) {
      using T = std::decay_t<decltype(f)>;
      EXPECT_FALSE(f == *static_cast<const T*>(fields[i])) << M::traits.name << " " << name;
      ++i;
    });
  });
}

TEST(AmqpMethod, EachBitRoundTripsAlone) {
  // Flip one bit argument at a time: a bit written to the wrong position, or read from one,
  // shows as a different method.
  for_each_method_type([&](auto tag) {
    using M = typename decltype(tag)::type;
    int bits = 0;
    for_each_arg(M{},
                 [&](std::string_view, const auto& f, arg_type t) { bits += t == arg_type::bit; });
    for (int k = 0; k < bits; ++k) {
      M m{};
      int i = 0;
      for_each_arg_mut(m, [&](std::string_view, auto& f, arg_type) {
        if constexpr (std::is_same_v<std::decay_t<decltype(f)>, bool>) {
          if (i++ == k) f = !f;
        }
      });
      expect_round_trip(m, std::string(M::traits.name) + " bit " + std::to_string(k));
    }
  });
}

TEST(AmqpMethod, TruncationAtEveryLengthIsAFrameError) {
  for_each_method_type([&](auto tag) {
    using M = typename decltype(tag)::type;
    bytes::buffer enc;
    encode_method(make_sample<M>(3), enc);
    for (size_t n = 0; n < enc.size(); ++n) {
      auto m = decode_method(bytes::byte_view(enc).first(n));
      ASSERT_FALSE(m) << M::traits.name << " cut at " << n;
      EXPECT_EQ(m.error().code, reply_code::frame_error) << M::traits.name << " " << n;
      if (n >= 4) {
        EXPECT_EQ(m.error().class_id, M::traits.class_id);
        EXPECT_EQ(m.error().method_id, M::traits.method_id);
      }
    }
  });
}

TEST(AmqpMethod, TrailingBytesAreAFrameError) {
  bytes::buffer enc = encode_method(method(basic_ack{.delivery_tag = 1}));
  enc.push_back(0);
  auto m = decode_method(enc);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, reply_code::frame_error);
  EXPECT_EQ(m.error().text, "cannot decode basic.ack: 1 bytes after the last argument");
}

TEST(AmqpMethod, IllegalTableValueIsASyntaxError) {
  // queue.declare whose arguments table holds an entry of type 'Z'.
  bytes::buffer in = cat({b({0, 50, 0, 10, 0, 0, 1, 'q', 0}), b({0, 0, 0, 3, 1, 'k', 'Z'})});
  auto m = decode_method(in);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, reply_code::syntax_error);
  EXPECT_EQ(m.error().class_id, 50);
  EXPECT_EQ(m.error().method_id, 10);
  EXPECT_NE(m.error().text.find("'arguments'"), std::string::npos) << m.error().text;
}

TEST(AmqpMethod, UnknownMethodIsNotImplemented) {
  for (auto [c, mid] :
       std::initializer_list<std::pair<int, int>>{{60, 41}, {99, 10}, {0, 0}, {10, 12}, {85, 20}}) {
    auto m = decode_method(b({c >> 8, c & 0xff, mid >> 8, mid & 0xff}));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, reply_code::not_implemented);
    EXPECT_EQ(m.error().class_id, c);
    EXPECT_EQ(m.error().method_id, mid);
  }
}

TEST(AmqpMethod, DecodeWithIdsAlreadyRead) {
  auto m = decode_method(60, 80, b({0, 0, 0, 0, 0, 0, 0, 7, 1}));
  ASSERT_TRUE(m);
  EXPECT_EQ(std::get<basic_ack>(*m), (basic_ack{.delivery_tag = 7, .multiple = true}));
}

TEST(AmqpMethod, PayloadShorterThanIdsIsAFrameError) {
  auto m = decode_method(b({0, 60, 0}));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, reply_code::frame_error);
}

// Hand-computed encodings -------------------------------------------------------------------

TEST(AmqpMethod, StartOkPlainBytes) {
  connection_start_ok m{.client_properties = {},
                        .mechanism = "PLAIN",
                        .response = std::string("\0guest\0guest", 12),
                        .locale = "en_US"};
  bytes::buffer frame;
  write_method_frame(frame, 0, m);
  bytes::buffer want = cat({b({1, 0, 0, 0, 0, 0, 36}),                   // method frame, channel 0
                            b({0, 10, 0, 11}),                           // connection.start-ok
                            b({0, 0, 0, 0}),                             // client-properties {}
                            b({5}), str("PLAIN"),                        // mechanism
                            b({0, 0, 0, 12, 0}), str("guest"),           // response (longstr)
                            b({0}), str("guest"), b({5}), str("en_US"),  // locale
                            b({0xce})});
  EXPECT_EQ(frame, want);
}

TEST(AmqpMethod, BasicPublishBytes) {
  basic_publish m{.exchange = "ex", .routing_key = "rk", .mandatory = true};
  EXPECT_EQ(encode_method(method(m)), b({0, 60, 0, 40, 0, 0, 2, 'e', 'x', 2, 'r', 'k', 0b01}));
  m.immediate = true;
  m.mandatory = false;
  EXPECT_EQ(encode_method(method(m)).back(), 0b10);
}

TEST(AmqpMethod, ExchangeDeclareBitsShareOneOctet) {
  // passive, durable, auto-delete, internal, nowait: durable and nowait set = 0b10010.
  exchange_declare m{.exchange = "logs", .type = "fanout", .durable = true, .nowait = true};
  bytes::buffer want =
      cat({b({0, 40, 0, 10, 0, 0, 4}), str("logs"), b({6}), str("fanout"), b({0x12, 0, 0, 0, 0})});
  EXPECT_EQ(encode_method(method(m)), want);
}

TEST(AmqpMethod, QueueDeclareWithArgumentsFromTheWire) {
  // As pika sends queue_declare("q", durable=True, arguments={"x-max-priority": 10}).
  bytes::buffer in = cat({b({0, 50, 0, 10, 0, 0, 1, 'q', 0b10, 0, 0, 0, 20, 14}),
                          str("x-max-priority"), b({'I', 0, 0, 0, 10})});
  auto m = decode_method(in);
  ASSERT_TRUE(m) << m.error().text;
  auto& q = std::get<queue_declare>(*m);
  EXPECT_EQ(q.queue, "q");
  EXPECT_TRUE(q.durable);
  EXPECT_FALSE(q.passive);
  EXPECT_FALSE(q.nowait);
  EXPECT_EQ(q.arguments.get_int("x-max-priority"), 10);
}

TEST(AmqpMethod, BasicDeliverBytes) {
  basic_deliver m{.consumer_tag = "c",
                  .delivery_tag = 0x0102030405060708,
                  .redelivered = true,
                  .exchange = "",
                  .routing_key = "k"};
  EXPECT_EQ(encode_method(method(m)),
            b({0, 60, 0, 60, 1, 'c', 1, 2, 3, 4, 5, 6, 7, 8, 1, 0, 1, 'k'}));
}

TEST(AmqpMethod, TuneBytes) {
  connection_tune m{.channel_max = 2047, .frame_max = 131072, .heartbeat = 60};
  EXPECT_EQ(encode_method(method(m)), b({0, 10, 0, 30, 0x07, 0xff, 0, 2, 0, 0, 0, 60}));
}

TEST(AmqpMethod, NackBits) {
  // multiple, requeue share an octet; requeue defaults to true.
  basic_nack m{.delivery_tag = 9, .multiple = true};
  EXPECT_EQ(encode_method(method(m)), b({0, 60, 0, 120, 0, 0, 0, 0, 0, 0, 0, 9, 0b11}));
}

TEST(AmqpMethod, UnusedBitsAreIgnoredWhenRead) {
  // basic.ack with bits 1..7 of its octet set: only `multiple` (bit 0) counts.
  auto m = decode_method(b({0, 60, 0, 80, 0, 0, 0, 0, 0, 0, 0, 1, 0xfe}));
  ASSERT_TRUE(m);
  EXPECT_FALSE(std::get<basic_ack>(*m).multiple);
}

TEST(AmqpMethod, ShortStringsLongerThan255AreCut) {
  basic_publish m{.routing_key = std::string(300, 'r')};
  auto back = decode_method(encode_method(method(m)));
  ASSERT_TRUE(back);
  EXPECT_EQ(std::get<basic_publish>(*back).routing_key, std::string(255, 'r'));
}

// Traits and helpers --------------------------------------------------------------------------

TEST(AmqpMethod, Traits) {
  EXPECT_EQ(all_methods().size(), 66u);
  std::set<std::pair<int, int>> keys;
  for (auto& t : all_methods()) keys.insert({t.class_id, t.method_id});
  EXPECT_EQ(keys.size(), 66u);

  std::set<std::string_view> content;
  for (auto& t : all_methods())
    if (t.content) content.insert(t.name);
  EXPECT_EQ(content, (std::set<std::string_view>{"basic.publish", "basic.return", "basic.deliver",
                                                 "basic.get-ok"}));

  const method_traits* get = find_method(60, 70);
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->name, "basic.get");
  EXPECT_TRUE(get->synchronous);
  EXPECT_EQ(get->reply, (method_key{60, 71}));
  EXPECT_EQ(get->alt_reply, (method_key{60, 72}));
  EXPECT_EQ(find_method(40, 40)->reply, (method_key{40, 51}));  // exchange.unbind-ok is 51
  EXPECT_FALSE(find_method(60, 40)->synchronous);               // basic.publish
  EXPECT_FALSE(find_method(60, 80)->synchronous);               // basic.ack
  EXPECT_EQ(find_method(60, 41), nullptr);
  EXPECT_EQ(traits(method(queue_purge_ok{})).name, "queue.purge-ok");
  // Every synchronous method's reply exists.
  for (auto& t : all_methods()) {
    if (!t.synchronous) continue;
    EXPECT_NE(find_method(t.reply.class_id, t.reply.method_id), nullptr) << t.name;
  }
}

TEST(AmqpMethod, Nowait) {
  EXPECT_TRUE(nowait(queue_declare{.nowait = true}));
  EXPECT_FALSE(nowait(queue_declare{}));
  EXPECT_TRUE(nowait(basic_consume{.nowait = true}));
  EXPECT_FALSE(nowait(basic_publish{.mandatory = true, .immediate = true}));
}

TEST(AmqpMethod, DebugStringHidesSecrets) {
  EXPECT_EQ(
      to_debug_string(basic_publish{.exchange = "x", .routing_key = "rk", .mandatory = true}),
      R"(basic.publish(ticket=0, exchange="x", routing-key="rk", mandatory=true, immediate=false))");
  std::string s = to_debug_string(connection_start_ok{.response = std::string("\0u\0secret", 9)});
  EXPECT_EQ(s.find("secret"), std::string::npos) << s;
  EXPECT_NE(s.find("response=<9 bytes>"), std::string::npos) << s;
  EXPECT_EQ(to_debug_string(queue_declare{.arguments = {{"x-max-length", 5}}}),
            R"(queue.declare(ticket=0, queue="", passive=false, durable=false, exclusive=false, )"
            R"(auto-delete=false, nowait=false, arguments={"x-max-length": I:5}))");
}

TEST(AmqpMethod, CloseFromError) {
  error e{reply_code::not_found, "no queue 'q' in vhost '/'", 50, 10};
  channel_close c = make_channel_close(e);
  EXPECT_EQ(c.reply_code, 404);
  EXPECT_EQ(c.reply_text, "NOT_FOUND - no queue 'q' in vhost '/'");
  EXPECT_EQ(c.class_id, 50);
  EXPECT_EQ(c.method_id, 10);
  connection_close cc =
      make_connection_close(error{reply_code::frame_error, std::string(300, 'x')});
  EXPECT_EQ(cc.reply_code, 501);
  EXPECT_EQ(cc.reply_text.size(), 255u);
  error back = error_of(c);
  EXPECT_EQ(back.code, reply_code::not_found);
  EXPECT_FALSE(back.is_hard());
  EXPECT_TRUE(error_of(cc).is_hard());
}

TEST(AmqpReplyCodes, NamesAndClasses) {
  EXPECT_EQ(reply_code_name(reply_code::precondition_failed), "PRECONDITION_FAILED");
  EXPECT_EQ(reply_code_name(reply_code::not_implemented), "NOT_IMPLEMENTED");
  EXPECT_EQ(reply_code_name(reply_code(999)), "UNKNOWN");
  for (int c : {311, 312, 313, 403, 404, 405, 406}) EXPECT_FALSE(is_hard_error(reply_code(c))) << c;
  for (int c : {320, 402, 501, 502, 503, 504, 505, 506, 530, 540, 541})
    EXPECT_TRUE(is_hard_error(reply_code(c))) << c;
  EXPECT_EQ(reply_text(error{reply_code::access_refused, ""}), "ACCESS_REFUSED");
}

}  // namespace
}  // namespace tern::amqp
