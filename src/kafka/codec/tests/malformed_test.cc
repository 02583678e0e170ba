// Malformed and hostile input: every case must fail cleanly with a codec_errc, without
// crashing and without allocating in proportion to what the input claims.

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <initializer_list>
#include <new>

#include "kafka/codec/api_versions.h"
#include "kafka/codec/create_topics.h"
#include "kafka/codec/delete_topics.h"
#include "kafka/codec/fetch.h"
#include "kafka/codec/metadata.h"
#include "kafka/codec/sasl_authenticate.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // malloc/free back new/delete here
#endif

// The largest single allocation since the last reset, to prove that a huge claimed count
// allocates nothing. Replacing the global operator new is legal in exactly one TU.
static std::atomic<size_t> largest_allocation{0};
void* operator new(size_t n) {
  size_t seen = largest_allocation.load(std::memory_order_relaxed);
  while (n > seen && !largest_allocation.compare_exchange_weak(seen, n)) {
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace tern::kafka {
namespace {

bytes::buffer b(std::initializer_list<int> v) {
  bytes::buffer out;
  for (int x : v) out.push_back(uint8_t(x));
  return out;
}

template <class M>
std::error_code decode_error(const bytes::buffer& in, int16_t version) {
  bytes::byte_reader r(in);
  auto m = detail::decode_message<M>(r, version);
  return m ? std::error_code{} : m.error();
}

TEST(KafkaCodecMalformed, HugeArrayCountFailsWithoutAllocating) {
  // DeleteTopics v0: topic_names claims 2^31-1 strings; 10 bytes follow.
  bytes::buffer in = b({0x7f, 0xff, 0xff, 0xff, 0, 1, 'a', 0, 1, 'b', 0, 0, 0, 0});
  largest_allocation = 0;
  EXPECT_EQ(decode_error<delete_topics_request>(in, 0), codec_errc::truncated);
  EXPECT_LT(largest_allocation.load(), 4096u);
}

TEST(KafkaCodecMalformed, HugeCompactArrayCountFailsWithoutAllocating) {
  // Metadata v9: compact array count uvarint 2^32-1 (so 2^32-2 elements).
  bytes::buffer in = b({0xff, 0xff, 0xff, 0xff, 0x0f, 2, 'a', 0, 2, 'b', 0, 1, 1, 0});
  largest_allocation = 0;
  EXPECT_EQ(decode_error<metadata_request>(in, 9), codec_errc::truncated);
  EXPECT_LT(largest_allocation.load(), 4096u);
}

TEST(KafkaCodecMalformed, ArrayCountIsBoundedByTheSmallestElement) {
  // Fetch v5 partitions take at least 20 bytes each. 100000 of them claimed with 100000
  // bytes left passes a one-byte-per-element check, but must be refused before ~3 MB of
  // structs are allocated for them.
  bytes::buffer in = b({0, 0, 0, 0, 0, 0, 0,   0, 0, 0,    0,   0, 0, 0, 0, 0, 0,  // fixed fields
                        0, 0, 0, 1, 0, 1, 't', 0, 1, 0x86, 0xa0});                 // 100000
  in.resize(in.size() + 100000);
  largest_allocation = 0;
  EXPECT_EQ(decode_error<fetch_request>(in, 5), codec_errc::truncated);
  EXPECT_LT(largest_allocation.load(), 4096u);
}

TEST(KafkaCodecMalformed, HugeStringAndBytesLengths) {
  EXPECT_EQ(decode_error<delete_topics_request>(b({0, 0, 0, 1, 0x7f, 0xff, 'a'}), 0),
            codec_errc::truncated);
  largest_allocation = 0;
  EXPECT_EQ(decode_error<sasl_authenticate_request>(b({0x7f, 0xff, 0xff, 0xff, 1, 2}), 0),
            codec_errc::truncated);
  EXPECT_EQ(decode_error<sasl_authenticate_request>(b({0xff, 0xff, 0xff, 0xff, 0x0f, 1}), 2),
            codec_errc::truncated);
  EXPECT_LT(largest_allocation.load(), 4096u);
}

TEST(KafkaCodecMalformed, NegativeLengthsOtherThanNull) {
  EXPECT_EQ(decode_error<delete_topics_request>(b({0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0}), 0),
            codec_errc::invalid_length);
  EXPECT_EQ(decode_error<delete_topics_request>(b({0, 0, 0, 1, 0xff, 0xfb, 0, 0, 0, 0}), 0),
            codec_errc::invalid_length);
  EXPECT_EQ(decode_error<sasl_authenticate_request>(b({0x80, 0, 0, 0}), 0),
            codec_errc::invalid_length);
}

TEST(KafkaCodecMalformed, NullWhereTheSchemaAllowsNone) {
  // Classic null array, classic null string, compact null array.
  EXPECT_EQ(decode_error<delete_topics_request>(b({0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}), 0),
            codec_errc::unexpected_null);
  EXPECT_EQ(decode_error<delete_topics_request>(b({0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0}), 0),
            codec_errc::unexpected_null);
  EXPECT_EQ(decode_error<delete_topics_request>(b({0x00, 0, 0, 0, 0, 0}), 4),
            codec_errc::unexpected_null);
}

TEST(KafkaCodecMalformed, OverlongVarint) {
  EXPECT_EQ(decode_error<metadata_request>(b({0x80, 0x80, 0x80, 0x80, 0x80, 0x01}), 9),
            codec_errc::truncated);
}

TEST(KafkaCodecTaggedFields, UnknownTagsAreSkipped) {
  // ApiVersions v3 request, with tags 5 (3 bytes) and 7 (empty) that Tern does not know.
  bytes::buffer in = b({4, 'l', 'i', 'b', 2, '1', 2, 5, 3, 0xaa, 0xbb, 0xcc, 7, 0});
  bytes::byte_reader r(in);
  auto req = decode_request<api_versions_request>(r, 3);
  ASSERT_TRUE(req) << req.error().message();
  EXPECT_EQ(req->client_software_name, "lib");
  EXPECT_EQ(req->client_software_version, "1");
}

TEST(KafkaCodecTaggedFields, UnknownTagsInNestedStructsAreSkipped) {
  // CreateTopics v5 response: one topic whose own tagged section has an unknown tag 9 and
  // the known tag 0 (topic_config_error_code = 0x0102).
  bytes::buffer in = b({0, 0,   0, 0,                       // throttle_time_ms
                        2,                                  // one topic
                        2, 't', 0, 0,    0,                 // name, error_code, null error_message
                        0, 0,   0, 3,    0,    1, 0,        // num_partitions 3, replication 1, null
                        2, 9,   2, 0xde, 0xad, 0, 2, 1, 2,  // tags: 9 (skipped), 0
                        0});                                // top-level tagged fields
  bytes::byte_reader r(in);
  auto resp = decode_response<create_topics_response>(r, 5);
  ASSERT_TRUE(resp) << resp.error().message();
  ASSERT_EQ(resp->topics.size(), 1u);
  EXPECT_EQ(resp->topics[0].name, "t");
  EXPECT_EQ(resp->topics[0].num_partitions, 3);
  EXPECT_EQ(resp->topics[0].topic_config_error_code, 0x0102);
  EXPECT_FALSE(resp->topics[0].configs);
}

TEST(KafkaCodecTaggedFields, KnownTagWithTheWrongSizeIsAnError) {
  // ApiVersions v3 response; tag 1 (finalized_features_epoch, int64) with 4 and 9 bytes.
  bytes::buffer short_tag = b({0, 0, 1, 0, 0, 0, 0, 1, 1, 4, 0, 0, 0, 5});
  bytes::buffer long_tag = b({0, 0, 1, 0, 0, 0, 0, 1, 1, 9, 0, 0, 0, 0, 0, 0, 0, 5, 0});
  EXPECT_EQ(decode_error<api_versions_response>(short_tag, 3), codec_errc::invalid_tagged_field);
  EXPECT_EQ(decode_error<api_versions_response>(long_tag, 3), codec_errc::invalid_tagged_field);
  bytes::buffer right = b({0, 0, 1, 0, 0, 0, 0, 1, 1, 8, 0, 0, 0, 0, 0, 0, 0, 5});
  EXPECT_EQ(decode_error<api_versions_response>(right, 3), std::error_code{});
}

TEST(KafkaCodecTaggedFields, HugeTagCountOrSizeIsTruncated) {
  EXPECT_EQ(decode_error<api_versions_request>(b({1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f}), 3),
            codec_errc::truncated);
  EXPECT_EQ(decode_error<api_versions_request>(b({1, 1, 1, 5, 0xff, 0xff, 0x03, 0}), 3),
            codec_errc::truncated);
}

TEST(KafkaCodecHeader, FlexibleHeaderSkipsItsTaggedFields) {
  bytes::buffer in = b({0, 18, 0, 3, 0, 0, 0, 9, 0xff, 0xff, 1, 4, 2, 0xaa, 0xbb, 0x77});
  bytes::byte_reader r(in);
  auto h = decode_request_header(r);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->correlation_id, 9);
  EXPECT_EQ(r.remaining(), 1u);  // the body starts after the header's tagged fields
}

TEST(KafkaCodecHeader, UnknownKeysAndVersionsAreReadAsV1) {
  // An unknown key, and ApiVersions v4 (a newer client): no header tagged fields consumed,
  // so the caller can answer UNSUPPORTED_VERSION to the right correlation id.
  for (int key : {0x7f00, 18}) {
    bytes::buffer in = b({key >> 8, key & 0xff, 0, 4, 0, 0, 0, 5, 0, 1, 'c', 0});
    bytes::byte_reader r(in);
    auto h = decode_request_header(r);
    ASSERT_TRUE(h);
    EXPECT_EQ(int(h->key), key);
    EXPECT_EQ(h->version, 4);
    EXPECT_EQ(h->correlation_id, 5);
    EXPECT_EQ(h->client_id, "c");
    EXPECT_EQ(r.remaining(), 1u);
    EXPECT_FALSE(decode_request<api_versions_request>(r, 4));
  }
}

TEST(KafkaCodecHeader, MalformedHeaders) {
  for (auto in : {b({}), b({0, 18, 0, 0, 0, 0}), b({0, 18, 0, 0, 0, 0, 0, 1, 0, 5, 'a'}),
                  b({0, 18, 0, 3, 0, 0, 0, 1, 0xff, 0xff})}) {  // v3 without tagged fields
    bytes::byte_reader r(in);
    EXPECT_EQ(decode_request_header(r).error(), codec_errc::truncated);
  }
  bytes::buffer negative = b({0, 18, 0, 0, 0, 0, 0, 1, 0xff, 0xf0});
  bytes::byte_reader r(negative);
  EXPECT_EQ(decode_request_header(r).error(), codec_errc::invalid_length);
}

TEST(KafkaCodecRecords, FetchResponseSendsFileRangesWithoutCopying) {
  char path[] = "/tmp/tern_codec_records_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  ASSERT_EQ(::write(fd, "0123456789", 10), 10);

  fetch_response resp;
  auto& p = resp.responses.emplace_back().partitions.emplace_back();
  uint8_t head[] = {'a', 'b'};
  p.records.data = bytes::byte_view(head);
  p.records.files.push_back({nullptr, fd, 3, 4});  // "3456"
  p.records.files.push_back({nullptr, fd, 8, 2});  // "89"
  bytes::chunked_buffer out;
  encode_response(resp, 4, out);

  int file_chunks = 0;
  for (auto& c : out.chunks()) file_chunks += std::holds_alternative<bytes::file_range>(c);
  EXPECT_EQ(file_chunks, 2);
  bytes::buffer flat;
  ASSERT_TRUE(out.flatten(flat));
  ::close(fd);
  bytes::byte_reader r(flat);
  auto back = decode_response<fetch_response>(r, 4);
  ASSERT_TRUE(back) << back.error().message();
  auto& data = back->responses.at(0).partitions.at(0).records.data;
  ASSERT_TRUE(data);
  EXPECT_EQ(bytes::as_chars(*data), "ab345689");
}

TEST(KafkaCodecRecords, NullAndEmptyRecordsDiffer) {
  fetch_response resp;
  auto& p = resp.responses.emplace_back().partitions.emplace_back();
  for (bool empty : {false, true}) {
    p.records = {};
    if (empty) p.records.data = bytes::byte_view();
    bytes::chunked_buffer out;
    encode_response(resp, 0, out);
    bytes::buffer flat;
    ASSERT_TRUE(out.flatten(flat));
    bytes::buffer prefix(flat.end() - 4, flat.end());
    EXPECT_EQ(prefix, empty ? b({0, 0, 0, 0}) : b({0xff, 0xff, 0xff, 0xff}));
    bytes::byte_reader r(flat);
    auto back = decode_response<fetch_response>(r, 0);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->responses[0].partitions[0].records.data.has_value(), empty);
  }
}

}  // namespace
}  // namespace tern::kafka
