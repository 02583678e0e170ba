// The idempotent-producer table: sequence and epoch rules, duplicates, multi-batch requests,
// rebuild from the log, expiry, and its snapshot files (round trip, corruption, faults).

#include "broker/producer_state.h"

#include <gtest/gtest.h>

#include <limits>

#include <fmt/format.h>

#include "bytes/crc32c.h"
#include "storage/errc.h"
#include "storage/tests/test_util.h"

namespace tern::broker {

// Readable failures (found by argument-dependent lookup, so outside the anonymous namespace).
void PrintTo(check_outcome o, std::ostream* os) {
  static constexpr const char* names[] = {"append",
                                          "duplicate",
                                          "out_of_order_sequence",
                                          "invalid_producer_epoch",
                                          "unknown_producer_id",
                                          "invalid_record"};
  *os << names[static_cast<int>(o)];
}

namespace {

constexpr int32_t kIntMax = std::numeric_limits<int32_t>::max();
constexpr int64_t kNow = 1'700'000'000'000;

producer_batch pb(int64_t id, int16_t epoch, int32_t first_seq, int32_t count = 1) {
  return {producer_id{id}, producer_epoch{epoch}, first_seq,
          increment_sequence(first_seq, count - 1)};
}

// A table plus a pretend log: append() checks a request, and if it is accepted "writes" each
// batch at the next offsets and records it, the way the produce path will.
class ProducerStateTest : public ::testing::Test {
 protected:
  check_result append(std::vector<producer_batch> batches, int count = 1) {
    auto c = _table.check(batches);
    if (c.outcome != check_outcome::append) return c;
    for (auto& b : batches) {
      _table.record(b, offset{_end}, offset{_end + count - 1}, _end * 10, kNow);
      _end += count;
    }
    return c;
  }
  check_outcome append_one(producer_batch b, int count = 1) { return append({b}, count).outcome; }

  producer_state_table _table;
  int64_t _end = 0;  // the pretend log's end offset
};

TEST_F(ProducerStateTest, InOrderBatchesAreAppendedAndRecorded) {
  EXPECT_EQ(append_one(pb(7, 0, 0, 5), 5), check_outcome::append);
  EXPECT_EQ(append_one(pb(7, 0, 5, 3), 3), check_outcome::append);
  const producer_entry* e = _table.find(producer_id{7});
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->epoch, producer_epoch{0});
  ASSERT_EQ(e->batches.size(), 2u);
  EXPECT_EQ(e->last(), (batch_metadata{5, 7, offset{5}, offset{7}, 50}));
}

TEST_F(ProducerStateTest, BatchWithoutProducerIdIsNeitherCheckedNorRecorded) {
  producer_batch plain;  // producerId -1, epoch -1, sequence -1
  EXPECT_EQ(append_one(plain), check_outcome::append);
  EXPECT_EQ(append_one(plain), check_outcome::append);
  EXPECT_EQ(_table.size(), 0u);
}

TEST_F(ProducerStateTest, DuplicateOfEachOfTheLastFiveBatchesReturnsItsOriginalOffsets) {
  for (int i = 0; i < 7; ++i) ASSERT_EQ(append_one(pb(1, 0, i * 2, 2), 2), check_outcome::append);
  // Batches 2..6 (sequences 4..13, offsets 4..13) are kept; 0 and 1 are forgotten.
  for (int i = 2; i < 7; ++i) {
    auto c = _table.check(pb(1, 0, i * 2, 2));
    ASSERT_EQ(c.outcome, check_outcome::duplicate) << "batch " << i;
    EXPECT_EQ(c.original.first_offset, offset{i * 2});
    EXPECT_EQ(c.original.last_offset, offset{i * 2 + 1});
    EXPECT_EQ(c.original.max_timestamp, i * 2 * 10);
  }
  EXPECT_EQ(_table.find(producer_id{1})->batches.size(), kProducerBatchesKept);
}

// Current Kafka brokers answer a retry they no longer remember with
// OUT_OF_ORDER_SEQUENCE_NUMBER (ProducerAppendInfo.checkSequence), never
// DUPLICATE_SEQUENCE_NUMBER (46), so Tern does too.
TEST_F(ProducerStateTest, RetryOlderThanTheLastFiveBatchesIsOutOfOrder) {
  for (int i = 0; i < 6; ++i) ASSERT_EQ(append_one(pb(1, 0, i)), check_outcome::append);
  EXPECT_EQ(_table.check(pb(1, 0, 0)).outcome, check_outcome::out_of_order_sequence);
  EXPECT_EQ(_table.check(pb(1, 0, 1)).outcome, check_outcome::duplicate);
}

TEST_F(ProducerStateTest, BatchOverlappingAKeptBatchIsOutOfOrderNotDuplicate) {
  ASSERT_EQ(append_one(pb(1, 0, 0, 5), 5), check_outcome::append);
  EXPECT_EQ(_table.check(pb(1, 0, 0, 3)).outcome, check_outcome::out_of_order_sequence);
  EXPECT_EQ(_table.check(pb(1, 0, 2, 3)).outcome, check_outcome::out_of_order_sequence);
}

TEST_F(ProducerStateTest, SequenceGapIsOutOfOrder) {
  ASSERT_EQ(append_one(pb(1, 0, 0, 5), 5), check_outcome::append);
  auto c = _table.check(pb(1, 0, 6));
  EXPECT_EQ(c.outcome, check_outcome::out_of_order_sequence);
  EXPECT_EQ(c.batch_index, 0u);
  EXPECT_EQ(_table.check(pb(1, 0, 5)).outcome, check_outcome::append);
}

TEST_F(ProducerStateTest, NewEpochStartsAtSequenceZeroAndForgetsTheOldBatches) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(append_one(pb(1, 0, i)), check_outcome::append);
  EXPECT_EQ(_table.check(pb(1, 1, 3)).outcome, check_outcome::out_of_order_sequence);
  EXPECT_EQ(append_one(pb(1, 1, 0)), check_outcome::append);
  const producer_entry* e = _table.find(producer_id{1});
  EXPECT_EQ(e->epoch, producer_epoch{1});
  EXPECT_EQ(e->batches.size(), 1u);
  EXPECT_EQ(_table.check(pb(1, 1, 0)).outcome, check_outcome::duplicate);
  EXPECT_EQ(_table.check(pb(1, 1, 1)).outcome, check_outcome::append);
  EXPECT_EQ(_table.check(pb(1, 5, 0)).outcome, check_outcome::append);  // any higher epoch
}

TEST_F(ProducerStateTest, OlderEpochIsFencedEvenForARetryOfItsOwnBatch) {
  ASSERT_EQ(append_one(pb(1, 0, 0)), check_outcome::append);
  ASSERT_EQ(append_one(pb(1, 1, 0)), check_outcome::append);
  EXPECT_EQ(_table.check(pb(1, 0, 1)).outcome, check_outcome::invalid_producer_epoch);
  EXPECT_EQ(_table.check(pb(1, 0, 0)).outcome, check_outcome::invalid_producer_epoch);
}

// KIP-360 (Kafka >= 2.5): the state of a producer can be lost to retention, DeleteRecords or
// expiry; the broker accepts its next batch at whatever sequence it has reached.
TEST_F(ProducerStateTest, UnknownProducerIsAcceptedAtAnySequence) {
  EXPECT_EQ(append_one(pb(9, 3, 1234)), check_outcome::append);
  EXPECT_EQ(_table.check(pb(9, 3, 1236)).outcome, check_outcome::out_of_order_sequence);
  EXPECT_EQ(_table.check(pb(9, 3, 1235)).outcome, check_outcome::append);
}

TEST_F(ProducerStateTest, UnknownProducerAtNonZeroSequenceIsRejectedWhenStrict) {
  producer_state_table strict({.strict_unknown_producer = true});
  EXPECT_EQ(strict.check(pb(9, 0, 5)).outcome, check_outcome::unknown_producer_id);
  EXPECT_EQ(strict.check(pb(9, 0, 0)).outcome, check_outcome::append);
  strict.record(pb(9, 0, 0), offset{0}, offset{0}, 0, kNow);
  EXPECT_EQ(strict.check(pb(9, 0, 5)).outcome, check_outcome::out_of_order_sequence);
}

TEST_F(ProducerStateTest, NegativeSequenceOrEpochWithAProducerIdIsInvalidRecord) {
  EXPECT_EQ(_table.check(producer_batch{producer_id{1}, producer_epoch{0}, -1, -1}).outcome,
            check_outcome::invalid_record);
  EXPECT_EQ(_table.check(pb(1, -1, 0)).outcome, check_outcome::invalid_record);
  storage::batch_header h;
  h.producer_id = 1;
  h.producer_epoch = 0;
  h.base_sequence = -1;
  EXPECT_EQ(_table.check(producer_batch::of(h)).outcome, check_outcome::invalid_record);
}

TEST_F(ProducerStateTest, SequenceWrapsFromIntMaxToZero) {
  EXPECT_EQ(increment_sequence(kIntMax, 1), 0);
  EXPECT_EQ(increment_sequence(kIntMax - 1, 2), 0);
  EXPECT_EQ(increment_sequence(kIntMax - 1, 5), 3);
  EXPECT_EQ(increment_sequence(5, 5), 10);

  ASSERT_EQ(append_one(pb(1, 0, kIntMax - 4, 5), 5), check_outcome::append);  // ends at max
  EXPECT_EQ(_table.check(pb(1, 0, kIntMax)).outcome, check_outcome::out_of_order_sequence);
  ASSERT_EQ(append_one(pb(1, 0, 0)), check_outcome::append);
  EXPECT_EQ(_table.find(producer_id{1})->last().last_seq, 0);
}

TEST_F(ProducerStateTest, BatchSpanningTheWrapContinuesAndIsFoundAsDuplicate) {
  ASSERT_EQ(append_one(pb(1, 0, kIntMax - 9, 8), 8), check_outcome::append);  // ..max-2
  const producer_batch spanning = pb(1, 0, kIntMax - 1, 4);                   // max-1, max, 0, 1
  EXPECT_EQ(spanning.last_seq, 1);
  ASSERT_EQ(append_one(spanning, 4), check_outcome::append);
  EXPECT_EQ(_table.check(pb(1, 0, 2)).outcome, check_outcome::append);
  auto c = _table.check(spanning);
  EXPECT_EQ(c.outcome, check_outcome::duplicate);
  EXPECT_EQ(c.original.first_offset, offset{8});
  EXPECT_EQ(c.original.last_offset, offset{11});
}

TEST_F(ProducerStateTest, LaterBatchOfARequestIsCheckedAgainstTheEarlierOnes) {
  ASSERT_EQ(append({pb(1, 0, 0, 2), pb(1, 0, 2, 3), pb(1, 0, 5)}, 1).outcome,
            check_outcome::append);
  EXPECT_EQ(_table.find(producer_id{1})->last().last_seq, 5);
  // Each batch alone would be fine against the table; together the second leaves a gap.
  auto c = _table.check(std::vector{pb(1, 0, 6), pb(1, 0, 8)});
  EXPECT_EQ(c.outcome, check_outcome::out_of_order_sequence);
  EXPECT_EQ(c.batch_index, 1u);
  // The same batch twice in one request: the second is not in sequence after the first.
  EXPECT_EQ(_table.check(std::vector{pb(1, 0, 6), pb(1, 0, 6)}).outcome,
            check_outcome::out_of_order_sequence);
}

TEST_F(ProducerStateTest, FailedRequestCheckRecordsNothing) {
  ASSERT_EQ(append_one(pb(1, 0, 0)), check_outcome::append);
  const auto before = _table.entries();
  EXPECT_EQ(append({pb(1, 0, 1), pb(2, 0, 0), pb(1, 0, 3)}).outcome,
            check_outcome::out_of_order_sequence);
  EXPECT_EQ(_table.entries(), before);
  EXPECT_EQ(_table.find(producer_id{2}), nullptr);
}

TEST_F(ProducerStateTest, EpochBumpInsideARequestFencesItsLaterOldEpochBatches) {
  ASSERT_EQ(append_one(pb(1, 0, 0)), check_outcome::append);
  EXPECT_EQ(_table.check(std::vector{pb(1, 0, 1), pb(1, 1, 0), pb(1, 1, 1)}).outcome,
            check_outcome::append);
  auto c = _table.check(std::vector{pb(1, 1, 0), pb(1, 0, 1)});
  EXPECT_EQ(c.outcome, check_outcome::invalid_producer_epoch);
  EXPECT_EQ(c.batch_index, 1u);
}

TEST_F(ProducerStateTest, RequestOfTwoProducersTracksEachSeparately) {
  ASSERT_EQ(append_one(pb(1, 0, 0)), check_outcome::append);
  EXPECT_EQ(append({pb(1, 0, 1), pb(2, 0, 0), pb(1, 0, 2), pb(2, 0, 1)}).outcome,
            check_outcome::append);
  EXPECT_EQ(_table.find(producer_id{1})->last().last_seq, 2);
  EXPECT_EQ(_table.find(producer_id{2})->last().last_seq, 1);
}

TEST_F(ProducerStateTest, RequestOfOnlyDuplicatesIsADuplicateOfTheFirst) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(append_one(pb(1, 0, i)), check_outcome::append);
  auto c = _table.check(std::vector{pb(1, 0, 1), pb(1, 0, 2)});
  EXPECT_EQ(c.outcome, check_outcome::duplicate);
  EXPECT_EQ(c.original.first_offset, offset{1});
}

// The write of the second batch of a request failed after the first was appended; the client
// retries the whole request. Answering "duplicate" would drop its last two batches.
TEST_F(ProducerStateTest, RetryOfAPartlyAppendedRequestIsOutOfOrderNotDuplicate) {
  const std::vector request{pb(1, 0, 0), pb(1, 0, 1), pb(1, 0, 2)};
  ASSERT_EQ(_table.check(request).outcome, check_outcome::append);
  _table.record(request[0], offset{0}, offset{0}, 0, kNow);  // then log.append fails
  auto c = _table.check(request);
  EXPECT_EQ(c.outcome, check_outcome::out_of_order_sequence);
  EXPECT_EQ(c.batch_index, 1u);
  // And a request whose new batch comes first, then a duplicate.
  EXPECT_EQ(_table.check(std::vector{pb(1, 0, 1), pb(1, 0, 0)}).outcome,
            check_outcome::out_of_order_sequence);
  EXPECT_EQ(_table.check(std::vector{pb(1, 0, 1), pb(1, 0, 2)}).outcome, check_outcome::append);
}

TEST_F(ProducerStateTest, ProducersWhollyBelowTheLogStartAreRemoved) {
  ASSERT_EQ(append_one(pb(1, 0, 0, 10), 10), check_outcome::append);  // 0..9
  ASSERT_EQ(append_one(pb(2, 0, 0, 10), 10), check_outcome::append);  // 10..19
  EXPECT_EQ(_table.remove_before(offset{10}), 1u);
  EXPECT_EQ(_table.find(producer_id{1}), nullptr);
  EXPECT_EQ(_table.remove_before(offset{19}), 0u);  // a batch reaching the start is kept
  EXPECT_NE(_table.find(producer_id{2}), nullptr);
  EXPECT_EQ(_table.remove_before(offset{20}), 1u);
}

TEST_F(ProducerStateTest, IdleProducerExpiresAfterTheExpirationTime) {
  producer_state_table t({.producer_id_expiration_ms = 1000});
  t.record(pb(1, 0, 0), offset{0}, offset{0}, 0, kNow);
  t.record(pb(2, 0, 0), offset{1}, offset{1}, 0, kNow);
  t.record(pb(2, 0, 1), offset{2}, offset{2}, 0, kNow + 500);  // activity renews
  EXPECT_EQ(t.expire(kNow + 999), 0u);
  EXPECT_EQ(t.expire(kNow + 1000), 1u);
  EXPECT_EQ(t.find(producer_id{1}), nullptr);
  EXPECT_EQ(t.expire(kNow + 1499), 0u);
  EXPECT_EQ(t.expire(kNow + 1500), 1u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(producer_state_config{}.producer_id_expiration_ms, 86'400'000);
}

// --- Rebuild from the log --------------------------------------------------------------------

storage::batch_header header(int64_t id, int16_t epoch, int32_t seq, int32_t count,
                             int64_t base_offset, int64_t max_ts = 1000) {
  storage::batch_header h;
  h.base_offset = base_offset;
  h.last_offset_delta = count - 1;
  h.record_count = count;
  h.producer_id = id;
  h.producer_epoch = epoch;
  h.base_sequence = seq;
  h.max_timestamp = max_ts;
  return h;
}

TEST_F(ProducerStateTest, RebuildSkipsControlAndAlreadyCoveredBatches) {
  producer_state_table t;
  t.rebuild(header(1, 0, 0, 5, 0), kNow);
  auto control = header(1, 0, 5, 1, 5);
  control.attributes = storage::kAttrControl;
  t.rebuild(control, kNow);
  t.rebuild(header(-1, -1, -1, 3, 6), kNow);
  t.rebuild(header(1, 0, 0, 5, 0), kNow);  // read again: an overlapping scan
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t.find(producer_id{1})->batches.size(), 1u);
  EXPECT_EQ(t.find(producer_id{1})->last().last_offset, offset{4});
}

// A real log: produce through check/record, reopen, and rebuild from the batch headers, from
// the start and from a snapshot taken midway. Both equal the table built live.
class ProducerStateLogTest : public storage::test::log_fixture {
 protected:
  bytes::buffer make(int64_t id, int16_t epoch, int32_t seq, int n) {
    std::vector<storage::record> recs(static_cast<size_t>(n), storage::record{});
    for (int i = 0; i < n; ++i) recs[size_t(i)].timestamp = 5000 + i;
    return storage::build_batch(recs,
                                {.producer_id = id, .producer_epoch = epoch, .base_sequence = seq});
  }
  void produce(storage::log& l, int64_t id, int16_t epoch, int32_t seq, int n) {
    auto b = make(id, epoch, seq, n);
    auto info = storage::validate_batch(b, {});
    ASSERT_TRUE(info);
    const auto p = producer_batch::of(info->header);
    ASSERT_EQ(_live.check(p).outcome, check_outcome::append);
    auto r = l.append(b);
    ASSERT_TRUE(r);
    _live.record(p, offset{r->base_offset}, offset{r->last_offset}, info->max_timestamp, kNow);
  }
  // What the integrator does at partition open, after loading a snapshot (or not).
  producer_state_table rebuild_from(storage::log& l, int64_t from, producer_state_table t) {
    const bytes::buffer data = storage::test::flatten(read_all(l, from));
    auto batches = storage::split_batches(data);
    EXPECT_TRUE(batches);
    for (auto b : *batches) t.rebuild(*storage::parse_batch_header(b), kNow);
    return t;
  }

  producer_state_table _live;
};

TEST_F(ProducerStateLogTest, RebuildFromTheLogEqualsTheLiveTable) {
  std::optional<producer_snapshot> midway;
  {
    auto l = open_log();
    for (int32_t s = 0; s < 14; ++s) produce(*l, 1, 0, s * 3, 3);
    produce(*l, 2, 4, 0, 2);
    midway = encode_producer_snapshot(_live, offset{l->log_end_offset()});
    produce(*l, 1, 1, 0, 1);  // epoch bump
    produce(*l, 2, 4, 2, 2);
    produce(*l, 3, 0, 77, 1);  // unknown producer, non-zero sequence
    ASSERT_TRUE(l->close());
  }
  auto l = open_log();
  EXPECT_EQ(rebuild_from(*l, 0, producer_state_table()).entries(), _live.entries());

  auto loaded = decode_producer_snapshot(midway->bytes, midway->at, {});
  ASSERT_TRUE(loaded);
  EXPECT_NE(loaded->entries(), _live.entries());
  EXPECT_EQ(rebuild_from(*l, midway->at(), std::move(*loaded)).entries(), _live.entries());
}

// --- Snapshot files --------------------------------------------------------------------------

class ProducerSnapshotTest : public ::testing::Test {
 protected:
  producer_state_table table_with(int producers, int64_t first_offset = 0) {
    producer_state_table t;
    int64_t o = first_offset;
    for (int p = 0; p < producers; ++p)
      for (int i = 0; i < p + 3; ++i, o += 2)  // producer p: p+3 batches of 2 records
        t.record(pb(100 + p, int16_t(p), i * 2, 2), offset{o}, offset{o + 1}, o * 7, kNow + p);
    return t;
  }
  result<void> write(const producer_state_table& t, int64_t at) {
    return write_producer_snapshot(_fs, dir(), encode_producer_snapshot(t, offset{at}));
  }
  std::optional<loaded_producer_state> load(int64_t log_end) {
    auto r = load_producer_snapshot(_fs, dir(), offset{log_end}, {});
    EXPECT_TRUE(r) << r.error().message();
    return r ? std::move(*r) : std::nullopt;
  }
  std::filesystem::path dir() const { return _dir.path(); }
  std::filesystem::path file(int64_t at) const { return producer_snapshot_file(dir(), offset{at}); }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::directory_iterator(dir()))
      out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  // Bytes with a fixed-up CRC, to get past the checksum to the checks behind it.
  static void reseal(bytes::buffer& b) {
    bytes::store_be<uint32_t>(b.data() + 4, bytes::crc32c(b.data() + 8, b.size() - 8));
  }

  storage::test::temp_dir _dir;
  storage::posix_file_system _real;
  storage::faulty_file_system _fs{_real};
};

TEST_F(ProducerSnapshotTest, RoundTripRestoresEveryProducerAndBatch) {
  const auto t = table_with(4);  // the last producers keep 5 of their 6 batches
  auto s = encode_producer_snapshot(t, offset{1000});
  EXPECT_EQ(s.bytes.size(), kProducerSnapshotHeaderSize + 4 * kProducerSnapshotEntrySize +
                                (3 + 4 + 5 + 5) * kProducerSnapshotBatchSize);
  auto back = decode_producer_snapshot(s.bytes, offset{1000}, {});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->entries(), t.entries());
  EXPECT_EQ(encode_producer_snapshot(*back, offset{1000}).bytes, s.bytes);  // reproducible

  ASSERT_TRUE(write(t, 1000));
  EXPECT_EQ(names(), std::vector<std::string>{"00000000000000001000.snapshot"});
  auto loaded = load(1000);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->at, offset{1000});
  EXPECT_EQ(loaded->table.entries(), t.entries());
}

// The worked example of docs/formats/producer-state.md, byte for byte.
TEST_F(ProducerSnapshotTest, EncodingMatchesTheFormatDocument) {
  producer_state_table t;
  t.record(pb(1000, 2, 10, 3), offset{40}, offset{42}, 5000, 1'700'000'000'000);
  auto s = encode_producer_snapshot(t, offset{43});
  std::string hex;
  for (uint8_t b : s.bytes) hex += fmt::format("{:02x}", b);
  EXPECT_EQ(hex,
            "54524e50f569fa3200010000000000000000002b00000001"
            "00000000000003e800020000018bcfe5680001"
            "0000000a0000000c0000000000000028000000000000002a0000000000001388");
  EXPECT_EQ(producer_snapshot_file("d", offset{43}), "d/00000000000000000043.snapshot");
}

TEST_F(ProducerSnapshotTest, EmptyTableRoundTrips) {
  auto s = encode_producer_snapshot(producer_state_table(), offset{0});
  EXPECT_EQ(s.bytes.size(), kProducerSnapshotHeaderSize);
  auto back = decode_producer_snapshot(s.bytes, offset{0}, {});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->size(), 0u);
}

TEST_F(ProducerSnapshotTest, NoSnapshotLoadsAsNothing) {
  EXPECT_FALSE(load(100));
  auto missing = load_producer_snapshot(_fs, dir() / "nope", offset{0}, {});
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_F(ProducerSnapshotTest, OnlyTheLastTwoSnapshotsAreKept) {
  for (int64_t at : {100, 300, 200, 400}) ASSERT_TRUE(write(table_with(1), at));
  EXPECT_EQ(names(), (std::vector<std::string>{"00000000000000000300.snapshot",
                                               "00000000000000000400.snapshot"}));
}

TEST_F(ProducerSnapshotTest, NewestSnapshotAtOrBelowTheLogEndIsLoaded) {
  ASSERT_TRUE(write(table_with(1), 100));
  ASSERT_TRUE(write(table_with(2), 200));
  auto l = load(250);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->at, offset{200});
  EXPECT_EQ(l->table.size(), 2u);
}

// A snapshot taken at offset 200 when a crash then cut the log back to 150: offsets 150..199
// will be reused by other batches, so the snapshot must go before anything is appended.
TEST_F(ProducerSnapshotTest, SnapshotBeyondTheLogEndIsRemovedDurably) {
  ASSERT_TRUE(write(table_with(1), 100));
  ASSERT_TRUE(write(table_with(2), 200));
  const uint64_t syncs = _fs.syncs();
  auto l = load(150);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->at, offset{100});
  EXPECT_EQ(l->table.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(file(200)));
  EXPECT_EQ(_fs.syncs(), syncs + 1);  // the directory, after the removal
}

TEST_F(ProducerSnapshotTest, CorruptNewestSnapshotFallsBackToTheOlderOne) {
  ASSERT_TRUE(write(table_with(1), 100));
  ASSERT_TRUE(write(table_with(2), 200));
  storage::test::flip_byte(file(200), 40);
  auto l = load(200);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->at, offset{100});
  EXPECT_FALSE(std::filesystem::exists(file(200)));  // removed, with a warning
}

TEST_F(ProducerSnapshotTest, TruncatedSnapshotFallsBackToTheOlderOne) {
  ASSERT_TRUE(write(table_with(1), 100));
  ASSERT_TRUE(write(table_with(3), 200));
  std::filesystem::resize_file(file(200), storage::test::file_size(file(200)) - 5);
  auto l = load(1000);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->at, offset{100});
}

TEST_F(ProducerSnapshotTest, SnapshotShorterThanItsHeaderIsIgnored) {
  storage::test::write_raw(file(50), bytes::as_bytes("TRNP"));
  EXPECT_FALSE(load(100));
}

TEST_F(ProducerSnapshotTest, SnapshotRenamedToAnotherOffsetIsIgnored) {
  ASSERT_TRUE(write(table_with(1), 100));
  std::filesystem::rename(file(100), file(90));
  EXPECT_FALSE(load(100));
}

TEST_F(ProducerSnapshotTest, UnknownVersionIsRejected) {
  auto s = encode_producer_snapshot(table_with(1), offset{100});
  bytes::store_be<uint16_t>(s.bytes.data() + 8, 2);
  reseal(s.bytes);
  std::string why;
  EXPECT_FALSE(decode_producer_snapshot(s.bytes, offset{100}, {}, &why));
  EXPECT_EQ(why, "unknown version 2");
}

TEST_F(ProducerSnapshotTest, HugeProducerCountIsRejectedBeforeAllocating) {
  auto s = encode_producer_snapshot(table_with(1), offset{100});
  bytes::store_be<uint32_t>(s.bytes.data() + 20, 0xffffffffu);
  reseal(s.bytes);
  std::string why;
  EXPECT_FALSE(decode_producer_snapshot(s.bytes, offset{100}, {}, &why));
  EXPECT_NE(why.find("cannot fit"), std::string::npos) << why;
}

TEST_F(ProducerSnapshotTest, InvalidEntriesAreRejected) {
  const auto base = encode_producer_snapshot(table_with(1), offset{100});
  constexpr size_t entry = kProducerSnapshotHeaderSize;
  constexpr size_t batch0 = entry + kProducerSnapshotEntrySize;
  auto rejected = [&](size_t at, auto value) {
    auto b = base.bytes;
    bytes::store_be(b.data() + at, value);
    reseal(b);
    std::string why;
    bool ok = decode_producer_snapshot(b, offset{100}, {}, &why).has_value();
    return !ok && !why.empty();
  };
  EXPECT_TRUE(rejected(entry + 18, uint8_t(0)));       // no batches
  EXPECT_TRUE(rejected(entry + 18, uint8_t(6)));       // more than 5
  EXPECT_TRUE(rejected(entry + 8, int16_t(-1)));       // negative epoch
  EXPECT_TRUE(rejected(batch0 + 0, int32_t(-5)));      // negative sequence
  EXPECT_TRUE(rejected(batch0 + 16, int64_t(100)));    // at the snapshot offset
  EXPECT_TRUE(rejected(batch0 + 8, int64_t(3)));       // first > last offset
  EXPECT_TRUE(rejected(batch0 + 32 + 8, int64_t(0)));  // overlaps the batch before
  EXPECT_FALSE(rejected(batch0 + 24, int64_t(-1)));    // max timestamp: any value

  auto trailing = base.bytes;
  trailing.push_back(0);
  reseal(trailing);
  EXPECT_FALSE(decode_producer_snapshot(trailing, offset{100}, {}));
}

TEST_F(ProducerSnapshotTest, FailedFsyncIsReportedAndLeavesTheOlderSnapshot) {
  ASSERT_TRUE(write(table_with(1), 100));
  _fs.fail_syncs(1);
  EXPECT_EQ(write(table_with(2), 200).error(), storage::errc::io_error);
  EXPECT_EQ(names(), std::vector<std::string>{"00000000000000000100.snapshot"});  // no .tmp
  auto l = load(200);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->at, offset{100});
}

TEST_F(ProducerSnapshotTest, DiskFullIsReportedAsDiskFull) {
  _fs.disk_full_after(10);
  EXPECT_EQ(write(table_with(2), 200).error(), storage::errc::disk_full);
  _fs.clear_disk_full();
  EXPECT_TRUE(names().empty());
}

TEST_F(ProducerSnapshotTest, TornWriteNeverBecomesASnapshot) {
  _fs.tear_next_write(30);
  EXPECT_FALSE(write(table_with(2), 200));
  EXPECT_TRUE(names().empty());
  EXPECT_FALSE(load(1000));
}

}  // namespace
}  // namespace tern::broker
