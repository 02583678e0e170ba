#include "broker/producer_state.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "base/check.h"
#include "base/logger.h"
#include "bytes/crc32c.h"
#include "storage/errc.h"
#include "storage/segment.h"

namespace tern::broker {
namespace {

spdlog::logger& log() { return module_logger("broker"); }

constexpr std::string_view kSnapshotExtension = ".snapshot";

bool in_sequence(int32_t last_seq, int32_t next_seq) {
  return int64_t(next_seq) == int64_t(last_seq) + 1 ||
         (next_seq == 0 && last_seq == std::numeric_limits<int32_t>::max());
}

// The producer's epoch and last sequence as the check of one request sees them.
struct producer_position {
  producer_id id;
  producer_epoch epoch;
  int32_t last_seq;
};

}  // namespace

int32_t increment_sequence(int32_t seq, int32_t delta) {
  constexpr int32_t max = std::numeric_limits<int32_t>::max();
  if (seq > max - delta) return delta - (max - seq) - 1;
  return seq + delta;
}

producer_batch producer_batch::of(const storage::batch_header& h) {
  producer_batch b;
  b.id = producer_id{h.producer_id};
  b.epoch = producer_epoch{h.producer_epoch};
  b.first_seq = h.base_sequence;
  b.last_seq = h.base_sequence >= 0 && h.last_offset_delta >= 0
                   ? increment_sequence(h.base_sequence, h.last_offset_delta)
                   : -1;
  return b;
}

// --- producer_state_table --------------------------------------------------------------------

check_result producer_state_table::check(std::span<const producer_batch> batches) const {
  // What earlier batches of this request did to their producers: usually nothing or one.
  std::vector<producer_position> pending;
  std::optional<check_result> duplicate;  // the first duplicate, if every batch is one
  bool any_new = false;
  for (size_t i = 0; i < batches.size(); ++i) {
    const producer_batch& b = batches[i];
    if (!b.idempotent()) {
      if (duplicate) return {check_outcome::out_of_order_sequence, i, {}};
      any_new = true;
      continue;
    }
    if (b.epoch() < 0 || b.first_seq < 0 || b.last_seq < 0)
      return {check_outcome::invalid_record, i, {}};

    const producer_entry* e = find(b.id);
    const batch_metadata* original = nullptr;
    if (e && e->epoch == b.epoch) {
      for (const auto& md : e->batches)
        if (md.first_seq == b.first_seq && md.last_seq == b.last_seq) {
          original = &md;
          break;
        }
    }
    // Duplicates and new batches do not mix: answering "duplicate" appends nothing, which
    // would drop the new ones, and appending would put the duplicates in twice.
    if (original) {
      if (any_new) return {check_outcome::out_of_order_sequence, i, {}};
      if (!duplicate) duplicate = check_result{check_outcome::duplicate, i, *original};
      continue;
    }
    if (duplicate) return {check_outcome::out_of_order_sequence, i, {}};
    any_new = true;

    auto p = std::find_if(pending.begin(), pending.end(),
                          [&](const producer_position& pp) { return pp.id == b.id; });
    std::optional<producer_position> current;
    if (p != pending.end())
      current = *p;
    else if (e)
      current = producer_position{b.id, e->epoch, e->last().last_seq};

    check_outcome outcome = check_outcome::append;
    if (!current) {
      if (b.first_seq != 0 && _config.strict_unknown_producer)
        outcome = check_outcome::unknown_producer_id;
    } else if (b.epoch < current->epoch) {
      outcome = check_outcome::invalid_producer_epoch;
    } else if (b.epoch > current->epoch) {
      if (b.first_seq != 0) outcome = check_outcome::out_of_order_sequence;
    } else if (!in_sequence(current->last_seq, b.first_seq)) {
      outcome = check_outcome::out_of_order_sequence;
    }
    if (outcome != check_outcome::append) return {outcome, i, {}};

    if (p != pending.end())
      *p = {b.id, b.epoch, b.last_seq};
    else
      pending.push_back({b.id, b.epoch, b.last_seq});
  }
  return duplicate ? *duplicate : check_result{};
}

void producer_state_table::record(const producer_batch& b, offset first_offset, offset last_offset,
                                  int64_t max_timestamp, int64_t now_ms) {
  if (!b.idempotent()) return;
  producer_entry& e = _producers[b.id];
  TERN_DCHECK(e.batches.empty() || e.last().last_offset < first_offset);
  if (e.batches.empty() || e.epoch != b.epoch) {
    e.batches.clear();
    e.epoch = b.epoch;
  }
  if (e.batches.size() == kProducerBatchesKept) e.batches.erase(e.batches.begin());
  e.batches.push_back({b.first_seq, b.last_seq, first_offset, last_offset, max_timestamp});
  e.last_update_ms = now_ms;
}

void producer_state_table::rebuild(const storage::batch_header& h, int64_t now_ms) {
  const producer_batch b = producer_batch::of(h);
  if (!b.idempotent() || h.is_control() || b.epoch() < 0 || b.last_seq < 0) return;
  const offset last{h.last_offset()};
  if (const producer_entry* e = find(b.id); e && last <= e->last().last_offset) return;
  record(b, offset{h.base_offset}, last, h.max_timestamp, now_ms);
}

size_t producer_state_table::remove_before(offset log_start) {
  return std::erase_if(_producers,
                       [&](const auto& kv) { return kv.second.last().last_offset < log_start; });
}

size_t producer_state_table::expire(int64_t now_ms) {
  return std::erase_if(_producers, [&](const auto& kv) {
    return now_ms - kv.second.last_update_ms >= _config.producer_id_expiration_ms;
  });
}

const producer_entry* producer_state_table::find(producer_id id) const {
  auto it = _producers.find(id);
  return it == _producers.end() ? nullptr : &it->second;
}

// --- Snapshot encoding -----------------------------------------------------------------------
//
//  header  0 magic u32 | 4 crc u32 (CRC-32C of bytes 8..end) | 8 version u16 | 10 reserved u16
//         12 offset i64 | 20 producer count u32
//  entry   0 producer id i64 | 8 epoch i16 | 10 last update ms i64 | 18 batch count u8
//          then per batch: first seq i32, last seq i32, first offset i64, last offset i64,
//          max timestamp i64

std::filesystem::path producer_snapshot_file(const std::filesystem::path& dir, offset at) {
  return storage::segment_file(dir, at(), kSnapshotExtension);
}

producer_snapshot encode_producer_snapshot(const producer_state_table& table, offset at) {
  std::vector<producer_id> ids;
  ids.reserve(table.size());
  size_t size = kProducerSnapshotHeaderSize;
  for (const auto& [id, e] : table.entries()) {
    ids.push_back(id);
    size += kProducerSnapshotEntrySize + e.batches.size() * kProducerSnapshotBatchSize;
  }
  std::sort(ids.begin(), ids.end());  // one table, one file: byte-for-byte reproducible

  producer_snapshot s{at, {}};
  s.bytes.reserve(size);
  bytes::byte_writer w(s.bytes);
  w.u32(kProducerSnapshotMagic);
  const size_t crc_at = w.placeholder<uint32_t>();
  w.u16(kProducerSnapshotVersion);
  w.u16(0);
  w.i64(at());
  w.u32(uint32_t(ids.size()));
  for (producer_id id : ids) {
    const producer_entry& e = *table.find(id);
    w.i64(id());
    w.i16(e.epoch());
    w.i64(e.last_update_ms);
    w.u8(uint8_t(e.batches.size()));
    for (const auto& md : e.batches) {
      w.i32(md.first_seq);
      w.i32(md.last_seq);
      w.i64(md.first_offset());
      w.i64(md.last_offset());
      w.i64(md.max_timestamp);
    }
  }
  w.patch_be<uint32_t>(crc_at, bytes::crc32c(s.bytes.data() + 8, s.bytes.size() - 8));
  return s;
}

std::optional<producer_state_table> decode_producer_snapshot(bytes::byte_view data, offset at,
                                                             const producer_state_config& config,
                                                             std::string* problem) {
  auto bad = [&](std::string why) -> std::optional<producer_state_table> {
    if (problem) *problem = std::move(why);
    return std::nullopt;
  };
  if (data.size() < kProducerSnapshotHeaderSize)
    return bad(fmt::format("{} bytes is shorter than the header", data.size()));
  if (data.size() > kMaxProducerSnapshotBytes)
    return bad(
        fmt::format("{} bytes is over the {} byte limit", data.size(), kMaxProducerSnapshotBytes));
  bytes::byte_reader r(data);
  if (r.u32() != kProducerSnapshotMagic) return bad("bad magic");
  const uint32_t crc = r.u32();
  if (crc != bytes::crc32c(data.data() + 8, data.size() - 8)) return bad("CRC mismatch");
  if (uint16_t v = r.u16(); v != kProducerSnapshotVersion)
    return bad(fmt::format("unknown version {}", v));
  if (r.u16() != 0) return bad("reserved bits set");
  if (int64_t o = r.i64(); o != at())
    return bad(fmt::format("taken at offset {} but named for {}", o, at()));
  const uint32_t count = r.u32();
  constexpr size_t min_entry = kProducerSnapshotEntrySize + kProducerSnapshotBatchSize;
  if (count > r.remaining() / min_entry)
    return bad(fmt::format("{} producers cannot fit in {} bytes", count, r.remaining()));

  producer_state_table table(config);
  table._producers.reserve(count);
  int64_t previous_id = -1;
  for (uint32_t i = 0; i < count; ++i) {
    const int64_t id = r.i64();
    producer_entry e;
    e.epoch = producer_epoch{r.i16()};
    e.last_update_ms = r.i64();
    const uint8_t n = r.u8();
    if (!r.ok()) return bad("truncated producer entry");
    if (id <= previous_id) return bad(fmt::format("producer id {} out of order", id));
    if (e.epoch() < 0) return bad(fmt::format("producer {}: negative epoch", id));
    if (n == 0 || n > kProducerBatchesKept || r.remaining() < n * kProducerSnapshotBatchSize)
      return bad(fmt::format("producer {}: bad batch count {}", id, n));
    for (uint8_t k = 0; k < n; ++k) {
      batch_metadata md;
      md.first_seq = r.i32();
      md.last_seq = r.i32();
      md.first_offset = offset{r.i64()};
      md.last_offset = offset{r.i64()};
      md.max_timestamp = r.i64();
      const bool after_previous = e.batches.empty() || e.last().last_offset < md.first_offset;
      if (md.first_seq < 0 || md.last_seq < 0 || md.first_offset() < 0 ||
          md.last_offset < md.first_offset || md.last_offset() >= at() || !after_previous)
        return bad(fmt::format("producer {}: invalid batch {}", id, k));
      e.batches.push_back(md);
    }
    table._producers.emplace(producer_id{id}, std::move(e));
    previous_id = id;
  }
  if (!r.ok()) return bad("truncated");
  if (!r.empty()) return bad(fmt::format("{} bytes after the last producer", r.remaining()));
  return table;
}

// --- Snapshot files --------------------------------------------------------------------------

namespace {

// Offsets of the snapshot files in `dir`, newest first.
result<std::vector<int64_t>> list_snapshots(storage::file_system& fs,
                                            const std::filesystem::path& dir) {
  auto names = fs.list_dir(dir);
  if (!names) return names.error();
  std::vector<int64_t> out;
  for (const auto& n : *names)
    if (auto o = storage::parse_segment_name(n, kSnapshotExtension)) out.push_back(*o);
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

void remove_quietly(storage::file_system& fs, const std::filesystem::path& p) {
  if (auto r = fs.remove(p); !r)
    log().warn("cannot remove producer snapshot {}: {}", p.string(), r.error().message());
}

// The file's contents, or nullopt (with the reason) if its size alone rules it out.
result<std::optional<bytes::buffer>> read_snapshot_file(storage::file_system& fs,
                                                        const std::filesystem::path& p,
                                                        std::string& problem) {
  auto f = fs.open(p, storage::open_mode::existing);
  if (!f) return f.error();
  auto size = (*f)->size();
  if (!size) return size.error();
  if (*size < kProducerSnapshotHeaderSize || *size > kMaxProducerSnapshotBytes) {
    problem = fmt::format("size {} is outside [{}, {}]", *size, kProducerSnapshotHeaderSize,
                          kMaxProducerSnapshotBytes);
    return std::optional<bytes::buffer>();
  }
  bytes::buffer buf(*size);
  auto n = (*f)->pread(buf, 0);
  if (!n) return n.error();
  buf.resize(*n);
  return std::optional<bytes::buffer>(std::move(buf));
}

}  // namespace

result<void> write_producer_snapshot(storage::file_system& fs, const std::filesystem::path& dir,
                                     const producer_snapshot& snapshot) {
  if (snapshot.bytes.size() > kMaxProducerSnapshotBytes)
    return std::make_error_code(std::errc::file_too_large);
  const auto path = producer_snapshot_file(dir, snapshot.at);
  auto tmp = path;
  tmp += ".tmp";
  auto fail = [&](std::error_code ec, const char* what) -> result<void> {
    log().warn("producer snapshot {}: {} failed: {}", path.string(), what, ec.message());
    (void)fs.remove(tmp);
    return storage::to_storage_error(ec);
  };
  {
    auto f = fs.open(tmp, storage::open_mode::create_truncate);
    if (!f) return fail(f.error(), "create");
    if (auto r = (*f)->pwrite(snapshot.bytes, 0); !r) return fail(r.error(), "write");
    if (auto r = (*f)->fdatasync(); !r) return fail(r.error(), "fdatasync");
  }
  if (auto r = fs.rename(tmp, path); !r) return fail(r.error(), "rename");
  // The snapshot is complete from here on; a crash before the directory sync only loses it.
  if (auto r = fs.fsync_dir(dir); !r) return fail(r.error(), "directory fsync");

  auto offsets = list_snapshots(fs, dir);
  if (!offsets) {
    log().warn("cannot list {} to prune producer snapshots: {}", dir.string(),
               offsets.error().message());
    return ok();
  }
  for (size_t i = kProducerSnapshotsKept; i < offsets->size(); ++i)
    remove_quietly(fs, producer_snapshot_file(dir, offset{(*offsets)[i]}));
  return ok();
}

result<std::optional<loaded_producer_state>> load_producer_snapshot(
    storage::file_system& fs, const std::filesystem::path& dir, offset log_end,
    const producer_state_config& config) {
  auto offsets = list_snapshots(fs, dir);
  if (!offsets) {
    if (offsets.error() == std::errc::no_such_file_or_directory)
      return std::optional<loaded_producer_state>();
    return storage::to_storage_error(offsets.error());
  }

  bool removed_stale = false;
  for (int64_t o : *offsets) {
    if (o <= log_end()) continue;
    const auto p = producer_snapshot_file(dir, offset{o});
    log().warn("producer snapshot {} is beyond the log end {}; removing it", p.string(), log_end());
    if (auto r = fs.remove(p); !r) return storage::to_storage_error(r.error());
    removed_stale = true;
  }
  if (removed_stale) {
    if (auto r = fs.fsync_dir(dir); !r) return storage::to_storage_error(r.error());
  }

  for (int64_t o : *offsets) {
    if (o > log_end()) continue;
    const auto p = producer_snapshot_file(dir, offset{o});
    std::string problem;
    auto data = read_snapshot_file(fs, p, problem);
    if (!data) {
      if (data.error() == std::errc::no_such_file_or_directory) continue;  // removed meanwhile
      return storage::to_storage_error(data.error());
    }
    if (*data) {
      if (auto t = decode_producer_snapshot(**data, offset{o}, config, &problem))
        return std::optional<loaded_producer_state>(
            loaded_producer_state{std::move(*t), offset{o}});
    }
    log().warn("producer snapshot {} is invalid ({}); removing it", p.string(), problem);
    remove_quietly(fs, p);
  }
  return std::optional<loaded_producer_state>();
}

}  // namespace tern::broker
