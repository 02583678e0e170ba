#include "storage/record_batch.h"

#include <gtest/gtest.h>

#include <random>

#include "bytes/crc32c.h"
#include "storage/tests/test_util.h"

namespace tern::storage {
namespace {
namespace bl = batch_layout;
using bytes::buffer;
using bytes::compression;

buffer bytes_of(std::string_view s) { return buffer(s.begin(), s.end()); }

std::vector<record> sample_records() {
  std::vector<record> recs;
  for (int i = 0; i < 50; ++i) {
    record r;
    if (i % 7 != 3) r.key = bytes_of("key-" + std::to_string(i));
    if (i % 5 != 4) r.value = buffer(size_t(i * 13), uint8_t(i));
    if (i % 3 == 0) r.headers.emplace_back("h1", bytes_of("v1"));
    if (i % 4 == 0) r.headers.emplace_back("null-value", std::nullopt);
    r.timestamp = 1'000'000 + (i * 37) % 100;  // not monotonic: negative deltas too
    recs.push_back(std::move(r));
  }
  return recs;
}

batch_limits limits() { return batch_limits{1 << 20, 8 << 20}; }

// Recomputes the CRC after a test edits covered bytes, so the intended check is reached.
void fix_crc(buffer& b) {
  bytes::store_be<uint32_t>(b.data() + bl::crc,
                            bytes::crc32c(b.data() + bl::attributes, b.size() - bl::attributes));
}

void set_i32(buffer& b, size_t pos, int32_t v) { bytes::store_be<int32_t>(b.data() + pos, v); }

class RecordBatchCodec : public ::testing::TestWithParam<compression> {};

TEST_P(RecordBatchCodec, BuildValidateDecodeRoundTrip) {
  auto recs = sample_records();
  build_options o;
  o.compression = GetParam();
  o.base_offset = 100;
  buffer b = build_batch(recs, o);

  auto info = validate_batch(b, limits());
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->record_count, 50);
  EXPECT_EQ(info->max_timestamp, 1'000'099);
  EXPECT_EQ(info->header.compression(), GetParam());
  EXPECT_EQ(info->header.last_offset(), 149);

  auto decoded = decode_records(b, 8 << 20);
  ASSERT_TRUE(decoded) << decoded.error().message();
  ASSERT_EQ(decoded->size(), recs.size());
  for (size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ((*decoded)[i].offset, 100 + int64_t(i));
    EXPECT_EQ(static_cast<const record&>((*decoded)[i]), recs[i]) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(EachCodec, RecordBatchCodec,
                         ::testing::Values(compression::none, compression::gzip,
                                           compression::snappy, compression::lz4,
                                           compression::zstd));

TEST(RecordBatch, HeaderFieldsAndHelpers) {
  build_options o;
  o.base_offset = 42;
  o.producer_id = 7;
  o.producer_epoch = 3;
  o.base_sequence = 11;
  o.transactional = true;
  o.compression = compression::lz4;
  buffer b = build_batch(sample_records(), o);
  auto h = parse_batch_header(b);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->base_offset, 42);
  EXPECT_EQ(h->magic, 2);
  EXPECT_EQ(h->size(), b.size());
  EXPECT_EQ(h->record_count, 50);
  EXPECT_EQ(h->last_offset_delta, 49);
  EXPECT_EQ(h->last_offset(), 91);
  EXPECT_EQ(h->producer_id, 7);
  EXPECT_EQ(h->producer_epoch, 3);
  EXPECT_EQ(h->base_sequence, 11);
  EXPECT_EQ(h->base_timestamp, 1'000'000);
  EXPECT_EQ(h->compression(), compression::lz4);
  EXPECT_TRUE(h->is_transactional());
  EXPECT_FALSE(h->is_control());
  EXPECT_EQ(h->timestamp_type(), timestamp_type::create_time);
}

TEST(RecordBatch, ParseHeaderTooShortIsCorrupt) {
  buffer b = test::make_batch(1);
  EXPECT_EQ(parse_batch_header(bytes::byte_view(b).first(60)).error(), errc::corrupt_batch);
}

TEST(RecordBatch, ValidateBadCrcIsCrcMismatch) {
  buffer b = test::make_batch(3);
  b.back() ^= 0x01;
  EXPECT_EQ(validate_batch(b, limits()).error(), errc::crc_mismatch);
}

TEST(RecordBatch, ValidateCountHigherThanRecordsIsCountMismatch) {
  buffer b = test::make_batch(3);
  set_i32(b, bl::record_count, 4);
  set_i32(b, bl::last_offset_delta, 3);
  fix_crc(b);
  EXPECT_EQ(validate_batch(b, limits()).error(), errc::record_count_mismatch);
}

TEST(RecordBatch, ValidateCountLowerThanRecordsIsCountMismatch) {
  buffer b = test::make_batch(3);
  set_i32(b, bl::record_count, 2);
  set_i32(b, bl::last_offset_delta, 1);
  fix_crc(b);
  EXPECT_EQ(validate_batch(b, limits()).error(), errc::record_count_mismatch);
}

TEST(RecordBatch, ValidateNegativeCountIsCountMismatch) {
  buffer b = test::make_batch(3);
  set_i32(b, bl::record_count, -1);
  fix_crc(b);
  EXPECT_EQ(validate_batch(b, limits()).error(), errc::record_count_mismatch);
}

TEST(RecordBatch, ValidateLastOffsetDeltaMismatchIsInvalidRecord) {
  buffer b = test::make_batch(3);
  set_i32(b, bl::last_offset_delta, 5);
  fix_crc(b);
  EXPECT_EQ(validate_batch(b, limits()).error(), errc::invalid_record);
}

TEST(RecordBatch, ValidateOffsetDeltaGapIsInvalidRecord) {
  buffer b = test::make_batch(2, 10);
  // The second record's offsetDelta (zig-zag 1 = 0x02) sits at a known place: record 0 is
  // length(1) + body; in record 1: length, attributes, timestampDelta, offsetDelta.
  size_t rec1 = bl::header_size + 1 + size_t(b[bl::header_size] >> 1);
  ASSERT_EQ(b[rec1 + 3], 0x02);
  b[rec1 + 3] = 0x04;  // offsetDelta 2
  fix_crc(b);
  EXPECT_EQ(validate_batch(b, limits()).error(), errc::invalid_record);
}

TEST(RecordBatch, ValidateEmptyBatchIsInvalidRecord) {
  buffer b = build_batch({});
  EXPECT_EQ(validate_batch(b, limits()).error(), errc::invalid_record);
}

TEST(RecordBatch, ValidateRequireKeysRefusesAKeylessRecordAsNullKey) {
  std::vector<record> recs(3);
  for (auto& r : recs) r.value = bytes_of("v");
  recs[0].key = bytes_of("a");
  recs[2].key = bytes_of("c");
  for (auto codec : {compression::none, compression::zstd}) {
    build_options o;
    o.compression = codec;
    buffer b = build_batch(recs, o);
    batch_limits l = limits();
    EXPECT_TRUE(validate_batch(b, l));  // keys are optional by default
    l.require_keys = true;
    EXPECT_EQ(validate_batch(b, l).error(), errc::null_key);
    recs[1].key = bytes_of("b");
    EXPECT_TRUE(validate_batch(build_batch(recs, o), l));
    recs[1].key.reset();
  }
  // A tombstone has a key: compacted topics take it.
  record tomb;
  tomb.key = bytes_of("k");
  batch_limits l = limits();
  l.require_keys = true;
  EXPECT_TRUE(validate_batch(build_batch({tomb}), l));
}

TEST(RecordBatch, RecordViewRawIsTheWholeEncodedRecord) {
  std::vector<record> recs = sample_records();
  buffer b = build_batch(recs);
  size_t total = 0;
  ASSERT_TRUE(for_each_record(b, 1 << 20, [&](const record_view& rv) {
    // The raw bytes start with their own length varint and hold exactly that many more.
    bytes::byte_reader r(rv.raw);
    int32_t len = r.varint();
    EXPECT_EQ(size_t(len), r.remaining());
    total += rv.raw.size();
    return true;
  }));
  EXPECT_EQ(total, b.size() - bl::header_size);
}

TEST(RecordBatch, ValidateTruncatedIsCorrupt) {
  buffer b = test::make_batch(3);
  EXPECT_EQ(validate_batch(bytes::byte_view(b).first(b.size() - 1), limits()).error(),
            errc::corrupt_batch);
  EXPECT_EQ(validate_batch(bytes::byte_view(b).first(30), limits()).error(), errc::corrupt_batch);
}

TEST(RecordBatch, ValidateRecordCutShortWithConsistentBatchLengthIsCorrupt) {
  buffer b = test::make_batch(3);
  b.resize(b.size() - 5);
  set_i32(b, bl::batch_length, int32_t(b.size() - bl::log_overhead));
  fix_crc(b);
  EXPECT_EQ(validate_batch(b, limits()).error(), errc::corrupt_batch);
}

TEST(RecordBatch, ValidateOverLimitIsTooLarge) {
  buffer b = test::make_batch(10, 1000);
  batch_limits l{b.size() - 1, 8 << 20};
  EXPECT_EQ(validate_batch(b, l).error(), errc::batch_too_large);
}

TEST(RecordBatch, ValidateCompressionBombIsTooLarge) {
  record r;
  r.value = buffer(16 << 20, 0);  // 16 MiB of zeros: compresses to a few KiB
  r.timestamp = 1;
  build_options o;
  o.compression = compression::zstd;
  buffer b = build_batch({r}, o);
  ASSERT_LT(b.size(), 64u << 10);
  EXPECT_EQ(validate_batch(b, batch_limits{1 << 20, 1 << 20}).error(), errc::batch_too_large);
  EXPECT_EQ(decode_records(b, 1 << 20).error(), errc::batch_too_large);
}

TEST(RecordBatch, ValidateGarbageCompressedDataIsCompressionError) {
  buffer b = test::make_batch(5, 100, 1000, compression::gzip);
  for (size_t i = bl::header_size + 12; i < b.size(); ++i) b[i] ^= 0x5a;
  fix_crc(b);
  EXPECT_EQ(validate_batch(b, limits()).error(), errc::compression_error);
}

TEST(RecordBatch, ValidateUnknownCodecIsUnsupportedCompression) {
  buffer b = test::make_batch(1);
  bytes::store_be<int16_t>(b.data() + bl::attributes, 5);
  fix_crc(b);
  EXPECT_EQ(validate_batch(b, limits()).error(), errc::unsupported_compression);
}

TEST(RecordBatch, ValidateMagicOneIsUnsupportedMagic) {
  buffer b = test::make_batch(1);
  b[bl::magic] = 1;
  EXPECT_EQ(validate_batch(b, limits()).error(), errc::unsupported_magic);
}

TEST(RecordBatch, ValidateHugeHeaderCountIsCorrupt) {
  // One record whose header count claims more headers than bytes remain.
  record r;
  r.value = bytes_of("v");
  r.headers.emplace_back("k", bytes_of("v"));
  r.timestamp = 5;
  buffer b = build_batch({r});
  // Layout of the record: length, attrs, tsDelta, offsetDelta, keyLen(-1), valueLen(1), 'v',
  // headerCount(1 = 0x02).
  size_t count_at = bl::header_size + 1 + 1 + 1 + 1 + 1 + 1 + 1;
  ASSERT_EQ(b[count_at], 0x02);
  b[count_at] = 0x7e;  // 63 headers
  fix_crc(b);
  EXPECT_EQ(validate_batch(b, limits()).error(), errc::corrupt_batch);
}

TEST(RecordBatch, ValidateTimestampOutsideSkewIsInvalidTimestamp) {
  buffer b = test::make_batch(2, 10, /*ts=*/1000);
  batch_limits l = limits();
  l.now_ms = 1000 + 3600'000;
  l.max_timestamp_skew_ms = 60'000;
  EXPECT_EQ(validate_batch(b, l).error(), errc::invalid_timestamp);
  l.max_timestamp_skew_ms = 3600'000;
  EXPECT_TRUE(validate_batch(b, l));
}

TEST(RecordBatch, SplitBatchesWholeBatches) {
  buffer a = test::make_batch(2), b = test::make_batch(3, 50);
  buffer both = a;
  both.insert(both.end(), b.begin(), b.end());
  auto parts = split_batches(both);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].size(), a.size());
  EXPECT_EQ((*parts)[1].size(), b.size());
  EXPECT_TRUE(split_batches({})->empty());
}

TEST(RecordBatch, SplitBatchesTrailingPartialIsCorrupt) {
  buffer a = test::make_batch(2);
  buffer both = a;
  both.insert(both.end(), a.begin(), a.begin() + 40);
  EXPECT_EQ(split_batches(both).error(), errc::corrupt_batch);
  EXPECT_EQ(split_batches(bytes::byte_view(a).first(10)).error(), errc::corrupt_batch);
}

TEST(RecordBatch, SplitBatchesShortLengthIsCorrupt) {
  buffer a = test::make_batch(2);
  set_i32(a, bl::batch_length, 48);
  EXPECT_EQ(split_batches(a).error(), errc::corrupt_batch);
}

TEST(RecordBatch, SplitBatchesOldMagicIsUnsupported) {
  buffer a = test::make_batch(2);
  a[bl::magic] = 1;
  EXPECT_EQ(split_batches(a).error(), errc::unsupported_magic);
}

TEST(RecordBatch, AssignOffsetsCreateTimeKeepsCrcUntouched) {
  buffer b = test::make_batch(4);
  uint32_t crc = parse_batch_header(b)->crc;
  assign_offsets(b, 1000, 7, std::nullopt);
  auto h = parse_batch_header(b);
  EXPECT_EQ(h->base_offset, 1000);
  EXPECT_EQ(h->partition_leader_epoch, 7);
  EXPECT_EQ(h->crc, crc);
  EXPECT_TRUE(validate_batch(b, limits()));
  EXPECT_EQ(decode_records(b, 1 << 20)->back().offset, 1003);
}

TEST(RecordBatch, AssignOffsetsLogAppendTimeRecomputesCrc) {
  buffer b = test::make_batch(4, 10, /*ts=*/1000);
  assign_offsets(b, 5, 0, 99'999);
  auto h = parse_batch_header(b);
  EXPECT_EQ(h->timestamp_type(), timestamp_type::log_append_time);
  EXPECT_EQ(h->max_timestamp, 99'999);
  EXPECT_TRUE(validate_batch(b, limits()));
  auto recs = decode_records(b, 1 << 20);
  ASSERT_TRUE(recs);
  for (auto& r : *recs) EXPECT_EQ(r.timestamp, 99'999);
  // Same values again: nothing covered changes.
  uint32_t crc = h->crc;
  assign_offsets(b, 6, 1, 99'999);
  EXPECT_EQ(parse_batch_header(b)->crc, crc);
}

TEST(RecordBatch, AssignOffsetsShortSpanIsIgnored) {
  buffer small(20, 0);
  assign_offsets(small, 1, 1, 1);
  EXPECT_EQ(small, buffer(20, 0));
}

TEST(RecordBatch, ForEachRecordStopsEarly) {
  buffer b = test::make_batch(10);
  int seen = 0;
  auto r = for_each_record(b, 1 << 20, [&](const record_view& rv) {
    ++seen;
    return rv.offset < 3;
  });
  EXPECT_TRUE(r);
  EXPECT_EQ(seen, 4);
}

// A small in-process fuzz pass: every single-byte corruption and truncation of valid batches
// (with the CRC made right again, to get past it) must give a value or an error, never a
// crash; ASan/UBSan builds check the rest.
TEST(RecordBatch, MutatedBatchesNeverCrash) {
  std::mt19937 rng(1234);
  for (compression codec : {compression::none, compression::gzip, compression::zstd}) {
    buffer good = build_batch(sample_records(), {.compression = codec});
    for (size_t i = 0; i < good.size(); ++i) {
      buffer b = good;
      b[i] ^= uint8_t(1 + rng() % 255);
      if (i >= bl::attributes) fix_crc(b);
      (void)validate_batch(b, limits());
      (void)decode_records(b, 1 << 20);
      (void)split_batches(b);
    }
    for (size_t n = 0; n < good.size(); n += 7) {
      bytes::byte_view cut = bytes::byte_view(good).first(n);
      (void)validate_batch(cut, limits());
      (void)decode_records(cut, 1 << 20);
      (void)split_batches(cut);
    }
  }
  for (int i = 0; i < 2000; ++i) {
    buffer b(61 + rng() % 200);
    for (auto& c : b) c = uint8_t(rng());
    b[bl::magic] = 2;
    set_i32(b, bl::batch_length, int32_t(b.size() - bl::log_overhead));
    fix_crc(b);
    (void)validate_batch(b, limits());
    (void)decode_records(b, 1 << 20);
  }
}

}  // namespace
}  // namespace tern::storage
