// The protocol header and the frame layer: resumable decoding, limits, frame-end, writers.

#include <gtest/gtest.h>

#include <initializer_list>

#include "amqp/codec/frame.h"
#include "amqp/codec/method.h"
#include "amqp/codec/protocol_header.h"

namespace tern::amqp {
namespace {

bytes::buffer b(std::initializer_list<int> v) {
  bytes::buffer out;
  for (int x : v) out.push_back(uint8_t(x));
  return out;
}

TEST(AmqpProtocolHeader, ExactHeaderIsOk) {
  EXPECT_EQ(check_protocol_header(b({'A', 'M', 'Q', 'P', 0, 0, 9, 1})), header_status::ok);
  // Frames may follow in the same read; only the first 8 bytes count.
  EXPECT_EQ(check_protocol_header(b({'A', 'M', 'Q', 'P', 0, 0, 9, 1, 1, 0, 0})), header_status::ok);
}

TEST(AmqpProtocolHeader, MatchingPrefixNeedsMore) {
  bytes::buffer h(protocol_header.begin(), protocol_header.end());
  for (size_t n = 0; n < h.size(); ++n) {
    EXPECT_EQ(check_protocol_header(bytes::byte_view(h).first(n)), header_status::need_more) << n;
  }
}

TEST(AmqpProtocolHeader, OtherVersionsAndProtocolsAreWrong) {
  EXPECT_EQ(check_protocol_header(b({'A', 'M', 'Q', 'P', 1, 1, 0, 9})),  // 0-9
            header_status::wrong_protocol);
  EXPECT_EQ(check_protocol_header(b({'A', 'M', 'Q', 'P', 0, 1, 0, 0})),  // 1.0
            header_status::wrong_protocol);
  EXPECT_EQ(check_protocol_header(bytes::as_bytes("GET / HTTP/1.1\r\n")),
            header_status::wrong_protocol);
  // Decided on the first differing byte, without waiting for 8.
  EXPECT_EQ(check_protocol_header(bytes::as_bytes("G")), header_status::wrong_protocol);
  EXPECT_EQ(check_protocol_header(b({0x16, 0x03, 0x01})), header_status::wrong_protocol);  // TLS
}

// A method frame: basic.qos-ok on channel 3.
bytes::buffer qos_ok_frame() { return b({1, 0, 3, 0, 0, 0, 4, 0, 60, 0, 11, 0xce}); }

TEST(AmqpFrame, DecodesAFrame) {
  bytes::buffer in = qos_ok_frame();
  frame_result r = decode_frame(in, 131072);
  ASSERT_EQ(r.status, frame_status::ok);
  EXPECT_EQ(r.frame.type, frame_type::method);
  EXPECT_EQ(r.frame.channel, 3);
  EXPECT_EQ(r.consumed, in.size());
  ASSERT_EQ(r.frame.payload.size(), 4u);
  EXPECT_EQ(r.frame.payload.data(), in.data() + 7);  // a view, not a copy
}

TEST(AmqpFrame, PartialInputByteByByteNeedsExactlyTheRest) {
  bytes::buffer in = qos_ok_frame();
  for (size_t n = 0; n < in.size(); ++n) {
    frame_result r = decode_frame(bytes::byte_view(in).first(n), 131072);
    ASSERT_EQ(r.status, frame_status::need_more) << n;
    // Before the header is complete only the header's missing bytes are known.
    EXPECT_EQ(r.needed, n < frame_header_size ? frame_header_size - n : in.size() - n) << n;
  }
  EXPECT_EQ(decode_frame(in, 131072).status, frame_status::ok);
}

TEST(AmqpFrame, SeveralFramesInOneBuffer) {
  bytes::buffer in = qos_ok_frame();
  write_heartbeat(in);
  bytes::buffer more = qos_ok_frame();
  in.insert(in.end(), more.begin(), more.end() - 3);  // the third is cut short
  bytes::byte_view rest = in;
  std::vector<frame_type> types;
  for (;;) {
    frame_result r = decode_frame(rest, 131072);
    if (r.status != frame_status::ok) {
      EXPECT_EQ(r.status, frame_status::need_more);
      EXPECT_EQ(r.needed, 3u);
      break;
    }
    types.push_back(r.frame.type);
    rest = rest.subspan(r.consumed);
  }
  EXPECT_EQ(types, (std::vector<frame_type>{frame_type::method, frame_type::heartbeat}));
}

TEST(AmqpFrame, PayloadOverFrameMaxFailsFromTheHeaderAlone) {
  // frame_max 4096: payloads up to 4096 - 8 are legal, up to 4096 tolerated (RabbitMQ's
  // fudge), 4097 refused, and that is known from the 7 header bytes, before any payload.
  auto header = [](uint32_t size) {
    return b({3, 0, 1, int(size >> 24), int((size >> 16) & 0xff), int((size >> 8) & 0xff),
              int(size & 0xff)});
  };
  EXPECT_EQ(decode_frame(header(4088), 4096).status, frame_status::need_more);
  EXPECT_EQ(decode_frame(header(4096), 4096).status, frame_status::need_more);
  frame_result r = decode_frame(header(4097), 4096);
  ASSERT_EQ(r.status, frame_status::error);
  EXPECT_EQ(r.error.code, reply_code::frame_error);
  // No overflow near 2^32.
  EXPECT_EQ(decode_frame(header(0xffffffff), 0xfffffff0).status, frame_status::error);
  r = decode_frame(header(0xffffffff), 0xffffffff);
  EXPECT_EQ(r.status, frame_status::need_more);
  EXPECT_EQ(r.needed, 0xffffffffull + 1);
}

TEST(AmqpFrame, FrameMaxBelowTheMinimumCountsAsTheMinimum) {
  bytes::buffer in = b({3, 0, 1, 0, 0, 0x0f, 0xf8});  // 4088 bytes
  EXPECT_EQ(decode_frame(in, 0).status, frame_status::need_more);
  EXPECT_EQ(decode_frame(in, 512).status, frame_status::need_more);
  in = b({3, 0, 1, 0, 0, 0x10, 0x01});  // 4097 bytes
  EXPECT_EQ(decode_frame(in, 0).status, frame_status::error);
}

TEST(AmqpFrame, BadFrameEndIsAFrameError) {
  bytes::buffer in = qos_ok_frame();
  in.back() = 0xcd;
  frame_result r = decode_frame(in, 131072);
  ASSERT_EQ(r.status, frame_status::error);
  EXPECT_EQ(r.error.code, reply_code::frame_error);
  EXPECT_NE(r.error.text.find("frame-end"), std::string::npos);
}

TEST(AmqpFrame, UnknownTypeIsAFrameErrorOnceTheHeaderIsThere) {
  for (int type : {0, 4, 5, 6, 7, 9, 65, 255}) {
    bytes::buffer in = b({type, 0, 0, 0, 0, 0, 1});
    frame_result r = decode_frame(in, 131072);
    ASSERT_EQ(r.status, frame_status::error) << type;
    EXPECT_EQ(r.error.code, reply_code::frame_error);
  }
  // "AMQP" sent again after the header reads as type 'A': refused at once.
  EXPECT_EQ(decode_frame(b({'A', 'M', 'Q', 'P', 0, 0, 9, 1}), 131072).status, frame_status::error);
}

TEST(AmqpFrame, HeartbeatWithAPayloadIsAFrameError) {
  frame_result r = decode_frame(b({8, 0, 0, 0, 0, 0, 1, 0, 0xce}), 131072);
  ASSERT_EQ(r.status, frame_status::error);
  EXPECT_EQ(r.error.code, reply_code::frame_error);
}

TEST(AmqpFrame, HeartbeatBytes) {
  bytes::buffer out;
  write_heartbeat(out);
  EXPECT_EQ(out, b({8, 0, 0, 0, 0, 0, 0, 0xce}));
  frame_result r = decode_frame(out, 4096);
  ASSERT_EQ(r.status, frame_status::ok);
  EXPECT_EQ(r.frame.type, frame_type::heartbeat);
  EXPECT_TRUE(r.frame.payload.empty());
}

TEST(AmqpFrame, WriteFrameRoundTrips) {
  bytes::buffer payload = b({1, 2, 3, 4, 5});
  bytes::buffer out;
  write_frame(out, frame_type::body, 0x1234, payload);
  EXPECT_EQ(out, b({3, 0x12, 0x34, 0, 0, 0, 5, 1, 2, 3, 4, 5, 0xce}));
}

TEST(AmqpFrame, BodyFramesAreSplitByFrameMax) {
  bytes::buffer body(10000);
  for (size_t i = 0; i < body.size(); ++i) body[i] = uint8_t(i * 7);
  bytes::buffer out;
  write_body_frames(out, 5, body, 4096);
  bytes::byte_view rest = out;
  bytes::buffer joined;
  std::vector<size_t> sizes;
  while (!rest.empty()) {
    frame_result r = decode_frame(rest, 4096);
    ASSERT_EQ(r.status, frame_status::ok);
    EXPECT_EQ(r.frame.type, frame_type::body);
    EXPECT_EQ(r.frame.channel, 5);
    EXPECT_LE(r.consumed, 4096u);  // the writer never uses the fudge
    sizes.push_back(r.frame.payload.size());
    joined.insert(joined.end(), r.frame.payload.begin(), r.frame.payload.end());
    rest = rest.subspan(r.consumed);
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{4088, 4088, 1824}));
  EXPECT_EQ(joined, body);
}

TEST(AmqpFrame, EmptyBodyHasNoBodyFrames) {
  bytes::buffer out;
  write_body_frames(out, 1, {}, 4096);
  EXPECT_TRUE(out.empty());
}

TEST(AmqpFrame, BodyOfExactlyOneFrame) {
  bytes::buffer body(4088, 0xab), out;
  write_body_frames(out, 1, body, 4096);
  EXPECT_EQ(out.size(), 4096u);
  body.push_back(0);
  out.clear();
  write_body_frames(out, 1, body, 4096);
  EXPECT_EQ(out.size(), 4096u + 9);
}

TEST(AmqpFrame, FrameMaxZeroMeansOneBodyFrame) {
  bytes::buffer body(100000, 1), out;
  write_body_frames(out, 1, body, 0);
  EXPECT_EQ(out.size(), body.size() + frame_overhead);
  EXPECT_EQ(max_frame_payload(0), 0xffffffffu);
  EXPECT_EQ(max_frame_payload(131072), 131064u);
}

TEST(AmqpFrame, MethodFrameBytes) {
  bytes::buffer out;
  write_method_frame(out, 3, basic_qos_ok{});
  EXPECT_EQ(out, qos_ok_frame());
  out.clear();
  write_method_frame(out, 3, method(basic_qos_ok{}));
  EXPECT_EQ(out, qos_ok_frame());
}

}  // namespace
}  // namespace tern::amqp
