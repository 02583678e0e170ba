// Byte-exact frames built by hand from the protocol spec (and from what librdkafka 2.0.2
// sends), decoded and re-encoded. These pin the wire layout independently of the
// descriptions, which the round-trip tests cannot do.

#include <gtest/gtest.h>

#include <initializer_list>
#include <string_view>

#include "kafka/codec/api_versions.h"
#include "kafka/codec/metadata.h"
#include "kafka/codec/produce.h"

namespace tern::kafka {
namespace {

// Builds a frame from byte values and string pieces: wire({0x00, 0x07}, "rdkafka", ...).
struct piece {
  piece(std::initializer_list<int> b) {
    for (int x : b) bytes.push_back(uint8_t(x));
  }
  piece(const char* s) : piece(std::string_view(s)) {}
  piece(std::string_view s) : bytes(s.begin(), s.end()) {}
  bytes::buffer bytes;
};
bytes::buffer wire(std::initializer_list<piece> pieces) {
  bytes::buffer out;
  for (auto& p : pieces) out.insert(out.end(), p.bytes.begin(), p.bytes.end());
  return out;
}

bytes::buffer flat(const bytes::chunked_buffer& c) {
  bytes::buffer out;
  EXPECT_TRUE(c.flatten(out));
  return out;
}

template <class Req>
bytes::buffer encode_request_frame(const request_header& h, const Req& req) {
  bytes::chunked_buffer out;
  encode_request_header(h, out);
  encode_request(req, h.version, out);
  return flat(out);
}

TEST(KafkaCodecGolden, ApiVersionsV3RequestAsLibrdkafkaSendsIt) {
  // clang-format off
  bytes::buffer frame = wire({{0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01},  // key, v, id
                              {0x00, 0x07}, "rdkafka",  // client_id: classic string in v2
                              {0x00},                   // header tagged fields
                              {0x0b}, "librdkafka",     // compact: length + 1
                              {0x06}, "2.0.2",
                              {0x00}});  // body tagged fields
  // clang-format on
  bytes::byte_reader r(frame);
  auto h = decode_request_header(r);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->key, api_key::api_versions);
  EXPECT_EQ(h->version, 3);
  EXPECT_EQ(h->correlation_id, 1);
  EXPECT_EQ(h->client_id, "rdkafka");
  auto req = decode_request<api_versions_request>(r, h->version);
  ASSERT_TRUE(req) << req.error().message();
  EXPECT_EQ(req->client_software_name, "librdkafka");
  EXPECT_EQ(req->client_software_version, "2.0.2");
  EXPECT_EQ(encode_request_frame(*h, *req), frame);
}

TEST(KafkaCodecGolden, ApiVersionsV0Request) {
  bytes::buffer frame =
      wire({{0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x07}, "rdkafka"});
  bytes::byte_reader r(frame);
  auto h = decode_request_header(r);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->version, 0);
  EXPECT_EQ(h->correlation_id, 2);
  auto req = decode_request<api_versions_request>(r, 0);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->client_software_name, "");
  EXPECT_EQ(encode_request_frame(*h, *req), frame);
}

TEST(KafkaCodecGolden, ApiVersionsV3ResponseHasNoHeaderTagsAndOmitsDefaultTaggedFields) {
  api_versions_response resp;
  resp.api_keys.push_back({.api_key = 18, .min_version = 0, .max_version = 3});
  bytes::chunked_buffer out;
  encode_response_header(7, api_key::api_versions, 3, out);
  encode_response(resp, 3, out);
  // clang-format off
  EXPECT_EQ(flat(out), wire({{0x00, 0x00, 0x00, 0x07},  // correlation id, no tagged fields
                             {0x00, 0x00},              // error_code
                             {0x02},                    // compact array of one
                             {0x00, 0x12, 0x00, 0x00, 0x00, 0x03, 0x00},
                             {0x00, 0x00, 0x00, 0x00},  // throttle_time_ms
                             {0x00}}));                 // no tagged fields: all default
  // clang-format on

  resp.supported_features.push_back({.name = "x", .min_version = 1, .max_version = 2});
  resp.finalized_features_epoch = 5;
  bytes::chunked_buffer with_tags;
  encode_response(resp, 3, with_tags);
  bytes::buffer body = flat(with_tags);
  bytes::buffer tail(body.begin() + 14, body.end());  // after throttle_time_ms
  // clang-format off
  EXPECT_EQ(tail, wire({{0x02},                                           // two tagged fields
                        {0x00, 0x08, 0x02, 0x02}, "x", {0, 1, 0, 2, 0},   // tag 0, 8 bytes
                        {0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 5}}));          // tag 1, int64
  // clang-format on
  bytes::byte_reader r(body);
  auto back = decode_response<api_versions_response>(r, 3);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->finalized_features_epoch, 5);
  ASSERT_EQ(back->supported_features.size(), 1u);
  EXPECT_EQ(back->supported_features[0].name, "x");
  EXPECT_EQ(back->supported_features[0].max_version, 2);
}

TEST(KafkaCodecGolden, ResponseHeaderTaggedFieldsOnlyForFlexibleNonApiVersions) {
  auto header = [](api_key k, int16_t v) {
    bytes::chunked_buffer out;
    encode_response_header(0x01020304, k, v, out);
    return flat(out);
  };
  EXPECT_EQ(header(api_key::metadata, 8), wire({{1, 2, 3, 4}}));
  EXPECT_EQ(header(api_key::metadata, 9), wire({{1, 2, 3, 4, 0}}));
  EXPECT_EQ(header(api_key::api_versions, 3), wire({{1, 2, 3, 4}}));
  EXPECT_EQ(header(api_key::api_versions, 0), wire({{1, 2, 3, 4}}));

  bytes::buffer b = wire({{1, 2, 3, 4, 0}});
  bytes::byte_reader r(b);
  auto id = decode_response_header(r, api_key::metadata, 9);
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, 0x01020304);
  EXPECT_TRUE(r.empty());
}

TEST(KafkaCodecGolden, MetadataV1Request) {
  // clang-format off
  bytes::buffer frame = wire({{0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09},
                              {0xff, 0xff},                   // null client_id
                              {0x00, 0x00, 0x00, 0x02},       // two topics
                              {0x00, 0x03}, "foo", {0x00, 0x03}, "bar"});
  // clang-format on
  bytes::byte_reader r(frame);
  auto h = decode_request_header(r);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->key, api_key::metadata);
  EXPECT_EQ(h->client_id, std::nullopt);
  auto req = decode_request<metadata_request>(r, 1);
  ASSERT_TRUE(req);
  ASSERT_TRUE(req->topics);
  ASSERT_EQ(req->topics->size(), 2u);
  EXPECT_EQ((*req->topics)[1].name, "bar");
  EXPECT_TRUE(req->allow_auto_topic_creation);  // v1 has no such field: the default
  EXPECT_EQ(encode_request_frame(*h, *req), frame);
}

TEST(KafkaCodecGolden, MetadataAllTopicsIsNullFromV1AndEmptyInV0) {
  metadata_request all;  // topics null
  bytes::chunked_buffer v0, v1;
  encode_request(all, 0, v0);
  encode_request(all, 1, v1);
  EXPECT_EQ(flat(v0), wire({{0, 0, 0, 0}}));
  EXPECT_EQ(flat(v1), wire({{0xff, 0xff, 0xff, 0xff}}));
  bytes::buffer null_in_v0 = flat(v1);
  bytes::byte_reader r(null_in_v0);
  EXPECT_EQ(decode_request<metadata_request>(r, 0).error(), codec_errc::unexpected_null);
}

TEST(KafkaCodecGolden, ProduceV3RequestRecordsViewTheFrame) {
  // clang-format off
  bytes::buffer frame = wire({{0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03},
                              {0x00, 0x07}, "rdkafka",
                              {0xff, 0xff},              // transactional_id: null
                              {0xff, 0xff},              // acks: -1
                              {0x00, 0x00, 0x75, 0x30},  // timeout_ms: 30000
                              {0x00, 0x00, 0x00, 0x01}, {0x00, 0x04}, "test",
                              {0x00, 0x00, 0x00, 0x01},  // one partition
                              {0x00, 0x00, 0x00, 0x02},  // index 2
                              {0x00, 0x00, 0x00, 0x05}, {1, 2, 3, 4, 5}});
  // clang-format on
  bytes::byte_reader r(frame);
  auto h = decode_request_header(r);
  ASSERT_TRUE(h);
  auto req = decode_request<produce_request>(r, h->version);
  ASSERT_TRUE(req) << req.error().message();
  EXPECT_EQ(req->transactional_id, std::nullopt);
  EXPECT_EQ(req->acks, -1);
  EXPECT_EQ(req->timeout_ms, 30000);
  ASSERT_EQ(req->topic_data.size(), 1u);
  EXPECT_EQ(req->topic_data[0].name, "test");
  auto& p = req->topic_data[0].partition_data.at(0);
  EXPECT_EQ(p.index, 2);
  ASSERT_TRUE(p.records.data);
  EXPECT_EQ(p.records.data->size(), 5u);
  EXPECT_EQ(p.records.data->data(), frame.data() + frame.size() - 5);  // zero copy
  p.records.mutable_data()[0] = 9;  // the handler may patch in place
  EXPECT_EQ(frame[frame.size() - 5], 9);
  EXPECT_EQ(encode_request_frame(*h, *req), frame);
}

}  // namespace
}  // namespace tern::kafka
