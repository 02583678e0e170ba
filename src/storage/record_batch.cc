#include "storage/record_batch.h"

#include <algorithm>
#include <limits>

#include "base/logger.h"
#include "bytes/crc32c.h"

namespace tern::storage {
namespace bl = batch_layout;
using bytes::byte_reader;
using bytes::byte_view;
using bytes::load_be;
using bytes::store_be;

namespace {

// Smallest possible record: length, attributes, timestampDelta, offsetDelta, keyLength,
// valueLength and headerCount, one byte each.
constexpr size_t kMinRecordBytes = 7;

batch_header read_header(const uint8_t* p) {
  batch_header h;
  h.base_offset = load_be<int64_t>(p + bl::base_offset);
  h.batch_length = load_be<int32_t>(p + bl::batch_length);
  h.partition_leader_epoch = load_be<int32_t>(p + bl::leader_epoch);
  h.magic = load_be<int8_t>(p + bl::magic);
  h.crc = load_be<uint32_t>(p + bl::crc);
  h.attributes = load_be<int16_t>(p + bl::attributes);
  h.last_offset_delta = load_be<int32_t>(p + bl::last_offset_delta);
  h.base_timestamp = load_be<int64_t>(p + bl::base_timestamp);
  h.max_timestamp = load_be<int64_t>(p + bl::max_timestamp);
  h.producer_id = load_be<int64_t>(p + bl::producer_id);
  h.producer_epoch = load_be<int16_t>(p + bl::producer_epoch);
  h.base_sequence = load_be<int32_t>(p + bl::base_sequence);
  h.record_count = load_be<int32_t>(p + bl::record_count);
  return h;
}

uint32_t batch_crc(byte_view batch) {
  return bytes::crc32c(batch.data() + bl::attributes, batch.size() - bl::attributes);
}

// Checks everything about one whole batch that does not need its records: the header, that
// `batch` is exactly batchLength + 12 bytes, the CRC and the codec.
result<batch_header> check_batch(byte_view batch) {
  auto h = parse_batch_header(batch);
  if (!h) return h;
  if (h->size() != batch.size()) return errc::corrupt_batch;
  if (batch_crc(batch) != h->crc) return errc::crc_mismatch;
  if (h->compression() > bytes::compression::zstd) return errc::unsupported_compression;
  return h;
}

// The records area of a checked batch: in place when uncompressed, else decompressed into
// `scratch` within `max_decompressed`.
result<byte_view> records_area(const batch_header& h, byte_view batch, size_t max_decompressed,
                               bytes::buffer& scratch) {
  byte_view area = batch.subspan(bl::header_size);
  if (h.compression() == bytes::compression::none) return area;
  scratch.clear();
  auto r = bytes::decompress(h.compression(), area, max_decompressed, scratch);
  if (!r) {
    if (r.error() == bytes::compression_errc::output_too_large) return errc::batch_too_large;
    return errc::compression_error;
  }
  return byte_view(scratch);
}

// Walks the records of one batch, checking every length against the bytes present, and
// calls visit(record_view) for each until it returns false. `strict` (produce validation)
// wants offset deltas exactly 0..n-1; otherwise (reading stored batches, possibly compacted)
// they need only increase and stay within lastOffsetDelta.
template <class Visit>
result<void> walk_records(const batch_header& h, byte_view area, bool strict, Visit&& visit) {
  if (h.record_count < 0) return errc::record_count_mismatch;
  if (strict && h.record_count == 0) return errc::invalid_record;
  const bool append_time = h.timestamp_type() == timestamp_type::log_append_time;
  byte_reader r(area);
  int64_t prev_delta = -1;
  record_view rv;
  for (int32_t i = 0; i < h.record_count; ++i) {
    if (r.empty()) return errc::record_count_mismatch;  // fewer records than announced
    const uint8_t* record_at = r.position();
    int32_t len = r.varint();
    if (!r.ok() || len < 0 || size_t(len) > r.remaining()) return errc::corrupt_batch;
    byte_reader rr(r.bytes(size_t(len)));
    (void)rr.i8();  // record attributes: unused in v2
    int64_t ts_delta = rr.varlong();
    int32_t offset_delta = rr.varint();
    if (!rr.ok()) return errc::corrupt_batch;
    if (strict ? offset_delta != i
               : (offset_delta <= prev_delta || offset_delta > h.last_offset_delta))
      return errc::invalid_record;
    prev_delta = offset_delta;

    auto nullable = [&rr](std::optional<byte_view>& out) {
      int32_t n = rr.varint();
      if (!rr.ok() || n < -1 || (n >= 0 && size_t(n) > rr.remaining())) return false;
      // Built whole rather than assigned into: GCC 12 otherwise warns of a false
      // maybe-uninitialized payload.
      out = n >= 0 ? std::optional<byte_view>(rr.bytes(size_t(n))) : std::optional<byte_view>();
      return true;
    };
    if (!nullable(rv.key) || !nullable(rv.value)) return errc::corrupt_batch;
    int32_t header_count = rr.varint();
    // Each header needs at least its two length bytes: bounds the loop by the bytes present.
    if (!rr.ok() || header_count < 0 || size_t(header_count) > rr.remaining() / 2)
      return errc::corrupt_batch;
    const uint8_t* headers_at = rr.position();
    for (int32_t j = 0; j < header_count; ++j) {
      int32_t key_len = rr.varint();
      if (!rr.ok() || key_len < -1 || (key_len >= 0 && size_t(key_len) > rr.remaining()))
        return errc::corrupt_batch;
      if (key_len < 0) return errc::invalid_record;  // header keys are strings, never null
      rr.skip(size_t(key_len));
      std::optional<byte_view> hv;
      if (!nullable(hv)) return errc::corrupt_batch;
    }
    // The record's length must be exactly what its fields used.
    if (!rr.ok() || !rr.empty()) return errc::corrupt_batch;

    int64_t ts;
    if (__builtin_add_overflow(h.base_timestamp, ts_delta, &ts)) return errc::invalid_timestamp;
    rv.offset = int64_t(uint64_t(h.base_offset) + uint64_t(int64_t(offset_delta)));
    rv.timestamp = append_time ? h.max_timestamp : ts;
    rv.header_count = header_count;
    rv.headers = byte_view(headers_at, size_t(rr.position() - headers_at));
    rv.raw = byte_view(record_at, size_t(rr.position() - record_at));
    if (!visit(static_cast<const record_view&>(rv))) return ok();
  }
  if (!r.empty()) return errc::record_count_mismatch;  // more records than announced
  // Checked last so that a count disagreeing with the records reports as such.
  if (strict && h.last_offset_delta != h.record_count - 1) return errc::invalid_record;
  return ok();
}

// Decompression scratch for validate_batch, reused per thread so compressed produce batches
// do not allocate each time; trimmed so one huge batch does not pin memory forever.
thread_local bytes::buffer t_scratch;
constexpr size_t kKeepScratch = 8u << 20;

}  // namespace

result<batch_header> parse_batch_header(byte_view data) {
  if (data.size() < bl::header_size) return errc::corrupt_batch;
  batch_header h = read_header(data.data());
  if (h.magic != kMagicV2) return errc::unsupported_magic;
  if (h.batch_length < bl::min_batch_length) return errc::corrupt_batch;
  return h;
}

result<std::vector<byte_view>> split_batches(byte_view records) {
  std::vector<byte_view> out;
  size_t at = 0;
  while (at < records.size()) {
    byte_view rest = records.subspan(at);
    // Look at the magic first: an old-format message set is "unsupported", not "corrupt".
    if (rest.size() > bl::magic && load_be<int8_t>(rest.data() + bl::magic) != kMagicV2)
      return errc::unsupported_magic;
    if (rest.size() < bl::log_overhead) return errc::corrupt_batch;
    int32_t len = load_be<int32_t>(rest.data() + bl::batch_length);
    if (len < bl::min_batch_length || size_t(len) > rest.size() - bl::log_overhead)
      return errc::corrupt_batch;
    size_t size = size_t(len) + bl::log_overhead;
    out.push_back(rest.first(size));
    at += size;
  }
  return out;
}

result<batch_info> validate_batch(byte_view batch, const batch_limits& limits) {
  auto h = parse_batch_header(batch);
  if (!h) return h.error();
  if (h->size() != batch.size()) return errc::corrupt_batch;
  if (batch.size() > limits.max_batch_bytes) return errc::batch_too_large;
  if (batch_crc(batch) != h->crc) return errc::crc_mismatch;
  if (h->compression() > bytes::compression::zstd) return errc::unsupported_compression;

  auto area = records_area(*h, batch, limits.max_decompressed_bytes, t_scratch);
  if (!area) return area.error();
  batch_info info;
  info.header = *h;
  info.records_bytes = area->size();
  int64_t max_ts = -1;
  int64_t min_ts = std::numeric_limits<int64_t>::max();
  bool null_key = false;
  auto walked = walk_records(*h, *area, /*strict=*/true, [&](const record_view& rv) {
    max_ts = std::max(max_ts, rv.timestamp);
    min_ts = std::min(min_ts, rv.timestamp);
    null_key = null_key || !rv.key;
    ++info.record_count;
    return true;
  });
  if (t_scratch.capacity() > kKeepScratch) bytes::buffer().swap(t_scratch);
  if (!walked) return walked.error();
  info.max_timestamp = max_ts;

  if (limits.max_timestamp_skew_ms >= 0 && h->timestamp_type() == timestamp_type::create_time &&
      info.record_count > 0) {
    // Compare in unsigned distance so extreme timestamps cannot overflow.
    auto far = [&](int64_t ts) {
      uint64_t d = ts > limits.now_ms ? uint64_t(ts) - uint64_t(limits.now_ms)
                                      : uint64_t(limits.now_ms) - uint64_t(ts);
      return d > uint64_t(limits.max_timestamp_skew_ms);
    };
    if (far(min_ts) || far(max_ts)) return errc::invalid_timestamp;
  }
  if (limits.require_keys && null_key) return errc::null_key;
  return info;
}

void assign_offsets(std::span<uint8_t> batch, int64_t base_offset, int32_t leader_epoch,
                    std::optional<int64_t> log_append_time_ms) {
  if (batch.size() < bl::header_size) return;
  uint8_t* p = batch.data();
  store_be<int64_t>(p + bl::base_offset, base_offset);
  store_be<int32_t>(p + bl::leader_epoch, leader_epoch);
  if (!log_append_time_ms) return;
  int16_t attrs = load_be<int16_t>(p + bl::attributes);
  int16_t new_attrs = int16_t(attrs | kAttrLogAppendTime);
  if (new_attrs == attrs && load_be<int64_t>(p + bl::max_timestamp) == *log_append_time_ms)
    return;  // covered bytes unchanged: the CRC still holds
  store_be<int16_t>(p + bl::attributes, new_attrs);
  store_be<int64_t>(p + bl::max_timestamp, *log_append_time_ms);
  store_be<uint32_t>(p + bl::crc, batch_crc(batch));
}

bytes::buffer build_batch(const std::vector<record>& records, const build_options& o) {
  int64_t base_ts = records.empty() ? -1 : records.front().timestamp;
  int64_t max_ts = -1;
  bytes::buffer body;
  bytes::buffer one;  // one record's fields, to learn its length prefix
  bytes::byte_writer w(body);
  for (size_t i = 0; i < records.size(); ++i) {
    const record& rec = records[i];
    max_ts = std::max(max_ts, rec.timestamp);
    one.clear();
    bytes::byte_writer rw(one);
    rw.i8(0);
    rw.varlong(int64_t(uint64_t(rec.timestamp) - uint64_t(base_ts)));
    rw.varint(int32_t(i));
    auto nullable = [&rw](const std::optional<bytes::buffer>& b) {
      if (!b) return rw.varint(-1);
      rw.varint(int32_t(b->size()));
      rw.bytes(*b);
    };
    nullable(rec.key);
    nullable(rec.value);
    rw.varint(int32_t(rec.headers.size()));
    for (auto& [k, v] : rec.headers) {
      rw.varint(int32_t(k.size()));
      rw.bytes(std::string_view(k));
      nullable(v);
    }
    w.varint(int32_t(one.size()));
    w.bytes(one);
  }

  bytes::compression codec = o.compression;
  bytes::buffer packed;
  if (codec != bytes::compression::none && !bytes::compress(codec, body, packed)) {
    module_logger("storage").warn("build_batch: compression codec {} failed; writing uncompressed",
                                  int(codec));
    codec = bytes::compression::none;
  }
  const bytes::buffer& area = codec == bytes::compression::none ? body : packed;

  bytes::buffer out(bl::header_size + area.size());
  uint8_t* p = out.data();
  int16_t attrs = int16_t(codec);
  if (o.log_append_time) attrs |= kAttrLogAppendTime;
  if (o.transactional) attrs |= kAttrTransactional;
  if (o.control) attrs |= kAttrControl;
  int32_t count = int32_t(records.size());
  store_be<int64_t>(p + bl::base_offset, o.base_offset);
  store_be<int32_t>(p + bl::batch_length, int32_t(out.size() - bl::log_overhead));
  store_be<int32_t>(p + bl::leader_epoch, o.partition_leader_epoch);
  store_be<int8_t>(p + bl::magic, kMagicV2);
  store_be<int16_t>(p + bl::attributes, attrs);
  store_be<int32_t>(p + bl::last_offset_delta, count > 0 ? count - 1 : 0);
  store_be<int64_t>(p + bl::base_timestamp, base_ts);
  store_be<int64_t>(p + bl::max_timestamp, max_ts);
  store_be<int64_t>(p + bl::producer_id, o.producer_id);
  store_be<int16_t>(p + bl::producer_epoch, o.producer_epoch);
  store_be<int32_t>(p + bl::base_sequence, o.base_sequence);
  store_be<int32_t>(p + bl::record_count, count);
  std::copy(area.begin(), area.end(), p + bl::header_size);
  store_be<uint32_t>(p + bl::crc, batch_crc(out));
  return out;
}

result<void> for_each_record(byte_view batch, size_t max_decompressed,
                             const std::function<bool(const record_view&)>& fn) {
  auto h = check_batch(batch);
  if (!h) return h.error();
  bytes::buffer scratch;
  auto area = records_area(*h, batch, max_decompressed, scratch);
  if (!area) return area.error();
  return walk_records(*h, *area, /*strict=*/false, fn);
}

result<std::vector<record_with_offset>> decode_records(byte_view batch, size_t max_decompressed) {
  auto h = check_batch(batch);
  if (!h) return h.error();
  bytes::buffer scratch;
  auto area = records_area(*h, batch, max_decompressed, scratch);
  if (!area) return area.error();
  std::vector<record_with_offset> out;
  // recordCount is untrusted: reserve no more than the bytes present could hold.
  out.reserve(
      std::min<size_t>(size_t(std::max(h->record_count, 0)), area->size() / kMinRecordBytes));
  auto copy = [](const std::optional<byte_view>& v) -> std::optional<bytes::buffer> {
    if (!v) return std::nullopt;
    return bytes::buffer(v->begin(), v->end());
  };
  auto walked = walk_records(*h, *area, /*strict=*/false, [&](const record_view& rv) {
    record_with_offset& rec = out.emplace_back();
    rec.offset = rv.offset;
    rec.timestamp = rv.timestamp;
    rec.key = copy(rv.key);
    rec.value = copy(rv.value);
    byte_reader hr(rv.headers);
    for (int32_t j = 0; j < rv.header_count; ++j) {
      // Already checked by walk_records: the key is present and non-null.
      auto key = hr.bytes(size_t(hr.varint()));
      int32_t vlen = hr.varint();
      std::optional<bytes::buffer> value;
      if (vlen >= 0) value = copy(hr.bytes(size_t(vlen)));
      rec.headers.emplace_back(std::string(bytes::as_chars(key)), std::move(value));
    }
    return true;
  });
  if (!walked) return walked.error();
  return out;
}

}  // namespace tern::storage
