#include "group/records.h"

#include <gtest/gtest.h>

#include <random>

#include "group/errors.h"

namespace tern::group {
namespace {

group_value sample_group() {
  group_value v;
  v.protocol_type = "consumer";
  v.generation = 42;
  v.protocol_name = "range";
  v.leader = "c1-u1";
  member_value dynamic{
      "c1-u1",         std::nullopt, "c1", "/10.0.0.1", 30000, 10000, bytes::buffer{1, 2},
      bytes::buffer{3}};
  member_value fixed{
      "i2-u2", "i2", "c2", "/10.0.0.2", 60000, 45000, bytes::buffer{}, bytes::buffer{4, 5, 6}};
  v.members = {dynamic, fixed};
  return v;
}

TEST(Records, OffsetKeyAndValueRoundTrip) {
  offset_key k{"g", "orders", 7};
  offset_value v{1234, 5, "meta", 1700000000000};
  record r = make_record(k, v);
  auto key = decode_key(r.key);
  ASSERT_TRUE(key);
  EXPECT_EQ(std::get<offset_key>(*key), k);
  ASSERT_TRUE(r.value);
  EXPECT_EQ(*decode_offset_value(*r.value), v);
}

TEST(Records, OffsetKeyBytesAreAsDocumented) {
  // docs/formats/group-records.md: type:u16 group:str topic:str partition:i32, str = u32 len.
  const bytes::buffer want = {0, 1,                  // offset commit key
                              0, 0, 0, 1, 'g',       // group
                              0, 0, 0, 2, 't', 'p',  // topic
                              0, 0, 0, 9};           // partition
  EXPECT_EQ(encode_key(offset_key{"g", "tp", 9}), want);
  EXPECT_EQ(encode_key(group_key{"g"}), (bytes::buffer{0, 2, 0, 0, 0, 1, 'g'}));
}

TEST(Records, GroupValueRoundTripWithStaticAndDynamicMembers) {
  group_value v = sample_group();
  record r = make_record(group_key{"g"}, v);
  EXPECT_EQ(std::get<group_key>(*decode_key(r.key)).group_id, "g");
  auto got = decode_group_value(*r.value);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, v);
}

TEST(Records, EmptyGroupValueRoundTrips) {
  group_value v;
  v.generation = 3;
  EXPECT_EQ(*decode_group_value(encode_value(v)), v);
}

TEST(Records, AbsentAndEmptyOptionalStringsAreDistinct) {
  group_value a = sample_group(), b = sample_group();
  a.leader = std::nullopt;
  b.leader = "";
  EXPECT_EQ(*decode_group_value(encode_value(a)), a);
  EXPECT_EQ(*decode_group_value(encode_value(b)), b);
  EXPECT_NE(encode_value(a), encode_value(b));
}

TEST(Records, TombstonesHaveTheSameKeyAndNoValue) {
  record t = make_tombstone(offset_key{"g", "t", 1});
  EXPECT_FALSE(t.value);
  EXPECT_EQ(t.key, make_record(offset_key{"g", "t", 1}, offset_value{}).key);
  EXPECT_EQ(make_tombstone(group_key{"g"}).key, make_record(group_key{"g"}, group_value{}).key);
}

TEST(Records, EveryTruncationFails) {
  bytes::buffer key = encode_key(offset_key{"group", "topic", 3});
  bytes::buffer ov = encode_value(offset_value{1, 2, "m", 3});
  bytes::buffer gv = encode_value(sample_group());
  for (size_t n = 0; n < key.size(); ++n) {
    EXPECT_EQ(decode_key(bytes::byte_view(key.data(), n)).error(), decode_errc::truncated) << n;
  }
  for (size_t n = 0; n < ov.size(); ++n) {
    EXPECT_FALSE(decode_offset_value(bytes::byte_view(ov.data(), n))) << n;
  }
  for (size_t n = 0; n < gv.size(); ++n) {
    EXPECT_FALSE(decode_group_value(bytes::byte_view(gv.data(), n))) << n;
  }
}

TEST(Records, TrailingBytesAreCorrupt) {
  bytes::buffer key = encode_key(group_key{"g"});
  key.push_back(0);
  EXPECT_EQ(decode_key(key).error(), decode_errc::corrupt);
  bytes::buffer v = encode_value(offset_value{});
  v.push_back(0);
  EXPECT_EQ(decode_offset_value(v).error(), decode_errc::corrupt);
}

TEST(Records, UnknownKeyTypeIsReported) {
  EXPECT_EQ(decode_key(bytes::buffer{0, 9, 0, 0}).error(), decode_errc::unknown_key_type);
}

TEST(Records, UnknownValueVersionIsReported) {
  bytes::buffer v = encode_value(sample_group());
  v[1] = 1;  // version 1
  EXPECT_EQ(decode_group_value(v).error(), decode_errc::unsupported_version);
  bytes::buffer o = encode_value(offset_value{});
  o[0] = 0x80;
  EXPECT_EQ(decode_offset_value(o).error(), decode_errc::unsupported_version);
}

TEST(Records, HugeMemberCountIsCorruptWithoutAllocating) {
  bytes::buffer v = {0,    0,                                         // version
                     0,    0,    0,    0,                             // protocol type ""
                     0,    0,    0,    1,                             // generation
                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // no protocol, leader
                     0xff, 0xff, 0xff, 0xf0};                         // member count
  EXPECT_EQ(decode_group_value(v).error(), decode_errc::corrupt);
}

TEST(Records, HugeStringLengthIsTruncatedNotAllocated) {
  bytes::buffer k = {0, 2, 0x7f, 0xff, 0xff, 0xff, 'g'};
  EXPECT_EQ(decode_key(k).error(), decode_errc::truncated);
}

TEST(Records, RandomGarbageNeverCrashes) {
  std::mt19937 rng(7);
  bytes::buffer valid = encode_value(sample_group());
  for (int i = 0; i < 20000; ++i) {
    bytes::buffer b = valid;
    for (int k = 0; k < 4; ++k) b[rng() % b.size()] = uint8_t(rng());
    if (i % 3 == 0) b.resize(rng() % b.size());
    (void)decode_group_value(b);
    (void)decode_offset_value(b);
    (void)decode_key(b);
  }
  SUCCEED();
}

}  // namespace
}  // namespace tern::group
