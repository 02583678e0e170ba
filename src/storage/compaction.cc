// One compaction pass on a cleaner thread, and the recovery of an interrupted one. The rules
// are in compaction.h; the files and the swap protocol in docs/formats/log-segments.md.

#include "storage/compaction.h"

#include <algorithm>
#include <limits>
#include <string>

#include "base/logger.h"
#include "bytes/crc32c.h"
#include "storage/checkpoint.h"
#include "storage/record_batch.h"

namespace tern::storage {
namespace fs = std::filesystem;
namespace bl = batch_layout;
using bytes::byte_view;

namespace {

constexpr uint32_t kManifestMagic = 0x54524e53;  // "TRNS"
constexpr uint16_t kManifestVersion = 1;
constexpr size_t kManifestMaxBytes = 64u << 20;
// Rough memory of one key-map entry besides the key bytes (node, hash bucket, string).
constexpr size_t kMapEntryOverhead = 64;
// Sequential reads of a segment go through a window of this size.
constexpr size_t kReadWindow = 1u << 20;
// No batch written by the log is larger (segments roll before 4 GiB; produce limits batches
// far below): anything larger is a corrupt header, not something to allocate for.
constexpr uint64_t kMaxBatchBytes = 1ull << 30;

spdlog::logger& logger() { return module_logger("storage"); }

// --- the swap manifest ----------------------------------------------------------------------
//
//   0 magic u32 "TRNS" | 4 version u16 = 1 | 6 reserved u16 = 0
//   8 input count u32, then the old segments' bases (i64, increasing)
//     output count u32, then the new segments' bases (i64, increasing; the first = the first
//     input's)
//   last 4 bytes: CRC-32C of everything before them

struct manifest {
  std::vector<int64_t> inputs;
  std::vector<int64_t> outputs;
};

bytes::buffer encode_manifest(const manifest& m) {
  bytes::buffer out;
  bytes::byte_writer w(out);
  w.u32(kManifestMagic);
  w.u16(kManifestVersion);
  w.u16(0);
  for (auto* list : {&m.inputs, &m.outputs}) {
    w.u32(uint32_t(list->size()));
    for (int64_t b : *list) w.i64(b);
  }
  w.u32(bytes::crc32c(out));
  return out;
}

std::optional<manifest> decode_manifest(byte_view data) {
  if (data.size() < 20) return std::nullopt;
  const size_t body = data.size() - 4;
  if (bytes::load_be<uint32_t>(data.data() + body) != bytes::crc32c(data.data(), body))
    return std::nullopt;
  bytes::byte_reader r(data.first(body));
  if (r.u32() != kManifestMagic || r.u16() != kManifestVersion || r.u16() != 0) return std::nullopt;
  manifest m;
  for (auto* list : {&m.inputs, &m.outputs}) {
    uint32_t n = r.u32();
    if (!r.ok() || n == 0 || n > r.remaining() / 8) return std::nullopt;
    for (uint32_t i = 0; i < n; ++i) {
      int64_t b = r.i64();
      if (b < 0 || (!list->empty() && b <= list->back())) return std::nullopt;
      list->push_back(b);
    }
  }
  if (!r.ok() || !r.empty() || m.outputs.front() != m.inputs.front()) return std::nullopt;
  return m;
}

// Calls the test hook before each file-system change; true means "crash here".
class step_counter {
 public:
  explicit step_counter(const std::function<bool(int)>& hook) : _hook(hook) {}
  bool crash() { return _hook && _hook(_next++); }

 private:
  const std::function<bool(int)>& _hook;
  int _next = 0;
};

const std::function<bool(int)> kNoHook;

std::string with_suffix(std::string_view ext) {
  return std::string(ext) + std::string(kCleanedSuffix);
}

// Finishes a committed swap: removes the old segments no new one replaces by name, and
// renames the new files into place, then retires the manifest. Idempotent, so recovery can
// run it again after a crash at any point. Renames the indexes before the .log, so that a
// final ".log" whose ".log.cleaned" is gone always has its new indexes.
result<bool> apply_swap(file_system& fs, const fs::path& dir, const manifest& m,
                        step_counter& steps) {
  for (int64_t b : m.inputs) {
    if (std::binary_search(m.outputs.begin(), m.outputs.end(), b)) continue;
    if (steps.crash()) return false;
    TERN_TRY(segment::remove_files(fs, dir, b));
  }
  for (int64_t b : m.outputs) {
    for (std::string_view ext : {".index", ".timeindex", ".log"}) {
      fs::path from = segment_file(dir, b, with_suffix(ext));
      auto there = fs.exists(from);
      if (!there) return there.error();
      if (!*there) continue;  // renamed before a crash
      if (steps.crash()) return false;
      TERN_TRY(fs.rename(from, segment_file(dir, b, ext)));
    }
  }
  if (steps.crash()) return false;
  TERN_TRY(fs.fsync_dir(dir));
  if (steps.crash()) return false;
  TERN_TRY(fs.remove(dir / kSwapManifestFile));
  TERN_TRY(fs.fsync_dir(dir));
  return true;
}

// Reads a segment file batch by batch through a window buffer.
class batch_scanner {
 public:
  batch_scanner(file& f, uint64_t size) : _file(f), _size(size) {}

  struct item {
    batch_header header;
    byte_view bytes;  // the whole batch; valid until the next call
  };
  // The next batch, nullopt at the end. A header that does not parse or a batch that runs
  // past the end is corrupt_batch (the CRC is checked when the records are walked).
  result<std::optional<item>> next() {
    if (_pos >= _size) return std::optional<item>();
    if (_size - _pos < bl::header_size) return errc::corrupt_batch;
    auto hv = view(_pos, bl::header_size);
    if (!hv) return hv.error();
    auto h = parse_batch_header(*hv);
    if (!h) return errc::corrupt_batch;
    if (h->size() > _size - _pos || h->size() > kMaxBatchBytes) return errc::corrupt_batch;
    auto all = view(_pos, h->size());
    if (!all) return all.error();
    _pos += h->size();
    return std::optional<item>(item{*h, *all});
  }

 private:
  result<byte_view> view(uint64_t pos, size_t n) {
    if (pos < _start || pos + n > _start + _len) {
      size_t want = size_t(std::min<uint64_t>(std::max(n, kReadWindow), _size - pos));
      _buf.resize(want);
      auto got = _file.pread(std::span(_buf.data(), want), pos);
      if (!got) return to_storage_error(got.error());
      _start = pos;
      _len = *got;
      if (_len < n) return errc::io_error;  // the file shrank under us
    }
    return byte_view(_buf.data() + (pos - _start), n);
  }

  file& _file;
  uint64_t _size;
  uint64_t _pos = 0;
  bytes::buffer _buf;
  uint64_t _start = 0;
  size_t _len = 0;
};

// Phase 1: the offset of the last record of every key from `first_dirty` on, until the map is
// full; and the last batch of each producer id among the inputs.
struct key_map {
  std::unordered_map<std::string, int64_t> last;
  size_t bytes = 0;
  int64_t end = std::numeric_limits<int64_t>::max();  // records from here on are not mapped
  std::unordered_map<int64_t, int64_t> producer_last;
};

result<void> build_key_map(const compaction_params& p, key_map& map) {
  const auto canceled = [&] { return p.cancel && p.cancel->load(std::memory_order_relaxed); };
  bool full = false;
  for (auto& in : p.inputs) {
    batch_scanner scan(*in.log_file, in.size);
    while (true) {
      if (canceled()) return errc::compaction_canceled;
      auto b = scan.next();
      if (!b) return b.error();
      if (!*b) break;
      const batch_header& h = (*b)->header;
      if (h.producer_id >= 0) {
        int64_t& last = map.producer_last[h.producer_id];
        last = std::max(last, h.last_offset());
      }
      if (full || h.is_control() || h.last_offset() < p.first_dirty) continue;
      auto walked =
          for_each_record((*b)->bytes, p.max_decompressed_bytes, [&](const record_view& rv) {
            if (rv.offset < p.first_dirty || !rv.key) return true;
            std::string key(bytes::as_chars(*rv.key));
            auto it = map.last.find(key);
            if (it != map.last.end()) {
              it->second = rv.offset;
              return true;
            }
            size_t cost = key.size() + kMapEntryOverhead;
            if (!map.last.empty() && map.bytes + cost > p.map_bytes) {
              full = true;
              map.end = rv.offset;
              return false;
            }
            map.bytes += cost;
            map.last.emplace(std::move(key), rv.offset);
            return true;
          });
      if (!walked) return walked.error();
    }
  }
  if (!full) map.end = p.inputs.back().end_offset;
  return ok();
}

// Phase 2, one batch: what to write for it.
enum class verdict { keep, drop, rewrite };

struct batch_filter {
  const compaction_params& p;
  const key_map& map;
  compaction_stats& stats;
  int64_t next_horizon = -1;

  void note_horizon(int64_t h) {
    if (next_horizon < 0 || h < next_horizon) next_horizon = h;
  }

  bool is_producers_last(const batch_header& h) const {
    if (h.producer_id < 0) return false;
    const auto& last = p.producer_last_offsets ? *p.producer_last_offsets : map.producer_last;
    auto it = last.find(h.producer_id);
    return it != last.end() && it->second == h.last_offset();
  }

  // A header-only batch standing for `h`'s offsets and sequences (Kafka's empty batch).
  static bytes::buffer empty_batch(const batch_header& h) {
    bytes::buffer out(bl::header_size);
    uint8_t* q = out.data();
    int16_t attrs = int16_t(h.attributes & ~(kAttrCompressionMask | kAttrDeleteHorizon));
    bytes::store_be<int64_t>(q + bl::base_offset, h.base_offset);
    bytes::store_be<int32_t>(q + bl::batch_length, bl::min_batch_length);
    bytes::store_be<int32_t>(q + bl::leader_epoch, h.partition_leader_epoch);
    bytes::store_be<int8_t>(q + bl::magic, kMagicV2);
    bytes::store_be<int16_t>(q + bl::attributes, attrs);
    bytes::store_be<int32_t>(q + bl::last_offset_delta, h.last_offset_delta);
    bytes::store_be<int64_t>(q + bl::base_timestamp, h.max_timestamp);
    bytes::store_be<int64_t>(q + bl::max_timestamp, h.max_timestamp);
    bytes::store_be<int64_t>(q + bl::producer_id, h.producer_id);
    bytes::store_be<int16_t>(q + bl::producer_epoch, h.producer_epoch);
    bytes::store_be<int32_t>(q + bl::base_sequence, h.base_sequence);
    bytes::store_be<int32_t>(q + bl::record_count, 0);
    bytes::store_be<uint32_t>(q + bl::crc,
                              bytes::crc32c(q + bl::attributes, out.size() - bl::attributes));
    return out;
  }

  result<verdict> run(byte_view batch, const batch_header& h, bytes::buffer& out) {
    if (h.is_control()) return verdict::keep;  // no transactions yet: markers stay as they are

    // A kept record, split at its timestamp delta so it can be re-encoded against another
    // baseTimestamp: [attributes] [timestampDelta] [offsetDelta .. headers].
    struct kept_record {
      int64_t timestamp;
      size_t at;  // attributes byte + the rest, in `parts`
      size_t len;
    };
    std::vector<kept_record> kept;
    bytes::buffer parts;
    bool tombstone_kept = false;
    int32_t seen = 0;
    const bool horizon_passed = h.has_delete_horizon() && p.now_ms >= h.base_timestamp;
    bool bad = false;
    auto walked = for_each_record(batch, p.max_decompressed_bytes, [&](const record_view& rv) {
      ++seen;
      if (!rv.key) {
        ++stats.keyless_removed;
        return true;
      }
      const bool deduplicated = rv.offset < map.end;
      if (deduplicated) {
        auto it = map.last.find(std::string(bytes::as_chars(*rv.key)));
        if (it != map.last.end() && rv.offset < it->second) return true;  // superseded
      }
      if (!rv.value) {
        // Only where the map looked: a tombstone past it may still hide an older record.
        if (deduplicated && horizon_passed) {
          ++stats.tombstones_removed;
          return true;
        }
        tombstone_kept = true;
      }
      bytes::byte_reader rr(rv.raw);
      (void)rr.varint();  // length
      const uint8_t* attrs_at = rr.position();
      (void)rr.i8();
      int64_t ts_delta = rr.varlong();
      if (!rr.ok()) {
        bad = true;
        return false;
      }
      const uint8_t* rest = rr.position();
      size_t rest_len = rr.remaining();
      kept_record k;
      k.timestamp = int64_t(uint64_t(h.base_timestamp) + uint64_t(ts_delta));
      k.at = parts.size();
      k.len = 1 + rest_len;
      parts.push_back(*attrs_at);
      parts.insert(parts.end(), rest, rest + rest_len);
      kept.push_back(k);
      return true;
    });
    if (!walked) return walked.error();
    if (bad) return errc::corrupt_batch;
    const int32_t removed = seen - int32_t(kept.size());
    stats.records_removed += uint64_t(removed);

    if (kept.empty()) {
      if (!is_producers_last(h)) {
        ++stats.batches_removed;
        return verdict::drop;
      }
      if (h.record_count == 0) return verdict::keep;  // already a header-only batch
      out = empty_batch(h);
      return verdict::rewrite;
    }
    const bool needs_horizon = tombstone_kept && !h.has_delete_horizon();
    if (removed == 0 && !needs_horizon) {
      if (h.has_delete_horizon() && tombstone_kept) note_horizon(h.base_timestamp);
      return verdict::keep;
    }

    // Rebuild: same offsets, sequences and producer, fewer records.
    int16_t attrs = h.attributes;
    int64_t base_ts;
    if (tombstone_kept) {
      if (h.has_delete_horizon()) {
        base_ts = h.base_timestamp;
      } else {
        int64_t horizon;
        if (__builtin_add_overflow(p.now_ms, p.delete_retention_ms, &horizon))
          horizon = std::numeric_limits<int64_t>::max();
        base_ts = horizon;
        attrs = int16_t(attrs | kAttrDeleteHorizon);
      }
      note_horizon(base_ts);
    } else {
      attrs = int16_t(attrs & ~kAttrDeleteHorizon);
      base_ts = h.has_delete_horizon() ? kept.front().timestamp : h.base_timestamp;
    }
    const bool append_time = h.timestamp_type() == timestamp_type::log_append_time;
    int64_t max_ts = append_time ? h.max_timestamp : -1;
    bytes::buffer records;
    bytes::buffer one;
    for (auto& k : kept) {
      if (!append_time) max_ts = std::max(max_ts, k.timestamp);
      one.clear();
      bytes::byte_writer rw(one);
      rw.u8(parts[k.at]);
      rw.varlong(int64_t(uint64_t(k.timestamp) - uint64_t(base_ts)));
      rw.bytes(byte_view(parts.data() + k.at + 1, k.len - 1));
      bytes::byte_writer w(records);
      w.varint(int32_t(one.size()));
      w.bytes(one);
    }
    bytes::compression codec = h.compression();
    bytes::buffer packed;
    if (codec != bytes::compression::none && !bytes::compress(codec, records, packed)) {
      logger().warn("compaction: codec {} failed on batch at offset {}; writing it uncompressed",
                    int(codec), h.base_offset);
      codec = bytes::compression::none;
    }
    attrs = int16_t((attrs & ~kAttrCompressionMask) | int16_t(codec));
    const bytes::buffer& area = codec == bytes::compression::none ? records : packed;
    if (area.size() > uint64_t(std::numeric_limits<int32_t>::max()) - bl::header_size)
      return errc::batch_too_large;
    out.assign(bl::header_size, 0);
    out.insert(out.end(), area.begin(), area.end());
    uint8_t* q = out.data();
    bytes::store_be<int64_t>(q + bl::base_offset, h.base_offset);
    bytes::store_be<int32_t>(q + bl::batch_length, int32_t(out.size() - bl::log_overhead));
    bytes::store_be<int32_t>(q + bl::leader_epoch, h.partition_leader_epoch);
    bytes::store_be<int8_t>(q + bl::magic, kMagicV2);
    bytes::store_be<int16_t>(q + bl::attributes, attrs);
    bytes::store_be<int32_t>(q + bl::last_offset_delta, h.last_offset_delta);
    bytes::store_be<int64_t>(q + bl::base_timestamp, base_ts);
    bytes::store_be<int64_t>(q + bl::max_timestamp, max_ts);
    bytes::store_be<int64_t>(q + bl::producer_id, h.producer_id);
    bytes::store_be<int16_t>(q + bl::producer_epoch, h.producer_epoch);
    bytes::store_be<int32_t>(q + bl::base_sequence, h.base_sequence);
    bytes::store_be<int32_t>(q + bl::record_count, int32_t(kept.size()));
    bytes::store_be<uint32_t>(q + bl::crc,
                              bytes::crc32c(q + bl::attributes, out.size() - bl::attributes));
    return verdict::rewrite;
  }
};

}  // namespace

result<void> run_compaction(file_system& fs, const compaction_params& p, compaction_output& out) {
  out = compaction_output{};
  if (p.inputs.empty()) return ok();
  const auto canceled = [&] { return p.cancel && p.cancel->load(std::memory_order_relaxed); };
  step_counter steps(p.crash_before_step);
  compaction_stats& stats = out.stats;
  stats.segments_in = p.inputs.size();
  for (auto& in : p.inputs) stats.bytes_in += in.size;

  key_map map;
  TERN_TRY(build_key_map(p, map));
  stats.keys = map.last.size();
  out.cleaned_upto = map.end;
  stats.cleaned_upto = map.end;

  // Phase 2: stream the kept batches into new segments beside the old ones.
  batch_filter filter{p, map, stats};
  std::vector<std::unique_ptr<segment>>& outs = out.segments;
  auto abandon = [&](std::error_code ec) -> result<void> {
    if (!out.crashed)
      for (auto& o : outs) (void)segment::remove_files(fs, p.dir, o->base_offset(), kCleanedSuffix);
    outs.clear();
    return ec;
  };
  // Writes the indexes of the newest output and syncs its files.
  auto seal = [&]() -> result<void> {
    segment& o = *outs.back();
    TERN_TRY(o.write_indexes(fs, p.dir, kCleanedSuffix));
    std::vector<std::shared_ptr<file>> files = o.take_unsynced_index_files();
    files.push_back(o.log_file());
    for (auto& f : files) TERN_TRY(f->fdatasync());
    o.set_synced_size(o.size());
    return ok();
  };
  auto start_output = [&](int64_t base, int64_t created) -> result<void> {
    if (steps.crash()) {
      out.crashed = true;
      return errc::io_error;
    }
    auto seg = segment::create(fs, p.dir, base, created, kCleanedSuffix);
    if (!seg) return seg.error();
    outs.push_back(std::move(*seg));
    return ok();
  };
  bool changed = false;
  bytes::buffer rebuilt;
  if (auto r = start_output(p.inputs.front().base_offset, p.inputs.front().created_ms); !r)
    return abandon(to_storage_error(r.error()));
  for (auto& in : p.inputs) {
    batch_scanner scan(*in.log_file, in.size);
    while (true) {
      if (canceled()) return abandon(errc::compaction_canceled);
      auto b = scan.next();
      if (!b) return abandon(b.error());
      if (!*b) break;
      auto v = filter.run((*b)->bytes, (*b)->header, rebuilt);
      if (!v) {
        logger().warn("compaction of {}: batch at offset {}: {}", p.dir.string(),
                      (*b)->header.base_offset, v.error().message());
        return abandon(v.error());
      }
      if (*v != verdict::keep) changed = true;
      if (*v == verdict::drop) continue;
      byte_view bytes = *v == verdict::keep ? (*b)->bytes : byte_view(rebuilt);
      auto h = parse_batch_header(bytes);
      if (!h) return abandon(h.error());
      segment& o = *outs.back();
      // Roll as the log does: past segment_bytes, or where 32-bit relative offsets end.
      if (!o.empty() &&
          (o.size() + bytes.size() > p.segment_bytes ||
           uint64_t(h->last_offset() - o.base_offset()) > std::numeric_limits<uint32_t>::max())) {
        if (auto r = seal(); !r) return abandon(to_storage_error(r.error()));
        if (auto r = start_output(h->base_offset, in.created_ms); !r)
          return abandon(to_storage_error(r.error()));
      }
      bool truncate_failed = false;
      auto w = outs.back()->append(bytes, *h, p.index_interval_bytes, &truncate_failed);
      if (!w) return abandon(to_storage_error(w.error()));
    }
  }
  if (auto r = seal(); !r) return abandon(to_storage_error(r.error()));
  out.next_horizon = filter.next_horizon;

  manifest m;
  for (auto& in : p.inputs) m.inputs.push_back(in.base_offset);
  for (auto& o : outs) m.outputs.push_back(o->base_offset());
  if (!changed && m.outputs == m.inputs) {
    // Byte for byte what is there already: drop the copies, swap nothing.
    (void)abandon(std::error_code());
    stats.bytes_out = stats.bytes_in;
  } else {
    for (auto& o : outs) stats.bytes_out += o->size();
    stats.segments_out = outs.size();
    out.replaced = m.inputs;

    // Phase 3: commit (the manifest), then swap on disk.
    auto crash = [&] { return out.crashed = steps.crash(); };
    if (crash()) return abandon(errc::io_error);
    if (auto r = fs.fsync_dir(p.dir); !r) return abandon(to_storage_error(r.error()));
    const fs::path tmp = p.dir / (std::string(kSwapManifestFile) + ".tmp");
    if (crash()) return abandon(errc::io_error);
    {
      auto f = fs.open(tmp, open_mode::create_truncate);
      if (!f) return abandon(to_storage_error(f.error()));
      bytes::buffer data = encode_manifest(m);
      auto w = (*f)->pwrite(data, 0);
      if (w) w = (*f)->fdatasync();
      if (!w) {
        (void)fs.remove(tmp);
        return abandon(to_storage_error(w.error()));
      }
    }
    if (crash()) return abandon(errc::io_error);
    if (canceled()) {
      (void)fs.remove(tmp);
      return abandon(errc::compaction_canceled);
    }
    if (auto r = fs.rename(tmp, p.dir / kSwapManifestFile); !r) {
      (void)fs.remove(tmp);
      return abandon(to_storage_error(r.error()));
    }
    // Committed: from here on the swap only goes forward (now or in recovery).
    out.committed = true;
    if (crash()) return errc::io_error;
    if (auto r = fs.fsync_dir(p.dir); !r) return to_storage_error(r.error());
    auto swapped = apply_swap(fs, p.dir, m, steps);
    if (!swapped) return to_storage_error(swapped.error());
    if (!*swapped) {
      out.crashed = true;
      return errc::io_error;
    }
  }
  if (steps.crash()) {
    out.crashed = true;
    return errc::io_error;
  }
  // Advisory: if it is lost, the next pass just has more to read.
  if (auto r = write_checkpoint(fs, p.dir / kCleanerCheckpointFile, out.cleaned_upto); !r)
    logger().warn("compaction of {}: cannot write {}: {}", p.dir.string(), kCleanerCheckpointFile,
                  r.error().message());
  return ok();
}

result<bool> recover_compaction(file_system& fs, const fs::path& dir) {
  bool changed = false;
  const fs::path manifest_path = dir / kSwapManifestFile;
  auto there = fs.exists(manifest_path);
  if (!there) return there.error();
  if (*there) {
    auto f = fs.open(manifest_path, open_mode::existing);
    if (!f) return f.error();
    auto size = (*f)->size();
    if (!size) return size.error();
    std::optional<manifest> m;
    if (*size <= kManifestMaxBytes) {
      bytes::buffer data(*size);
      auto got = (*f)->pread(data, 0);
      if (!got) return got.error();
      data.resize(*got);
      m = decode_manifest(data);
    }
    if (m) {
      logger().warn(
          "log {}: finishing a compaction interrupted after its commit ({} old "
          "segment(s) replaced by {})",
          dir.string(), m->inputs.size(), m->outputs.size());
      step_counter none(kNoHook);
      TERN_TRY(apply_swap(fs, dir, *m, none));
    } else {
      // Written whole (temporary file, rename) and CRC-checked: this is damage, not a crash.
      logger().error("log {}: {} is unreadable; discarding the compaction it described",
                     dir.string(), kSwapManifestFile);
      TERN_TRY(fs.remove(manifest_path));
    }
    changed = true;
  }
  auto names = fs.list_dir(dir);
  if (!names) return names.error();
  for (auto& n : *names) {
    if (n.size() > kCleanedSuffix.size() &&
        n.compare(n.size() - kCleanedSuffix.size(), kCleanedSuffix.size(), kCleanedSuffix) == 0) {
      TERN_TRY(fs.remove(dir / n));
      changed = true;
    }
  }
  if (changed) TERN_TRY(fs.fsync_dir(dir));
  return changed;
}

}  // namespace tern::storage
