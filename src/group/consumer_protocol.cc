#include "group/consumer_protocol.h"

#include <algorithm>

#include "group/errors.h"

namespace tern::group::consumer_protocol {
namespace {

// A bounded reader for Kafka's classic (non-flexible) encoding. Any inconsistency sets a
// sticky error; callers check it once at the end, like bytes::byte_reader.
class reader {
 public:
  explicit reader(bytes::byte_view in) : _r(in) {}

  std::error_code error() const {
    if (_err) return _err;
    if (!_r.ok()) return decode_errc::truncated;
    return {};
  }
  bool ok() const { return !error(); }
  size_t remaining() const { return _r.remaining(); }

  int16_t i16() { return _r.i16(); }
  int32_t i32() { return _r.i32(); }

  std::string string() {
    int16_t n = _r.i16();
    if (n < 0) {
      corrupt();
      return {};
    }
    return std::string(bytes::as_chars(_r.bytes(size_t(n))));
  }
  std::optional<std::string> nullable_string() {
    int16_t n = _r.i16();
    if (n == -1) return std::nullopt;
    if (n < 0) {
      corrupt();
      return std::nullopt;
    }
    return std::string(bytes::as_chars(_r.bytes(size_t(n))));
  }
  std::optional<bytes::buffer> nullable_bytes() {
    int32_t n = _r.i32();
    if (n == -1) return std::nullopt;
    if (n < 0) {
      corrupt();
      return std::nullopt;
    }
    auto v = _r.bytes(size_t(n));
    if (!_r.ok()) return std::nullopt;
    return bytes::buffer(v.begin(), v.end());
  }
  // An array count, checked against what is left given each element's minimum size.
  size_t count(size_t min_element_bytes) {
    int32_t n = _r.i32();
    if (!_r.ok()) return 0;
    if (n < 0 || size_t(n) > _r.remaining() / min_element_bytes) {
      corrupt();
      return 0;
    }
    return size_t(n);
  }

 private:
  void corrupt() {
    if (!_err) _err = decode_errc::corrupt;
    _r.fail();
  }

  bytes::byte_reader _r;
  std::error_code _err;
};

std::vector<topic_partitions> read_topic_partitions(reader& r) {
  std::vector<topic_partitions> out;
  size_t n = r.count(2 + 4);  // empty topic name + empty partition array
  out.reserve(n);
  for (size_t i = 0; i < n && r.ok(); ++i) {
    topic_partitions tp;
    tp.topic = r.string();
    size_t np = r.count(4);
    tp.partitions.reserve(np);
    for (size_t j = 0; j < np && r.ok(); ++j) tp.partitions.push_back(r.i32());
    out.push_back(std::move(tp));
  }
  return out;
}

void write_string(bytes::byte_writer& w, std::string_view s) {
  w.i16(int16_t(s.size()));
  w.bytes(s);
}
void write_nullable_bytes(bytes::byte_writer& w, const std::optional<bytes::buffer>& b) {
  if (!b) {
    w.i32(-1);
    return;
  }
  w.i32(int32_t(b->size()));
  w.bytes(bytes::byte_view(*b));
}
void write_topic_partitions(bytes::byte_writer& w, const std::vector<topic_partitions>& v) {
  w.i32(int32_t(v.size()));
  for (const auto& tp : v) {
    write_string(w, tp.topic);
    w.i32(int32_t(tp.partitions.size()));
    for (int32_t p : tp.partitions) w.i32(p);
  }
}

}  // namespace

result<subscription> decode_subscription(bytes::byte_view in, int16_t max_version) {
  reader r(in);
  subscription s;
  s.version = r.i16();
  if (!r.ok()) return r.error();
  if (s.version < 0) return decode_errc::unsupported_version;
  const int16_t v = std::min({s.version, max_version, max_subscription_version});
  size_t n = r.count(2);
  s.topics.reserve(n);
  for (size_t i = 0; i < n && r.ok(); ++i) s.topics.push_back(r.string());
  s.user_data = r.nullable_bytes();
  if (v >= 1) s.owned_partitions = read_topic_partitions(r);
  if (v >= 2) s.generation_id = r.i32();
  if (v >= 3) s.rack_id = r.nullable_string();
  if (!r.ok()) return r.error();
  return s;
}

result<assignment> decode_assignment(bytes::byte_view in) {
  reader r(in);
  assignment a;
  a.version = r.i16();
  if (!r.ok()) return r.error();
  if (a.version < 0) return decode_errc::unsupported_version;
  a.partitions = read_topic_partitions(r);
  a.user_data = r.nullable_bytes();
  if (!r.ok()) return r.error();
  return a;
}

bytes::buffer encode_subscription(const subscription& s) {
  bytes::buffer out;
  bytes::byte_writer w(out);
  const int16_t v = std::min(s.version, max_subscription_version);
  w.i16(s.version);
  w.i32(int32_t(s.topics.size()));
  for (const auto& t : s.topics) write_string(w, t);
  write_nullable_bytes(w, s.user_data);
  if (v >= 1) write_topic_partitions(w, s.owned_partitions);
  if (v >= 2) w.i32(s.generation_id);
  if (v >= 3) {
    if (s.rack_id) {
      write_string(w, *s.rack_id);
    } else {
      w.i16(-1);
    }
  }
  return out;
}

bytes::buffer encode_assignment(const assignment& a) {
  bytes::buffer out;
  bytes::byte_writer w(out);
  w.i16(a.version);
  write_topic_partitions(w, a.partitions);
  write_nullable_bytes(w, a.user_data);
  return out;
}

}  // namespace tern::group::consumer_protocol
