// Content headers and basic properties: flags, every property, raw bytes, whole messages.

#include <gtest/gtest.h>

#include <initializer_list>

#include "amqp/codec/content_header.h"
#include "amqp/codec/message.h"
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

bytes::buffer header_payload(uint64_t body_size, const basic_properties& p) {
  bytes::buffer out;
  encode_content_header(body_size, p, out);
  return out;
}

TEST(AmqpContentHeader, HandComputedBytes) {
  basic_properties p;
  p.content_type = "text/plain";
  p.delivery_mode = 2;
  bytes::buffer want = cat({b({0, 60, 0, 0}),             // class basic, weight 0
                            b({0, 0, 0, 0, 0, 0, 0, 5}),  // body size 5
                            b({0x90, 0x00}),              // content-type, delivery-mode
                            b({10}), str("text/plain"), b({2})});
  EXPECT_EQ(header_payload(5, p), want);
  auto h = decode_content_header(want);
  ASSERT_TRUE(h) << h.error().text;
  EXPECT_EQ(h->class_id, 60);
  EXPECT_EQ(h->weight, 0);
  EXPECT_EQ(h->body_size, 5u);
  EXPECT_EQ(h->properties, p);
  EXPECT_EQ(h->raw_properties.data(), want.data() + 12);  // a view of the flags onwards
  EXPECT_EQ(h->raw_properties.size(), want.size() - 12);
}

TEST(AmqpContentHeader, NoPropertiesAtAll) {
  bytes::buffer want = b({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(header_payload(0, {}), want);
  auto h = decode_content_header(want);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->properties, basic_properties{});
}

TEST(AmqpContentHeader, EveryPropertyRoundTrips) {
  basic_properties p = sample_properties(4);
  bytes::buffer enc = header_payload(1ull << 40, p);
  EXPECT_EQ(enc[12], 0xff);  // all 14 flags: 0xfffc
  EXPECT_EQ(enc[13], 0xfc);
  auto h = decode_content_header(enc);
  ASSERT_TRUE(h) << h.error().text;
  EXPECT_EQ(h->body_size, 1ull << 40);
  EXPECT_EQ(h->properties, p);
  EXPECT_EQ(header_payload(1ull << 40, h->properties), enc);
}

TEST(AmqpContentHeader, EachPropertyAloneSetsItsOwnFlag) {
  basic_properties all = sample_properties(2);
  std::vector<const void*> source;
  std::vector<std::string_view> names;
  auto collect = [&](std::string_view name, auto& prop) {
    source.push_back(&prop);
    names.push_back(name);
  };
  all.visit(collect);
  ASSERT_EQ(source.size(), 14u);
  for (int k = 0; k < 14; ++k) {
    basic_properties p;
    int i = 0;
    auto copy_one = [&](std::string_view, auto& prop) {
      using T = std::remove_reference_t<decltype(prop)>;
      if (i++ == k) prop = *static_cast<const T*>(source[k]);
    };
    p.visit(copy_one);
    bytes::buffer enc = header_payload(1, p);
    uint16_t flags = uint16_t(enc[12] << 8 | enc[13]);
    EXPECT_EQ(flags, 1u << (15 - k)) << names[k];
    auto h = decode_content_header(enc);
    ASSERT_TRUE(h) << names[k] << ": " << h.error().text;
    EXPECT_EQ(h->properties, p) << names[k];
    EXPECT_NE(h->properties, basic_properties{}) << names[k];
  }
}

TEST(AmqpContentHeader, ContinuationWordWithoutPropertiesIsAccepted) {
  // content-type present, flags continue (bit 0) into an empty second word.
  bytes::buffer in =
      cat({b({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), b({0x80, 0x01, 0x00, 0x00}), b({1, 'x'})});
  auto h = decode_content_header(in);
  ASSERT_TRUE(h) << h.error().text;
  EXPECT_EQ(h->properties.content_type, "x");
  EXPECT_EQ(h->raw_properties.size(), 6u);  // kept verbatim, continuation word included
}

TEST(AmqpContentHeader, UnknownPropertyFlagsAreSyntaxErrors) {
  // Bit 1: a 15th property basic does not have.
  auto h = decode_content_header(b({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x02}));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, reply_code::syntax_error);
  // A property bit in a continuation word.
  h = decode_content_header(b({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0x80, 0x00}));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, reply_code::syntax_error);
  // A continuation word that never comes.
  h = decode_content_header(b({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01}));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, reply_code::frame_error);
}

TEST(AmqpContentHeader, OtherClassOrWeightIsUnexpected) {
  auto h = decode_content_header(b({0, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, reply_code::unexpected_frame);
  h = decode_content_header(b({0, 60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, reply_code::unexpected_frame);
}

TEST(AmqpContentHeader, TruncationAtEveryLengthIsAFrameError) {
  bytes::buffer enc = header_payload(3, sample_properties(5));
  for (size_t n = 0; n < enc.size(); ++n) {
    auto h = decode_content_header(bytes::byte_view(enc).first(n));
    ASSERT_FALSE(h) << n;
    EXPECT_EQ(h.error().code, reply_code::frame_error) << n;
  }
}

TEST(AmqpContentHeader, TrailingBytesAreAFrameError) {
  bytes::buffer enc = header_payload(3, sample_properties(5));
  enc.push_back(0);
  auto h = decode_content_header(enc);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, reply_code::frame_error);
}

TEST(AmqpContentHeader, RawPropertiesGoBackOutVerbatim) {
  bytes::buffer in = header_payload(11, sample_properties(6));
  auto h = decode_content_header(in);
  ASSERT_TRUE(h);
  bytes::buffer again;
  encode_content_header(11, h->raw_properties, again);
  EXPECT_EQ(again, in);
  auto p = decode_basic_properties(h->raw_properties);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, sample_properties(6));
}

TEST(AmqpContentHeader, WholeMessageFrames) {
  bytes::buffer body(5000, 'z');
  basic_properties p;
  p.message_id = "m1";
  bytes::buffer raw;
  encode_basic_properties(p, raw);
  bytes::buffer out;
  write_message(out, 7, basic_deliver{.consumer_tag = "ctag", .delivery_tag = 1}, raw, body, 4096);

  bytes::byte_view rest = out;
  std::vector<frame> frames;
  while (!rest.empty()) {
    frame_result r = decode_frame(rest, 4096);
    ASSERT_EQ(r.status, frame_status::ok);
    EXPECT_EQ(r.frame.channel, 7);
    frames.push_back(r.frame);
    rest = rest.subspan(r.consumed);
  }
  ASSERT_EQ(frames.size(), 4u);  // method, header, 4088 + 912 bytes of body
  EXPECT_EQ(frames[0].type, frame_type::method);
  auto m = decode_method(frames[0].payload);
  ASSERT_TRUE(m);
  EXPECT_EQ(std::get<basic_deliver>(*m).consumer_tag, "ctag");
  EXPECT_EQ(frames[1].type, frame_type::header);
  auto h = decode_content_header(frames[1].payload);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->body_size, 5000u);
  EXPECT_EQ(h->properties, p);
  EXPECT_EQ(frames[2].type, frame_type::body);
  EXPECT_EQ(frames[2].payload.size(), 4088u);
  EXPECT_EQ(frames[3].payload.size(), 912u);

  // The same with properties built rather than stored.
  bytes::buffer out2;
  write_message(out2, 7, basic_deliver{.consumer_tag = "ctag", .delivery_tag = 1}, p, body, 4096);
  EXPECT_EQ(out2, out);
}

TEST(AmqpContentHeader, DebugString) {
  basic_properties p;
  p.content_type = "text/plain";
  p.delivery_mode = 2;
  p.headers = field_table{{"k", true}};
  EXPECT_EQ(to_debug_string(p),
            R"({content-type="text/plain", headers={"k": t:true}, delivery-mode=2})");
}

}  // namespace
}  // namespace tern::amqp
