#include "group/consumer_protocol.h"

#include <gtest/gtest.h>

#include <random>

#include "group/errors.h"

namespace tern::group::consumer_protocol {
namespace {

subscription full_subscription(int16_t version) {
  subscription s;
  s.version = version;
  s.topics = {"orders", "payments"};
  s.user_data = bytes::buffer{1, 2, 3};
  if (version >= 1) s.owned_partitions = {{"orders", {0, 2}}, {"payments", {}}};
  if (version >= 2) s.generation_id = 7;
  if (version >= 3) s.rack_id = "rack-a";
  return s;
}

TEST(ConsumerProtocol, SubscriptionRoundTripsAtEveryKnownVersion) {
  for (int16_t v = 0; v <= max_subscription_version; ++v) {
    subscription s = full_subscription(v);
    auto got = decode_subscription(encode_subscription(s));
    ASSERT_TRUE(got) << "version " << v << ": " << got.error().message();
    EXPECT_EQ(*got, s) << "version " << v;
  }
}

TEST(ConsumerProtocol, SubscriptionV0BytesAreKafkasLayout) {
  subscription s;
  s.topics = {"ab"};
  const bytes::buffer want = {0,    0,                  // version 0
                              0,    0,    0,    1,      // one topic
                              0,    2,    'a',  'b',    // "ab"
                              0xff, 0xff, 0xff, 0xff};  // null user data
  EXPECT_EQ(encode_subscription(s), want);
}

TEST(ConsumerProtocol, SubscriptionOfNewerVersionReadsKnownFieldsAndIgnoresTheRest) {
  subscription s = full_subscription(3);
  s.version = 9;  // a future client
  bytes::buffer b = encode_subscription(s);
  b.insert(b.end(), {0xde, 0xad, 0xbe, 0xef});  // fields this code does not know
  auto got = decode_subscription(b);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->version, 9);
  EXPECT_EQ(got->topics, s.topics);
  EXPECT_EQ(got->owned_partitions, s.owned_partitions);
  EXPECT_EQ(got->rack_id, s.rack_id);
}

TEST(ConsumerProtocol, MaxVersionZeroReadsOnlyTheSharedPrefix) {
  subscription s = full_subscription(3);
  auto got = decode_subscription(encode_subscription(s), 0);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topics, s.topics);
  EXPECT_TRUE(got->owned_partitions.empty());
  EXPECT_EQ(got->generation_id, -1);
}

TEST(ConsumerProtocol, NegativeVersionIsUnsupported) {
  bytes::buffer b = {0xff, 0xfe, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(decode_subscription(b).error(), decode_errc::unsupported_version);
  EXPECT_EQ(decode_assignment(b).error(), decode_errc::unsupported_version);
}

TEST(ConsumerProtocol, EmptyInputIsTruncated) {
  EXPECT_EQ(decode_subscription({}).error(), decode_errc::truncated);
  EXPECT_EQ(decode_assignment({}).error(), decode_errc::truncated);
}

TEST(ConsumerProtocol, EveryTruncationOfASubscriptionFails) {
  bytes::buffer b = encode_subscription(full_subscription(3));
  for (size_t n = 0; n < b.size(); ++n) {
    auto got = decode_subscription(bytes::byte_view(b.data(), n));
    EXPECT_FALSE(got) << "prefix of " << n << " bytes";
  }
}

TEST(ConsumerProtocol, EveryTruncationOfAnAssignmentFails) {
  assignment a{2, {{"orders", {0, 1, 2}}, {"x", {}}}, bytes::buffer{9}};
  bytes::buffer b = encode_assignment(a);
  ASSERT_EQ(*decode_assignment(b), a);
  for (size_t n = 0; n < b.size(); ++n) {
    EXPECT_FALSE(decode_assignment(bytes::byte_view(b.data(), n))) << "prefix of " << n;
  }
}

TEST(ConsumerProtocol, HugeTopicCountIsCorruptWithoutAllocating) {
  bytes::buffer b = {0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, 'a'};
  EXPECT_EQ(decode_subscription(b).error(), decode_errc::corrupt);
}

TEST(ConsumerProtocol, HugePartitionCountIsCorrupt) {
  bytes::buffer b = {0, 0, 0, 0, 0, 1, 0, 1, 't', 0x7f, 0xff, 0xff, 0xff};
  EXPECT_EQ(decode_assignment(b).error(), decode_errc::corrupt);
}

TEST(ConsumerProtocol, NegativeStringLengthIsCorrupt) {
  bytes::buffer b = {0, 0, 0, 0, 0, 1, 0xff, 0xfe};
  EXPECT_EQ(decode_subscription(b).error(), decode_errc::corrupt);
}

TEST(ConsumerProtocol, NullTopicArrayIsCorrupt) {
  bytes::buffer b = {0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(decode_subscription(b).error(), decode_errc::corrupt);
}

TEST(ConsumerProtocol, NullAndEmptyUserDataAreDistinct) {
  assignment with_null{0, {}, std::nullopt};
  assignment with_empty{0, {}, bytes::buffer{}};
  EXPECT_EQ(*decode_assignment(encode_assignment(with_null)), with_null);
  EXPECT_EQ(*decode_assignment(encode_assignment(with_empty)), with_empty);
}

TEST(ConsumerProtocol, RandomGarbageNeverCrashes) {
  std::mt19937 rng(12345);
  bytes::buffer valid = encode_subscription(full_subscription(3));
  for (int i = 0; i < 20000; ++i) {
    bytes::buffer b;
    if (i % 2 == 0) {
      b.resize(rng() % 64);
      for (auto& x : b) x = uint8_t(rng());
    } else {
      b = valid;  // a valid message with a few bytes flipped
      for (int k = 0; k < 3; ++k) b[rng() % b.size()] = uint8_t(rng());
    }
    (void)decode_subscription(b);
    (void)decode_assignment(b);
  }
  SUCCEED();
}

}  // namespace
}  // namespace tern::group::consumer_protocol
