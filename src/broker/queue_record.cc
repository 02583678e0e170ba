#include "broker/queue_record.h"

#include <string_view>

namespace tern::broker {
namespace {

constexpr std::string_view kExchangeHeader = "tern.exchange";
constexpr std::string_view kPropertiesHeader = "tern.properties";
constexpr std::string_view kMetaHeader = "tern.meta";
constexpr uint8_t kMetaVersion = 1;
constexpr size_t kMetaSize = 1 + 1 + 1 + 8;

bytes::buffer to_buffer(std::string_view s) { return bytes::buffer(s.begin(), s.end()); }

// Calls fn(name, value) for each header of an encoded header block; false on bad input.
template <class F>
bool for_each_header(const storage::record_view& r, F&& fn) {
  bytes::byte_reader in(r.headers);
  for (int32_t i = 0; i < r.header_count; ++i) {
    int32_t klen = in.varint();
    if (!in.ok() || klen < 0 || size_t(klen) > in.remaining()) return false;
    auto key = bytes::as_chars(in.bytes(size_t(klen)));
    int32_t vlen = in.varint();
    if (!in.ok() || vlen < -1 || (vlen > 0 && size_t(vlen) > in.remaining())) return false;
    bytes::byte_view value = vlen > 0 ? in.bytes(size_t(vlen)) : bytes::byte_view{};
    fn(key, value);
  }
  return in.ok();
}

std::optional<stored_meta> parse_meta(bytes::byte_view v) {
  if (v.size() < kMetaSize || v[0] != kMetaVersion) return std::nullopt;
  bytes::byte_reader in(v.subspan(1));
  stored_meta m;
  m.persistent = in.u8() & 1;
  m.priority = in.u8();
  m.expires_at_ms = in.i64();
  if (!in.ok()) return std::nullopt;
  return m;
}

}  // namespace

bytes::buffer encode_queue_record(const queue_message& m, const stored_meta& meta) {
  storage::record rec;
  rec.key = to_buffer(m.routing_key);
  rec.value = m.body;
  rec.timestamp = m.timestamp_ms;
  bytes::buffer encoded;
  bytes::byte_writer w(encoded);
  w.u8(kMetaVersion);
  w.u8(meta.persistent ? 1 : 0);
  w.u8(meta.priority);
  w.i64(meta.expires_at_ms);
  rec.headers.emplace_back(std::string(kExchangeHeader), to_buffer(m.exchange));
  rec.headers.emplace_back(std::string(kPropertiesHeader), m.properties);
  rec.headers.emplace_back(std::string(kMetaHeader), std::move(encoded));
  return storage::build_batch({rec});
}

std::optional<stored_meta> decode_queue_meta(const storage::record_view& r) {
  std::optional<stored_meta> meta;
  bool ok = for_each_header(r, [&](std::string_view k, bytes::byte_view v) {
    if (k == kMetaHeader) meta = parse_meta(v);
  });
  if (!ok) return std::nullopt;
  return meta;
}

std::optional<decoded_queue_record> decode_queue_record(const storage::record_view& r) {
  decoded_queue_record out;
  bool have_meta = false;
  bool ok = for_each_header(r, [&](std::string_view k, bytes::byte_view v) {
    if (k == kExchangeHeader) {
      out.message.exchange.assign(bytes::as_chars(v));
    } else if (k == kPropertiesHeader) {
      out.message.properties.assign(v.begin(), v.end());
    } else if (k == kMetaHeader) {
      if (auto m = parse_meta(v)) {
        out.meta = *m;
        have_meta = true;
      }
    }
  });
  if (!ok || !have_meta) return std::nullopt;
  if (r.key) out.message.routing_key.assign(bytes::as_chars(*r.key));
  if (r.value) out.message.body.assign(r.value->begin(), r.value->end());
  out.message.persistent = out.meta.persistent;
  out.message.priority = out.meta.priority;
  out.message.timestamp_ms = r.timestamp;
  return out;
}

}  // namespace tern::broker
