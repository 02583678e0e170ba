// Round trips derived from the descriptions: for every described API, every version in its
// range, request and response, a sample message encodes and decodes back to itself.

#include <gtest/gtest.h>

#include "kafka/codec/apis.h"
#include "kafka/codec/inspect.h"
#include "kafka/codec/sample.h"

namespace tern::kafka {
namespace {

bytes::buffer encode(const auto& msg, int16_t version) {
  bytes::chunked_buffer out;
  detail::encode_message(msg, version, out);
  bytes::buffer flat;
  EXPECT_TRUE(out.flatten(flat));
  return flat;
}

template <class M>
result<M> decode(const bytes::buffer& wire, int16_t version) {
  bytes::byte_reader r(wire);
  return detail::decode_message<M>(r, version);
}

// Calls check.template operator()<M>(version) for every message type and version.
template <class F>
void for_each_message_version(F&& check) {
  for_each_api([&](auto tag) {
    using api = typename decltype(tag)::type;
    for (int16_t v = api::info.min_version; v <= api::info.max_version; ++v) {
      SCOPED_TRACE(std::string(api::info.name) + " v" + std::to_string(v));
      {
        SCOPED_TRACE("request");
        check.template operator()<typename api::request>(v);
      }
      {
        SCOPED_TRACE("response");
        check.template operator()<typename api::response>(v);
      }
    }
  });
}

template <class M>
void expect_round_trip(const M& msg, const M& expected, int16_t version) {
  bytes::buffer wire = encode(msg, version);
  auto back = decode<M>(wire, version);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_TRUE(deep_equal(*back, expected))
      << "\n  sent: " << to_debug_string(expected) << "\n  got:  " << to_debug_string(*back);
  // And the decoded message encodes to the same bytes.
  EXPECT_EQ(encode(*back, version), wire);
}

TEST(KafkaCodecRoundTrip, EveryFieldOfEveryVersion) {
  for_each_message_version([]<class M>(int16_t v) {
    M m = make_sample<M>(v, sample_mode::one_version);
    expect_round_trip(m, m, v);
  });
}

TEST(KafkaCodecRoundTrip, NullsWhereTheVersionAllowsThem) {
  for_each_message_version([]<class M>(int16_t v) {
    M m = make_sample<M>(v, sample_mode::nulls);
    expect_round_trip(m, m, v);
  });
}

TEST(KafkaCodecRoundTrip, FieldsAbsentFromAVersionComeBackAsDefaults) {
  for_each_message_version([]<class M>(int16_t v) {
    M everything = make_sample<M>(v, sample_mode::all_versions);
    M expected = make_sample<M>(v, sample_mode::one_version);
    expect_round_trip(everything, expected, v);
  });
}

TEST(KafkaCodecRoundTrip, SamplesDifferFromDefaults) {
  // Guards the tests above: a sample equal to the default message would prove nothing.
  for_each_message_version([]<class M>(int16_t v) {
    int fields = 0;
    schema::for_each_field(M{}, [&](const auto&, field_opts o) { fields += o.present(v); });
    if (fields > 0) {
      EXPECT_FALSE(deep_equal(make_sample<M>(v), M{}));
    }
  });
}

TEST(KafkaCodecRoundTrip, EveryStrictPrefixIsRejected) {
  for_each_message_version([]<class M>(int16_t v) {
    bytes::buffer wire = encode(make_sample<M>(v), v);
    for (size_t n = 0; n < wire.size(); ++n) {
      bytes::buffer prefix(wire.begin(), wire.begin() + ptrdiff_t(n));
      auto r = decode<M>(prefix, v);
      ASSERT_FALSE(r) << "prefix of " << n << " of " << wire.size() << " bytes decoded";
      EXPECT_EQ(r.error(), codec_errc::truncated);
    }
  });
}

TEST(KafkaCodecRoundTrip, TrailingBytesAreRejected) {
  for_each_message_version([]<class M>(int16_t v) {
    bytes::buffer wire = encode(make_sample<M>(v), v);
    wire.push_back(0);
    auto r = decode<M>(wire, v);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), codec_errc::trailing_bytes);
  });
}

TEST(KafkaCodecRoundTrip, VersionsOutsideTheRangeAreRejected) {
  for_each_api([](auto tag) {
    using api = typename decltype(tag)::type;
    bytes::buffer empty;
    for (int16_t v : {int16_t(api::info.min_version - 1), int16_t(api::info.max_version + 1)}) {
      auto r = decode<typename api::request>(empty, v);
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error(), codec_errc::unsupported_version) << api::info.name << " v" << v;
    }
  });
}

TEST(KafkaCodecApis, TableIsConsistent) {
  for (auto& a : all_apis) {
    EXPECT_LE(a.min_version, a.max_version) << a.name;
    EXPECT_EQ(find_api(a.key), &a);
    for (int16_t v = a.min_version; v <= a.max_version; ++v)
      EXPECT_EQ(is_flexible(a.key, v), v >= a.first_flexible) << a.name << " v" << v;
    EXPECT_FALSE(is_flexible(a.key, int16_t(a.max_version + 1))) << a.name;
  }
  EXPECT_EQ(find_api(api_key(9999)), nullptr);
  int visited = 0;
  EXPECT_TRUE(visit_api(api_key::metadata, [&](auto tag) {
    ++visited;
    EXPECT_EQ(decltype(tag)::type::key, api_key::metadata);
  }));
  EXPECT_EQ(visited, 1);
  EXPECT_FALSE(visit_api(api_key(9999), [](auto) {}));
}

}  // namespace
}  // namespace tern::kafka
