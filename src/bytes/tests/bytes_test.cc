#include <gtest/gtest.h>

#include <random>
#include <string>

#include "bytes/buffer.h"
#include "bytes/compression.h"
#include "bytes/crc32c.h"
#include "bytes/varint.h"

#include <snappy.h>

using namespace tern::bytes;

TEST(Crc32c, KnownVectors) {
  // RFC 3720 (iSCSI) test vectors for CRC-32C.
  uint8_t zeros[32] = {};
  EXPECT_EQ(crc32c(zeros, 32), 0x8A9136AAu);
  uint8_t ones[32];
  std::fill(std::begin(ones), std::end(ones), 0xff);
  EXPECT_EQ(crc32c(ones, 32), 0x62A8AB43u);
  std::string digits = "123456789";
  EXPECT_EQ(crc32c(digits.data(), digits.size()), 0xE3069283u);
}

TEST(Crc32c, ExtendEqualsWhole) {
  std::string s(1000, 'x');
  for (size_t i = 0; i < s.size(); ++i) s[i] = char(i * 7);
  uint32_t whole = crc32c(s.data(), s.size());
  for (size_t split : {0, 1, 7, 8, 9, 500, 999, 1000}) {
    uint32_t part = crc32c_extend(crc32c(s.data(), split), s.data() + split, s.size() - split);
    EXPECT_EQ(part, whole) << split;
  }
}

TEST(Varint, ZigZagRoundTrip) {
  for (int64_t v : std::initializer_list<int64_t>{0, 1, -1, 63, -64, 64, INT64_MAX, INT64_MIN}) {
    buffer b;
    byte_writer w(b);
    w.varlong(v);
    byte_reader r(b);
    EXPECT_EQ(r.varlong(), v);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.empty());
  }
  for (int32_t v : {0, 1, -1, 300, -300, INT32_MAX, INT32_MIN}) {
    buffer b;
    byte_writer w(b);
    w.varint(v);
    byte_reader r(b);
    EXPECT_EQ(r.varint(), v);
    EXPECT_TRUE(r.ok());
  }
}

TEST(Varint, KnownEncodings) {
  buffer b;
  byte_writer w(b);
  w.varint(-1);   // zigzag 1
  w.varint(150);  // zigzag 300 = 0xac 0x02
  EXPECT_EQ(b, (buffer{0x01, 0xac, 0x02}));
}

TEST(Varint, TruncatedInputFails) {
  buffer b{0x80, 0x80};
  byte_reader r(b);
  r.varint();
  EXPECT_FALSE(r.ok());
}

TEST(Varint, OverlongEncodingFails) {
  buffer b(11, 0x80);
  b.push_back(0x01);
  byte_reader r(b);
  r.varlong();
  EXPECT_FALSE(r.ok());
  buffer b32{0xff, 0xff, 0xff, 0xff, 0x7f};  // 35 bits: too large for 32-bit varint
  byte_reader r32(b32);
  r32.varint();
  EXPECT_FALSE(r32.ok());
}

TEST(ByteReader, OverrunIsStickyAndAllocatesNothing) {
  buffer b{0, 0, 0, 1};
  byte_reader r(b);
  EXPECT_EQ(r.i32(), 1);
  EXPECT_EQ(r.i16(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.bytes(1'000'000'000).empty());
  EXPECT_FALSE(r.ok());
}

TEST(ByteWriter, BigEndianAndPatch) {
  buffer b;
  byte_writer w(b);
  size_t at = w.placeholder<int32_t>();
  w.i16(0x0102);
  w.patch_be<int32_t>(at, 0x0a0b0c0d);
  EXPECT_EQ(b, (buffer{0x0a, 0x0b, 0x0c, 0x0d, 0x01, 0x02}));
}

class CompressionRoundTrip : public ::testing::TestWithParam<compression> {};

TEST_P(CompressionRoundTrip, RoundTrips) {
  std::mt19937 rng(42);
  buffer input(200'000);
  for (size_t i = 0; i < input.size(); ++i) input[i] = uint8_t(i % 251 < 200 ? 'a' : rng());
  buffer packed;
  ASSERT_TRUE(compress(GetParam(), input, packed));
  buffer unpacked;
  ASSERT_TRUE(decompress(GetParam(), packed, input.size(), unpacked));
  EXPECT_EQ(unpacked, input);
}

TEST_P(CompressionRoundTrip, BombIsStoppedAtTheLimit) {
  buffer input(10'000'000, 0);  // compresses to almost nothing
  buffer packed;
  ASSERT_TRUE(compress(GetParam(), input, packed));
  buffer unpacked;
  auto r = decompress(GetParam(), packed, 1'000'000, unpacked);
  EXPECT_EQ(r.error(), make_error_code(compression_errc::output_too_large));
  EXPECT_LE(unpacked.size(), 1'000'000u + 64 * 1024 + 1);
}

TEST_P(CompressionRoundTrip, GarbageIsCorruptNotACrash) {
  if (GetParam() == compression::none) GTEST_SKIP();
  buffer garbage(1000);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = uint8_t(i * 31 + 7);
  buffer out;
  EXPECT_FALSE(decompress(GetParam(), garbage, 1 << 20, out));
}

TEST_P(CompressionRoundTrip, TruncatedIsCorrupt) {
  if (GetParam() == compression::none) GTEST_SKIP();
  buffer input(100'000, 'z');
  for (size_t i = 0; i < input.size(); i += 3) input[i] = uint8_t(i);
  buffer packed;
  ASSERT_TRUE(compress(GetParam(), input, packed));
  packed.resize(packed.size() / 2);
  buffer out;
  EXPECT_FALSE(decompress(GetParam(), packed, 1 << 20, out));
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CompressionRoundTrip,
                         ::testing::Values(compression::none, compression::gzip,
                                           compression::snappy, compression::lz4,
                                           compression::zstd));

TEST(Compression, RawSnappyAsLibrdkafkaWritesIt) {
  std::string text(5000, 'k');
  std::string packed;
  snappy::Compress(text.data(), text.size(), &packed);
  buffer out;
  ASSERT_TRUE(decompress(compression::snappy, as_bytes(packed), 1 << 20, out));
  EXPECT_EQ(as_chars(out), text);
}
