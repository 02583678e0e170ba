#include "group/records.h"

#include "group/errors.h"

namespace tern::group {
namespace {

constexpr uint16_t kValueVersion = 0;
constexpr uint32_t kAbsent = 0xFFFFFFFFu;

void put_str(bytes::byte_writer& w, std::string_view s) {
  w.u32(uint32_t(s.size()));
  w.bytes(s);
}
void put_opt_str(bytes::byte_writer& w, const std::optional<std::string>& s) {
  if (!s) {
    w.u32(kAbsent);
    return;
  }
  put_str(w, *s);
}
void put_bytes(bytes::byte_writer& w, const bytes::buffer& b) {
  w.u32(uint32_t(b.size()));
  w.bytes(bytes::byte_view(b));
}

// Bounded reads over bytes::byte_reader; a failure is sticky (truncated or corrupt).
class reader {
 public:
  explicit reader(bytes::byte_view in) : _r(in) {}

  uint16_t u16() { return _r.u16(); }
  uint32_t u32() { return _r.u32(); }
  int32_t i32() { return _r.i32(); }
  int64_t i64() { return _r.i64(); }

  std::string str() {
    uint32_t n = _r.u32();
    return std::string(bytes::as_chars(_r.bytes(n)));
  }
  std::optional<std::string> opt_str() {
    uint32_t n = _r.u32();
    if (n == kAbsent) return std::nullopt;
    return std::string(bytes::as_chars(_r.bytes(n)));
  }
  bytes::buffer buf() {
    uint32_t n = _r.u32();
    auto v = _r.bytes(n);
    return bytes::buffer(v.begin(), v.end());
  }
  size_t remaining() const { return _r.remaining(); }
  bool ok() const { return _r.ok() && !_corrupt; }
  void corrupt() {
    _corrupt = true;
    _r.fail();
  }

  // The final verdict: truncated input, corrupt input, or trailing bytes (also corrupt).
  std::error_code finish() const {
    if (_corrupt) return decode_errc::corrupt;
    if (!_r.ok()) return decode_errc::truncated;
    if (!_r.empty()) return decode_errc::corrupt;
    return {};
  }

 private:
  bytes::byte_reader _r;
  bool _corrupt = false;
};

// The smallest encoded member: six empty strings/byte arrays (u32 lengths) and two i32s.
constexpr size_t kMinMemberBytes = 4 * 4 + 4 + 4 + 4 + 4;

}  // namespace

bytes::buffer encode_key(const offset_key& k) {
  bytes::buffer out;
  bytes::byte_writer w(out);
  w.u16(uint16_t(record_key_type::offset_commit));
  put_str(w, k.group_id);
  put_str(w, k.topic);
  w.i32(k.partition);
  return out;
}

bytes::buffer encode_key(const group_key& k) {
  bytes::buffer out;
  bytes::byte_writer w(out);
  w.u16(uint16_t(record_key_type::group_metadata));
  put_str(w, k.group_id);
  return out;
}

bytes::buffer encode_value(const offset_value& v) {
  bytes::buffer out;
  bytes::byte_writer w(out);
  w.u16(kValueVersion);
  w.i64(v.offset);
  w.i32(v.leader_epoch);
  put_str(w, v.metadata);
  w.i64(v.commit_timestamp_ms);
  return out;
}

bytes::buffer encode_value(const group_value& v) {
  bytes::buffer out;
  bytes::byte_writer w(out);
  w.u16(kValueVersion);
  put_str(w, v.protocol_type);
  w.i32(v.generation);
  put_opt_str(w, v.protocol_name);
  put_opt_str(w, v.leader);
  w.u32(uint32_t(v.members.size()));
  for (const auto& m : v.members) {
    put_str(w, m.member_id);
    put_opt_str(w, m.group_instance_id);
    put_str(w, m.client_id);
    put_str(w, m.client_host);
    w.i32(m.rebalance_timeout_ms);
    w.i32(m.session_timeout_ms);
    put_bytes(w, m.subscription);
    put_bytes(w, m.assignment);
  }
  return out;
}

result<record_key> decode_key(bytes::byte_view in) {
  reader r(in);
  uint16_t type = r.u16();
  switch (record_key_type(type)) {
    case record_key_type::offset_commit: {
      offset_key k;
      k.group_id = r.str();
      k.topic = r.str();
      k.partition = r.i32();
      if (auto ec = r.finish()) return ec;
      return record_key(std::move(k));
    }
    case record_key_type::group_metadata: {
      group_key k;
      k.group_id = r.str();
      if (auto ec = r.finish()) return ec;
      return record_key(std::move(k));
    }
  }
  if (auto ec = r.finish(); ec == decode_errc::truncated) return ec;
  return decode_errc::unknown_key_type;
}

result<offset_value> decode_offset_value(bytes::byte_view in) {
  reader r(in);
  uint16_t version = r.u16();
  if (auto ec = r.finish(); ec == decode_errc::truncated) return ec;
  if (version != kValueVersion) return decode_errc::unsupported_version;
  offset_value v;
  v.offset = r.i64();
  v.leader_epoch = r.i32();
  v.metadata = r.str();
  v.commit_timestamp_ms = r.i64();
  if (auto ec = r.finish()) return ec;
  return v;
}

result<group_value> decode_group_value(bytes::byte_view in) {
  reader r(in);
  uint16_t version = r.u16();
  if (auto ec = r.finish(); ec == decode_errc::truncated) return ec;
  if (version != kValueVersion) return decode_errc::unsupported_version;
  group_value v;
  v.protocol_type = r.str();
  v.generation = r.i32();
  v.protocol_name = r.opt_str();
  v.leader = r.opt_str();
  uint32_t n = r.u32();
  if (n > r.remaining() / kMinMemberBytes) {
    r.corrupt();
    n = 0;
  }
  v.members.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    member_value m;
    m.member_id = r.str();
    m.group_instance_id = r.opt_str();
    m.client_id = r.str();
    m.client_host = r.str();
    m.rebalance_timeout_ms = r.i32();
    m.session_timeout_ms = r.i32();
    m.subscription = r.buf();
    m.assignment = r.buf();
    v.members.push_back(std::move(m));
  }
  if (auto ec = r.finish()) return ec;
  return v;
}

record make_record(const offset_key& k, const offset_value& v) {
  return record{encode_key(k), encode_value(v)};
}
record make_record(const group_key& k, const group_value& v) {
  return record{encode_key(k), encode_value(v)};
}
record make_tombstone(const offset_key& k) { return record{encode_key(k), std::nullopt}; }
record make_tombstone(const group_key& k) { return record{encode_key(k), std::nullopt}; }

}  // namespace tern::group
