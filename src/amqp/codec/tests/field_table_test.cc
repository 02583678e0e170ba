// Field tables: every type, nesting, the depth limit, bounds, lookups.

#include <gtest/gtest.h>

#include <initializer_list>

#include "amqp/codec/field_table.h"
#include "amqp/codec/sample.h"

namespace tern::amqp {
namespace {

bytes::buffer b(std::initializer_list<int> v) {
  bytes::buffer out;
  for (int x : v) out.push_back(uint8_t(x));
  return out;
}

outcome<field_table> decode(const bytes::buffer& in, size_t* left = nullptr) {
  bytes::byte_reader r(in);
  auto t = decode_field_table(r);
  if (left) *left = r.remaining();
  return t;
}

TEST(AmqpFieldTable, EmptyTable) {
  EXPECT_EQ(encode_field_table(field_table{}), b({0, 0, 0, 0}));
  auto t = decode(b({0, 0, 0, 0}));
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->empty());
}

TEST(AmqpFieldTable, EveryTypeRoundTripsWithNesting) {
  field_table t = sample_table(7, 3);
  bytes::buffer enc = encode_field_table(t);
  EXPECT_EQ(enc.size(), encoded_size(t));
  size_t left = 99;
  auto back = decode(enc, &left);
  ASSERT_TRUE(back) << back.error().text;
  EXPECT_EQ(left, 0u);
  EXPECT_EQ(*back, t);
  EXPECT_EQ(encode_field_table(*back), enc);
  // Every tag is there.
  std::string tags;
  for (auto& e : t.entries) tags += type_tag(e.value);
  EXPECT_EQ(tags, "VtbBsuIilfdDSxTAF");
}

TEST(AmqpFieldTable, ByteExactEncodingOfEachType) {
  struct tc {
    field_value v;
    bytes::buffer wire;  // tag and value
  };
  std::vector<tc> cases = {
      {std::monostate{}, b({'V'})},
      {true, b({'t', 1})},
      {int8_t(-2), b({'b', 0xfe})},
      {uint8_t(254), b({'B', 0xfe})},
      {int16_t(-2), b({'s', 0xff, 0xfe})},
      {uint16_t(0xfffe), b({'u', 0xff, 0xfe})},
      {int32_t(-2), b({'I', 0xff, 0xff, 0xff, 0xfe})},
      {uint32_t(0xfffffffe), b({'i', 0xff, 0xff, 0xff, 0xfe})},
      {int64_t(-2), b({'l', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe})},
      {1.0f, b({'f', 0x3f, 0x80, 0, 0})},
      {1.0, b({'d', 0x3f, 0xf0, 0, 0, 0, 0, 0, 0})},
      {decimal{2, 314}, b({'D', 2, 0, 0, 0x01, 0x3a})},
      {"hi", b({'S', 0, 0, 0, 2, 'h', 'i'})},
      {byte_array{{0, 0xce}}, b({'x', 0, 0, 0, 2, 0, 0xce})},
      {timestamp{0x0102030405060708}, b({'T', 1, 2, 3, 4, 5, 6, 7, 8})},
      {field_array{int32_t(1), "a"}, b({'A', 0, 0, 0, 11, 'I', 0, 0, 0, 1, 'S', 0, 0, 0, 1, 'a'})},
      {field_table{{"k", true}}, b({'F', 0, 0, 0, 4, 1, 'k', 't', 1})},
  };
  for (auto& c : cases) {
    field_table t{{"n", c.v}};
    bytes::buffer want = b({0, 0, 0, int(2 + c.wire.size()), 1, 'n'});
    want.insert(want.end(), c.wire.begin(), c.wire.end());
    EXPECT_EQ(encode_field_table(t), want) << type_name(c.v);
    auto back = decode(want);
    ASSERT_TRUE(back) << type_name(c.v);
    EXPECT_EQ(*back, t) << type_name(c.v);
  }
}

TEST(AmqpFieldTable, QueueArgumentsAsAClientSendsThem) {
  // {"x-message-ttl": I 60000}, hand-encoded.
  bytes::buffer in = b({0,   0,   0,   19,  13,  'x', '-', 'm', 'e', 's',  's', 'a',
                        'g', 'e', '-', 't', 't', 'l', 'I', 0,   0,   0xea, 0x60});
  auto t = decode(in);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->get_int("x-message-ttl"), 60000);
  EXPECT_EQ(encode_field_table(*t), in);
}

TEST(AmqpFieldTable, DuplicatesAndOrderAreKept) {
  field_table t{{"b", 1}, {"a", 2}, {"b", 3}};
  auto back = decode(encode_field_table(t));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ(back->entries[0].name, "b");
  EXPECT_EQ(back->entries[2].name, "b");
  EXPECT_EQ(back->get_int("b"), 1);  // the first wins
}

// A table nested `levels` deep counting the outer one: {"n": {"n": ... {}}}; arrays when
// `arrays` is set.
bytes::buffer nested(int levels, bool arrays) {
  field_value inner = field_table{};
  if (arrays) inner = field_array{};
  for (int i = 2; i < levels; ++i) {
    if (arrays) {
      inner = field_array{inner};
    } else {
      inner = field_table{{"n", inner}};
    }
  }
  field_table top;
  if (levels >= 2) top.entries.push_back({"n", inner});
  return encode_field_table(top);
}

TEST(AmqpFieldTable, NestingUpToTheDepthLimit) {
  for (bool arrays : {false, true}) {
    auto ok = decode(nested(max_table_depth, arrays));
    EXPECT_TRUE(ok) << arrays << ": " << ok.error().text;
    auto deep = decode(nested(max_table_depth + 1, arrays));
    ASSERT_FALSE(deep) << arrays;
    EXPECT_EQ(deep.error().code, reply_code::syntax_error);
  }
}

TEST(AmqpFieldTable, DeepNestingDoesNotOverflowTheStack) {
  // 100000 nested arrays ('A' + length each), built by hand: the decoder stops at the limit.
  const int n = 100000;
  bytes::buffer in;
  bytes::byte_writer w(in);
  w.u32(uint32_t(2 + 5 * n));
  w.u8(1);
  w.u8('n');
  for (int i = 0; i < n; ++i) {
    w.u8('A');
    w.u32(uint32_t(5 * (n - i - 1)));
  }
  auto t = decode(in);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, reply_code::syntax_error);
}

TEST(AmqpFieldTable, UnknownTypeTagIsASyntaxError) {
  for (int tag : {int('U'), int('L'), int('Z'), 0, 0xff}) {
    auto t = decode(b({0, 0, 0, 3, 1, 'k', tag}));
    ASSERT_FALSE(t) << tag;
    EXPECT_EQ(t.error().code, reply_code::syntax_error);
  }
}

TEST(AmqpFieldTable, TruncationAtEveryLengthFailsCleanly) {
  bytes::buffer enc = encode_field_table(sample_table(3, 2));
  for (size_t n = 0; n < enc.size(); ++n) {
    bytes::buffer cut(enc.begin(), enc.begin() + n);
    auto t = decode(cut);
    ASSERT_FALSE(t) << n;
    EXPECT_EQ(t.error().code, reply_code::frame_error) << n;
  }
}

TEST(AmqpFieldTable, InnerLengthsBeyondTheOuterTableFail) {
  // The outer table says 8 bytes; the inner long string claims 100.
  bytes::buffer in = b({0, 0, 0, 8, 1, 'k', 'S', 0, 0, 0, 100, 'x', 'y', 'z'});
  auto t = decode(in);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, reply_code::frame_error);
}

TEST(AmqpFieldTable, BytesAfterTheTableAreLeftToTheCaller) {
  bytes::buffer in = b({0, 0, 0, 0, 0xaa, 0xbb});
  size_t left = 0;
  ASSERT_TRUE(decode(in, &left));
  EXPECT_EQ(left, 2u);
}

TEST(AmqpFieldTable, IntegerLookupsWiden) {
  field_table t{{"b", int8_t(-1)},
                {"B", uint8_t(255)},
                {"s", int16_t(-300)},
                {"u", uint16_t(65535)},
                {"I", int32_t(-70000)},
                {"i", uint32_t(4000000000u)},
                {"l", int64_t(1) << 40},
                {"S", "10"},
                {"d", 10.0},
                {"t", true},
                {"F", field_table{{"x", 1}}}};
  EXPECT_EQ(t.get_int("b"), -1);
  EXPECT_EQ(t.get_int("B"), 255);
  EXPECT_EQ(t.get_int("s"), -300);
  EXPECT_EQ(t.get_int("u"), 65535);
  EXPECT_EQ(t.get_int("I"), -70000);
  EXPECT_EQ(t.get_int("i"), 4000000000);
  EXPECT_EQ(t.get_int("l"), int64_t(1) << 40);
  EXPECT_EQ(t.get_int("S"), std::nullopt);  // RabbitMQ does not parse numbers out of strings
  EXPECT_EQ(t.get_int("d"), std::nullopt);
  EXPECT_EQ(t.get_int("t"), std::nullopt);
  EXPECT_EQ(t.get_int("missing"), std::nullopt);
  EXPECT_EQ(as_double(*t.find("I")), -70000.0);
  EXPECT_EQ(as_double(*t.find("d")), 10.0);
  EXPECT_EQ(t.get_string("S"), "10");
  EXPECT_EQ(t.get_string("I"), std::nullopt);
  EXPECT_EQ(t.get_bool("t"), true);
  EXPECT_EQ(t.get_bool("I"), std::nullopt);
  ASSERT_NE(t.get_table("F"), nullptr);
  EXPECT_EQ(t.get_table("F")->get_int("x"), 1);
  EXPECT_EQ(t.get_array("F"), nullptr);
  EXPECT_EQ(type_name(*t.find("S")), "longstr");
  EXPECT_EQ(type_name(*t.find("I")), "signedint");
  EXPECT_EQ(type_name(*t.find("l")), "long");
}

TEST(AmqpFieldTable, SetReplacesOrAppendsAndEraseRemovesAll) {
  field_table t{{"a", 1}, {"b", 2}, {"a", 3}};
  t.set("b", "two");
  t.set("c", true);
  EXPECT_EQ(t.get_string("b"), "two");
  EXPECT_EQ(t.entries.back().name, "c");
  EXPECT_EQ(t.erase("a"), 2u);
  EXPECT_FALSE(t.contains("a"));
  EXPECT_EQ(t.size(), 2u);
}

TEST(AmqpFieldTable, LongNamesAreCutTo255) {
  field_table t{{std::string(300, 'n'), 1}};
  auto back = decode(encode_field_table(t));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->entries[0].name, std::string(255, 'n'));
}

TEST(AmqpFieldTable, DebugString) {
  field_table t{{"x-message-ttl", 1000}, {"dlx", "a\"b\x01"}, {"arr", field_array{true}}};
  EXPECT_EQ(to_debug_string(t),
            R"({"x-message-ttl": I:1000, "dlx": S:"a\"b\x01", "arr": A:[t:true]})");
}

}  // namespace
}  // namespace tern::amqp
