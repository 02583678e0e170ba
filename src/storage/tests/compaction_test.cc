// Log compaction (compaction.h, log::compact): what a pass keeps, that offsets and reads are
// unaffected, tombstone expiry on an injected clock, compressed and producer batches, merging,
// indexes, readers of old file ranges, and a crash at every step of the swap.

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "storage/compaction.h"
#include "storage/log.h"
#include "storage/tests/test_util.h"

namespace tern::storage {
namespace {
namespace fs = std::filesystem;

struct kv {
  std::string key;                   // "" = no key
  std::optional<std::string> value;  // nullopt = tombstone
};

bytes::buffer keyed_batch(const std::vector<kv>& records, int64_t ts = 1000,
                          build_options opts = {}) {
  std::vector<record> recs;
  for (size_t i = 0; i < records.size(); ++i) {
    record r;
    if (!records[i].key.empty())
      r.key = bytes::buffer(records[i].key.begin(), records[i].key.end());
    if (records[i].value)
      r.value = bytes::buffer(records[i].value->begin(), records[i].value->end());
    r.timestamp = ts + int64_t(i);
    recs.push_back(std::move(r));
  }
  return build_batch(recs, opts);
}

std::string str(const std::optional<bytes::buffer>& b) {
  return b ? std::string(b->begin(), b->end()) : std::string("<null>");
}

// One batch as read back: its header and decoded records.
struct read_batch {
  batch_header header;
  std::vector<record_with_offset> records;
};

class CompactionTest : public test::log_fixture {
 protected:
  void SetUp() override {
    _config.cleanup_compact = true;
    _config.cleanup_delete = false;
    _config.retention_ms = -1;
    _config.flush = flush_policy::never;
    _config.segment_bytes = 600;  // a few small batches per segment
    _config.index_interval_bytes = 100;
  }

  std::unique_ptr<log> open_at(const fs::path& dir, flusher* fl = nullptr) {
    auto l = log::open(_fs, fl ? *fl : _flusher, _poster.get(), dir, _config, test::fake_now);
    EXPECT_TRUE(l) << l.error().message();
    return l ? std::move(*l) : nullptr;
  }

  int64_t put(log& l, const std::vector<kv>& records, build_options opts = {}, int64_t ts = 1000) {
    bytes::buffer b = keyed_batch(records, ts, opts);
    auto r = l.append(b);
    EXPECT_TRUE(r) << r.error().message();
    return r ? r->base_offset : -1;
  }

  // Every batch from the log start to the end, walking gaps by each batch's last offset.
  std::vector<read_batch> batches(log& l) {
    std::vector<read_batch> out;
    int64_t from = l.log_start_offset();
    while (from < l.log_end_offset()) {
      auto r = l.read(from, l.log_end_offset(), 1 << 20, true);
      EXPECT_TRUE(r) << r.error().message();
      if (!r || r->ranges.empty()) break;
      bytes::buffer data = test::flatten(*r);
      auto split = split_batches(data);
      EXPECT_TRUE(split);
      for (auto b : *split) {
        read_batch rb;
        rb.header = *parse_batch_header(b);
        auto recs = decode_records(b, 64 << 20);
        EXPECT_TRUE(recs) << recs.error().message();
        if (recs) rb.records = std::move(*recs);
        from = rb.header.last_offset() + 1;
        out.push_back(std::move(rb));
      }
    }
    return out;
  }

  std::vector<record_with_offset> records(log& l) {
    std::vector<record_with_offset> out;
    for (auto& b : batches(l))
      for (auto& r : b.records) out.push_back(r);
    return out;
  }

  // key -> (offset, value) of the last record of each key.
  static std::map<std::string, std::pair<int64_t, std::string>> latest(
      const std::vector<record_with_offset>& recs) {
    std::map<std::string, std::pair<int64_t, std::string>> out;
    for (auto& r : recs)
      if (r.key) out[str(r.key)] = {r.offset, str(r.value)};
    return out;
  }

  // Runs a pass on `pool` and waits for its completion.
  result<compaction_stats> compact(log& l, log::compaction_request req = {},
                                   flusher* pool = nullptr) {
    req.force = true;
    std::optional<result<compaction_stats>> got;
    bool started = l.compact(pool ? *pool : _flusher, std::move(req),
                             [&](result<compaction_stats> r) { got = std::move(r); });
    EXPECT_TRUE(started);
    if (!started) return errc::invalid_record;
    EXPECT_TRUE(_poster.run_until([&] { return got.has_value(); }));
    if (!got) return errc::io_error;
    return *got;
  }

  // Appends an empty-keyed filler so that every earlier segment is closed.
  void close_segments(log& l) { put(l, {{"filler", std::string(_config.segment_bytes, 'f')}}); }

  static std::vector<std::string> leftovers(const fs::path& dir) {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(dir)) {
      auto n = e.path().filename().string();
      if (n.find(".cleaned") != std::string::npos || n.find("compaction.swap") != std::string::npos)
        out.push_back(n);
    }
    return out;
  }
};

TEST_F(CompactionTest, KeepsOnlyTheLatestRecordPerKey) {
  auto l = open_log();
  for (int round = 0; round < 20; ++round)
    put(*l, {{"a", "a" + std::to_string(round)},
             {"b", "b" + std::to_string(round)},
             {"c", "c" + std::to_string(round)}});
  close_segments(*l);
  auto before = records(*l);
  ASSERT_GT(l->segment_count(), 3u);

  auto st = compact(*l);
  ASSERT_TRUE(st) << st.error().message();
  auto after = records(*l);
  EXPECT_EQ(latest(after), latest(before));
  // a, b and c once each, then the filler in the active segment.
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(str(after[0].value), "a19");
  EXPECT_EQ(after[0].offset, 57);
  EXPECT_EQ(str(after[2].value), "c19");
  EXPECT_EQ(after[2].offset, 59);
  EXPECT_EQ(st->records_removed, 57u);
  EXPECT_EQ(st->keys, 3u);
  EXPECT_LT(l->size_bytes(), st->bytes_in);
  EXPECT_EQ(l->cleaned_upto(), l->segment_bases().back());
  EXPECT_DOUBLE_EQ(l->dirty_ratio(), 0.0);
}

TEST_F(CompactionTest, OffsetsArePreservedAndReadsSkipGaps) {
  auto l = open_log();
  for (int i = 0; i < 10; ++i) put(*l, {{"k" + std::to_string(i % 2), std::to_string(i)}});
  close_segments(*l);
  const int64_t start = l->log_start_offset(), end = l->log_end_offset();
  ASSERT_TRUE(compact(*l));
  EXPECT_EQ(l->log_start_offset(), start);
  EXPECT_EQ(l->log_end_offset(), end);
  // Offset 0 no longer exists: a read from it returns the first kept batch (offset 8).
  auto r = l->read(0, end, 1 << 20, true);
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->ranges.empty());
  EXPECT_EQ(test::batch_offsets(*r).front(), 8);
  // From inside the gap too, and from each kept offset.
  auto r5 = l->read(5, end, 1 << 20, true);
  ASSERT_TRUE(r5);
  EXPECT_EQ(test::batch_offsets(*r5).front(), 8);
  auto r9 = l->read(9, end, 1 << 20, true);
  ASSERT_TRUE(r9);
  EXPECT_EQ(test::batch_offsets(*r9).front(), 9);
  // Appends continue at the same log end.
  EXPECT_EQ(put(*l, {{"k0", "new"}}), end);
}

TEST_F(CompactionTest, KeylessRecordsAreDropped) {
  auto l = open_log();
  put(*l, {{"", "no key"}, {"k", "v1"}, {"", "no key either"}});
  put(*l, {{"k", "v2"}});
  close_segments(*l);
  auto st = compact(*l);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->keyless_removed, 2u);
  auto after = records(*l);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(str(after[0].value), "v2");
}

TEST_F(CompactionTest, TombstonesAreKeptForDeleteRetentionThenRemoved) {
  _config.delete_retention_ms = 60'000;
  auto l = open_log();
  put(*l, {{"gone", "v1"}, {"stays", "s1"}});
  put(*l, {{"gone", std::nullopt}});  // tombstone at offset 2
  close_segments(*l);

  ASSERT_TRUE(compact(*l));
  auto after = records(*l);
  ASSERT_EQ(after.size(), 3u);  // stays, the tombstone, filler
  EXPECT_EQ(str(after[0].key), "stays");
  EXPECT_EQ(str(after[1].key), "gone");
  EXPECT_FALSE(after[1].value);
  EXPECT_EQ(after[1].offset, 2);
  // The tombstone's batch now carries its delete horizon, and its timestamp is unchanged.
  auto bs = batches(*l);
  ASSERT_TRUE(bs[1].header.has_delete_horizon());
  EXPECT_EQ(bs[1].header.base_timestamp, test::fake_now() + 60'000);
  EXPECT_EQ(bs[1].records[0].timestamp, 1000);

  // Not yet: another pass keeps it, and nothing asks for one.
  test::g_now_ms += 59'000;
  EXPECT_FALSE(l->needs_compaction());
  ASSERT_TRUE(compact(*l));
  EXPECT_EQ(records(*l).size(), 3u);

  // Past the horizon the log asks for a pass by itself, which removes the tombstone.
  test::g_now_ms += 2'000;
  EXPECT_TRUE(l->needs_compaction());
  auto st = compact(*l);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->tombstones_removed, 1u);
  after = records(*l);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(str(after[0].key), "stays");
  EXPECT_FALSE(l->needs_compaction());
}

TEST_F(CompactionTest, TombstoneBeyondAFullKeyMapIsNotRemoved) {
  // The map holds one key: a pass deduplicates only up to the second new key it meets.
  _config.compaction_map_bytes = 1;
  _config.delete_retention_ms = 0;
  auto l = open_log();
  put(*l, {{"a", "a1"}, {"c", "c1"}, {"b", "b1"}});  // offsets 0-2
  put(*l, {{"b", std::nullopt}});                    // 3
  close_segments(*l);
  auto st = compact(*l);  // maps a; stops at c (offset 1)
  ASSERT_TRUE(st);
  EXPECT_EQ(st->cleaned_upto, 1);
  EXPECT_EQ(l->cleaned_upto(), 1);
  EXPECT_EQ(records(*l).size(), 5u);  // the tombstone is kept and gets its horizon

  test::g_now_ms += 1;  // the horizon passes
  st = compact(*l);     // maps c (from offset 1); stops at b (offset 2)
  ASSERT_TRUE(st);
  EXPECT_EQ(st->cleaned_upto, 2);
  // b1 is past the map, so the tombstone that hides it must stay, horizon or not.
  auto recs = records(*l);
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[2].offset, 2);
  EXPECT_EQ(recs[3].offset, 3);
  EXPECT_EQ(st->tombstones_removed, 0u);

  st = compact(*l);  // maps b from offset 2: b1 and the tombstone go together
  ASSERT_TRUE(st);
  EXPECT_EQ(st->tombstones_removed, 1u);
  recs = records(*l);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(str(recs[0].key), "a");
  EXPECT_EQ(str(recs[1].key), "c");
}

TEST_F(CompactionTest, CompressedBatchesAreFilteredAndRecompressedWithTheirCodec) {
  for (auto codec : {bytes::compression::gzip, bytes::compression::snappy, bytes::compression::lz4,
                     bytes::compression::zstd}) {
    SCOPED_TRACE(int(codec));
    test::temp_dir dir;
    auto l = open_at(dir.path());
    build_options o;
    o.compression = codec;
    for (int i = 0; i < 6; ++i)
      put(*l,
          {{"x", "x" + std::to_string(i)},
           {"y", "y" + std::to_string(i)},
           {"z" + std::to_string(i), "unique"}},
          o);
    close_segments(*l);
    auto before = records(*l);
    ASSERT_TRUE(compact(*l));
    auto after = records(*l);
    EXPECT_EQ(latest(after), latest(before));
    EXPECT_EQ(after.size(), 6u + 2 + 1);  // z0..z5, x5, y5, filler
    for (auto& b : batches(*l)) {
      if (b.records.size() > 0 && str(b.records[0].key) != "filler") {
        EXPECT_EQ(b.header.compression(), codec);
      }
    }
    ASSERT_TRUE(l->close());
  }
}

TEST_F(CompactionTest, ProducersLastBatchIsKeptEmptyAndOthersDropped) {
  auto l = open_log();
  build_options p;
  p.producer_id = 7;
  p.producer_epoch = 2;
  p.base_sequence = 0;
  put(*l, {{"k", "p1"}, {"k", "p2"}}, p);  // offsets 0-1, sequences 0-1
  p.base_sequence = 2;
  put(*l, {{"k", "p3"}, {"k", "p4"}, {"k", "p5"}}, p);  // offsets 2-4, sequences 2-4
  put(*l, {{"k", "plain"}});                            // offset 5, no producer
  close_segments(*l);
  ASSERT_TRUE(compact(*l));
  auto bs = batches(*l);
  ASSERT_GE(bs.size(), 2u);
  // The producer's first batch is gone; its last one is kept with no records.
  const batch_header& e = bs[0].header;
  EXPECT_EQ(e.base_offset, 2);
  EXPECT_EQ(e.last_offset_delta, 2);
  EXPECT_EQ(e.record_count, 0);
  EXPECT_EQ(e.producer_id, 7);
  EXPECT_EQ(e.producer_epoch, 2);
  EXPECT_EQ(e.base_sequence, 2);
  EXPECT_TRUE(bs[0].records.empty());
  EXPECT_EQ(bs[1].header.base_offset, 5);
  // It survives a second pass, and a restart (the CRC holds).
  ASSERT_TRUE(compact(*l));
  EXPECT_EQ(batches(*l)[0].header.base_offset, 2);
  ASSERT_TRUE(l->close());
  l.reset();
  l = open_log();
  EXPECT_EQ(batches(*l)[0].header.record_count, 0);
}

TEST_F(CompactionTest, ProducerStateDecidesWhichEmptyBatchesStay) {
  auto l = open_log();
  build_options p;
  p.producer_id = 7;
  p.producer_epoch = 0;
  p.base_sequence = 0;
  put(*l, {{"k", "v1"}}, p);  // offset 0: producer 7's last batch
  p.producer_id = 8;
  put(*l, {{"k", "v2"}}, p);  // offset 1: producer 8's last batch
  put(*l, {{"k", "v3"}});     // offset 2
  close_segments(*l);
  log::compaction_request req;
  // Producer 7 expired from the partition's producer state; 8 is still tracked.
  req.producer_last_offsets = std::unordered_map<int64_t, int64_t>{{8, 1}};
  ASSERT_TRUE(compact(*l, std::move(req)));
  auto bs = batches(*l);
  ASSERT_GE(bs.size(), 2u);
  EXPECT_EQ(bs[0].header.producer_id, 8);
  EXPECT_EQ(bs[0].header.record_count, 0);
  EXPECT_EQ(bs[1].header.base_offset, 2);
}

TEST_F(CompactionTest, SmallSegmentsAreMergedUpToSegmentBytes) {
  auto l = open_log();
  for (int i = 0; i < 40; ++i) put(*l, {{"k" + std::to_string(i % 4), std::to_string(i)}});
  close_segments(*l);
  const size_t segments = l->segment_count();
  ASSERT_GE(segments, 5u);
  ASSERT_TRUE(compact(*l));
  // 4 keys left in the compacted part, plus the two segments the filler lives in.
  EXPECT_LT(l->segment_count(), segments);
  EXPECT_LE(l->segment_count(), 3u);
  for (int64_t base : l->segment_bases()) {
    ASSERT_TRUE(fs::exists(seg(base)));
    EXPECT_LE(test::file_size(seg(base)), _config.segment_bytes * 2);  // the filler's own
  }
  // Files of merged-away segments are gone.
  size_t logs = 0;
  for (auto& e : fs::directory_iterator(log_dir()))
    if (e.path().extension() == ".log") ++logs;
  EXPECT_EQ(logs, l->segment_count());
  EXPECT_EQ(latest(records(*l)).size(), 5u);
}

TEST_F(CompactionTest, IndexesOfNewSegmentsAreWrittenAndTrusted) {
  auto l = open_log();
  for (int i = 0; i < 60; ++i)
    put(*l, {{"k" + std::to_string(i % 12), std::string(20, char('a' + i % 26))}});
  close_segments(*l);
  ASSERT_TRUE(compact(*l));
  auto expected = records(*l);
  ASSERT_TRUE(l->close());
  l.reset();

  std::map<int64_t, std::pair<std::string, std::string>> written;  // base -> index files
  auto slurp = [](const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  for (auto& e : fs::directory_iterator(log_dir()))
    if (auto b = parse_segment_name(e.path().filename().string(), ".log"))
      written[*b] = {slurp(seg(*b, ".index")), slurp(seg(*b, ".timeindex"))};

  l = open_log();  // clean shutdown: the indexes are loaded, not rebuilt
  EXPECT_TRUE(l->recovery().clean_shutdown);
  EXPECT_EQ(l->recovery().indexes_rebuilt, 0u);
  EXPECT_EQ(records(*l).size(), expected.size());
  for (auto& r : expected) {  // each kept offset through the index
    auto got = l->read(r.offset, l->log_end_offset(), 1, true);
    ASSERT_TRUE(got);
    auto offs = test::batch_offsets(*got);
    ASSERT_FALSE(offs.empty());
    EXPECT_LE(offs.front(), r.offset);
  }
  ASSERT_TRUE(l->close());
  l.reset();

  // A rebuild from the data gives the same index files.
  for (auto& [b, files] : written) {
    fs::remove(seg(b, ".index"));
    fs::remove(seg(b, ".timeindex"));
  }
  l = open_log();
  EXPECT_GT(l->recovery().indexes_rebuilt, 0u);
  ASSERT_TRUE(l->close());
  for (auto& [b, files] : written) {
    if (b == written.rbegin()->first) continue;  // the active segment's, written at close
    EXPECT_EQ(slurp(seg(b, ".index")), files.first) << b;
    EXPECT_EQ(slurp(seg(b, ".timeindex")), files.second) << b;
  }
}

TEST_F(CompactionTest, ReadersOfOldRangesKeepReadingTheOldFiles) {
  auto l = open_log();
  for (int i = 0; i < 12; ++i) put(*l, {{"k", std::to_string(i)}});
  close_segments(*l);
  auto old = l->read(0, l->log_end_offset(), 1 << 20, true);
  ASSERT_TRUE(old);
  bytes::buffer old_bytes = test::flatten(*old);
  ASSERT_TRUE(compact(*l));
  EXPECT_TRUE(leftovers(log_dir()).empty());
  // The segment files were replaced: the new segment 0 holds only the last record of k.
  ASSERT_LT(test::file_size(seg(0)), old_bytes.size());
  // The ranges taken before the pass still read the bytes they named.
  EXPECT_EQ(test::flatten(*old), old_bytes);
  auto recs = test::records_of(*old);
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.front().offset, 0);
}

TEST_F(CompactionTest, DirtyRatioDecidesWhenAPassIsNeeded) {
  _config.min_cleanable_dirty_ratio = 0.5;
  auto l = open_log();
  EXPECT_FALSE(l->needs_compaction());  // nothing closed
  for (int i = 0; i < 12; ++i) put(*l, {{"k", std::to_string(i)}});
  close_segments(*l);
  EXPECT_DOUBLE_EQ(l->dirty_ratio(), 1.0);
  EXPECT_TRUE(l->needs_compaction());
  ASSERT_TRUE(compact(*l));
  EXPECT_DOUBLE_EQ(l->dirty_ratio(), 0.0);
  EXPECT_FALSE(l->needs_compaction());
  EXPECT_FALSE(l->compact(_flusher, {}, nullptr));  // not forced: nothing to do
  // The filler's segment closes: dirty again, and over the ratio.
  close_segments(*l);
  EXPECT_GT(l->dirty_ratio(), 0.5);
  EXPECT_TRUE(l->needs_compaction());
  // Without cleanup.policy=compact it never asks.
  _config.cleanup_compact = false;
  l->update_config(_config);
  EXPECT_FALSE(l->needs_compaction());
}

TEST_F(CompactionTest, CleanedOffsetSurvivesARestart) {
  auto l = open_log();
  for (int i = 0; i < 12; ++i) put(*l, {{"k", std::to_string(i)}});
  close_segments(*l);
  ASSERT_TRUE(compact(*l));
  const int64_t upto = l->cleaned_upto();
  ASSERT_TRUE(l->close());
  l.reset();
  l = open_log();
  EXPECT_EQ(l->cleaned_upto(), upto);
  EXPECT_DOUBLE_EQ(l->dirty_ratio(), 0.0);
}

TEST_F(CompactionTest, MinCompactionLagSparesYoungSegments) {
  _config.min_compaction_lag_ms = 10'000;
  auto l = open_log();
  const int64_t now = test::fake_now();
  for (int i = 0; i < 6; ++i) put(*l, {{"k", "old" + std::to_string(i)}}, {}, now - 20'000);
  close_segments(*l);
  for (int i = 0; i < 6; ++i) put(*l, {{"k", "young" + std::to_string(i)}}, {}, now);
  close_segments(*l);
  ASSERT_TRUE(compact(*l));
  // Only the old segments were compacted: the last "old" record stays beside the young ones,
  // which are all there.
  size_t old = 0, young = 0;
  for (auto& r : records(*l)) {
    auto v = str(r.value);
    old += v.rfind("old", 0) == 0;
    young += v.rfind("young", 0) == 0;
  }
  EXPECT_EQ(old, 1u);
  EXPECT_EQ(young, 6u);
  // Once they are old enough, they are compacted too.
  test::g_now_ms += 20'000;
  ASSERT_TRUE(compact(*l));
  young = 0;
  for (auto& r : records(*l)) young += str(r.value).rfind("young", 0) == 0;
  EXPECT_EQ(young, 1u);
}

TEST_F(CompactionTest, RetentionAndDeleteRecordsWaitForAPassInFlight) {
  _config.cleanup_delete = true;
  auto l = open_log();
  for (int i = 0; i < 12; ++i) put(*l, {{"k" + std::to_string(i), "v"}});
  close_segments(*l);
  const size_t segments = l->segment_count();
  flusher inline_pool(0);  // runs the pass inside compact(); its completion waits in the queue
  log::compaction_request req;
  req.force = true;
  std::optional<result<compaction_stats>> got;
  ASSERT_TRUE(l->compact(inline_pool, std::move(req), [&](auto r) { got = std::move(r); }));
  EXPECT_TRUE(l->compaction_in_flight());
  ASSERT_TRUE(l->delete_records_before(4));
  EXPECT_EQ(l->log_start_offset(), 4);
  EXPECT_EQ(l->segment_count(), segments);  // deferred
  _poster.drain();
  ASSERT_TRUE(got && *got);
  EXPECT_FALSE(l->compaction_in_flight());
  EXPECT_EQ(l->log_start_offset(), 4);
  auto recs = records(*l);
  ASSERT_FALSE(recs.empty());
  EXPECT_GE(recs.front().offset, 3);  // the batch holding 4 may start before it
}

TEST_F(CompactionTest, CloseDuringAPassCancelsItAndLeavesNothingBehind) {
  auto l = open_log();
  for (int i = 0; i < 30; ++i) put(*l, {{"k" + std::to_string(i % 3), std::to_string(i)}});
  close_segments(*l);
  auto before = records(*l);
  log::compaction_request req;
  req.force = true;
  req.crash_before_step = [](int step) {
    if (step == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return false;
  };
  std::optional<result<compaction_stats>> got;
  ASSERT_TRUE(l->compact(_flusher, std::move(req), [&](auto r) { got = std::move(r); }));
  ASSERT_TRUE(l->close());  // sets the cancel flag while the pass sleeps, then waits for it
  _poster.drain();
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
  EXPECT_TRUE(leftovers(log_dir()).empty());
  l.reset();
  l = open_log();
  EXPECT_EQ(records(*l).size(), before.size());
}

TEST_F(CompactionTest, UnfinishedCleanedFilesWithoutManifestAreRemovedAtOpen) {
  {
    auto l = open_log();
    for (int i = 0; i < 6; ++i) put(*l, {{"k", std::to_string(i)}});
    close_segments(*l);
  }
  test::write_raw(seg(0, ".log.cleaned"), bytes::buffer(100, 7));
  test::write_raw(seg(0, ".index.cleaned"), bytes::buffer(8, 0));
  auto l = open_log();
  EXPECT_TRUE(leftovers(log_dir()).empty());
  EXPECT_EQ(records(*l).size(), 7u);
}

TEST_F(CompactionTest, CorruptManifestIsDiscardedAndTheOldSegmentsKept) {
  {
    auto l = open_log();
    for (int i = 0; i < 6; ++i) put(*l, {{"k", std::to_string(i)}});
    close_segments(*l);
  }
  test::write_raw(seg(0, ".log.cleaned"), bytes::buffer(100, 7));
  test::write_raw(log_dir() / "compaction.swap", bytes::buffer(40, 1));
  auto l = open_log();
  EXPECT_TRUE(leftovers(log_dir()).empty());
  EXPECT_EQ(records(*l).size(), 7u);
}

// SIGKILL at every step: the pass stops before the k-th file-system change, the log object is
// dropped without close(), and the directory is reopened. Whatever k, the log must hold
// either every record it had or exactly the compacted ones, with the same last value per key
// and the same offsets, and no leftover files.
TEST_F(CompactionTest, CrashAtEveryStepOfThePassRecoversConsistently) {
  _config.delete_retention_ms = 1'000'000;
  auto fill = [&](log& l) {
    build_options p;
    p.producer_id = 3;
    p.producer_epoch = 0;
    p.base_sequence = 0;
    put(l, {{"p", "p0"}}, p);
    for (int i = 0; i < 30; ++i)
      put(l, {{"k" + std::to_string(i % 4), std::to_string(i)}, {"u" + std::to_string(i), "x"}});
    put(l, {{"k1", std::nullopt}});
    close_segments(l);
  };
  std::vector<record_with_offset> compacted;
  {  // the reference: a pass that completes
    test::temp_dir d;
    auto l = open_at(d.path());
    fill(*l);
    ASSERT_TRUE(compact(*l));
    compacted = records(*l);
  }
  ASSERT_FALSE(compacted.empty());
  int crashes = 0;
  for (int k = 0; k < 200; ++k) {
    SCOPED_TRACE("crash before step " + std::to_string(k));
    test::temp_dir d;
    std::vector<record_with_offset> before;
    bool crashed = false;
    {
      auto l = open_at(d.path());
      fill(*l);
      before = records(*l);
      log::compaction_request req;
      req.crash_before_step = [&, k](int step) { return crashed = (step == k); };
      flusher inline_pool(0);
      auto r = compact(*l, std::move(req), &inline_pool);
      if (!crashed) {
        ASSERT_TRUE(r) << r.error().message();
        break;  // k is past the last step: every step has been crashed at
      }
      EXPECT_FALSE(r);
      // Dropped without close(): what is on disk is what a SIGKILL leaves.
    }
    ++crashes;
    auto l = open_at(d.path());
    auto got = records(*l);
    EXPECT_TRUE(leftovers(d.path()).empty());
    EXPECT_EQ(latest(got), latest(before));
    EXPECT_TRUE(got.size() == before.size() || got.size() == compacted.size()) << got.size();
    std::map<int64_t, std::string> was;
    for (auto& r : before) was[r.offset] = str(r.key) + "=" + str(r.value);
    for (auto& r : got) EXPECT_EQ(was[r.offset], str(r.key) + "=" + str(r.value)) << r.offset;
    EXPECT_EQ(l->log_end_offset(), before.back().offset + 1);
    // The log works on: a full pass gives the reference result.
    ASSERT_TRUE(compact(*l));
    auto final_recs = records(*l);
    ASSERT_EQ(final_recs.size(), compacted.size());
    for (size_t i = 0; i < final_recs.size(); ++i)
      EXPECT_EQ(final_recs[i].offset, compacted[i].offset);
  }
  EXPECT_GE(crashes, 8);  // several groups, manifest, renames, removals
}

}  // namespace
}  // namespace tern::storage
