#include "kafka/codec/codec.h"

namespace tern::kafka {
namespace {

// Header tagged fields: none are known, so all are skipped. Each takes at least two bytes,
// so a huge count ends at the end of the input.
void skip_tagged_fields(bytes::byte_reader& r) {
  uint32_t count = r.uvarint32();
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    (void)r.uvarint32();  // tag
    r.skip(r.uvarint32());
  }
}

}  // namespace

result<request_header> decode_request_header(bytes::byte_reader& r) {
  request_header h;
  h.key = api_key(r.i16());
  h.version = r.i16();
  h.correlation_id = r.i32();
  // client_id is a classic nullable string even in header v2 ("flexibleVersions": "none").
  int16_t len = r.i16();
  if (!r.ok()) return codec_errc::truncated;
  if (len < -1) return codec_errc::invalid_length;
  if (len >= 0) {
    bytes::byte_view b = r.bytes(size_t(len));
    if (!r.ok()) return codec_errc::truncated;
    h.client_id.emplace(bytes::as_chars(b));
  }
  if (is_flexible(h.key, h.version)) skip_tagged_fields(r);
  if (!r.ok()) return codec_errc::truncated;
  return h;
}

void encode_request_header(const request_header& h, bytes::chunked_buffer& out) {
  bytes::byte_writer w = out.writer();
  w.i16(int16_t(h.key));
  w.i16(h.version);
  w.i32(h.correlation_id);
  if (h.client_id) {
    std::string_view id = std::string_view(*h.client_id).substr(0, 0x7fff);
    w.i16(int16_t(id.size()));
    w.bytes(id);
  } else {
    w.i16(-1);
  }
  if (is_flexible(h.key, h.version)) w.uvarint(0);
}

static bool response_header_has_tags(api_key key, int16_t version) {
  return key != api_key::api_versions && is_flexible(key, version);
}

void encode_response_header(int32_t correlation_id, api_key key, int16_t version,
                            bytes::chunked_buffer& out) {
  bytes::byte_writer w = out.writer();
  w.i32(correlation_id);
  if (response_header_has_tags(key, version)) w.uvarint(0);
}

result<int32_t> decode_response_header(bytes::byte_reader& r, api_key key, int16_t version) {
  int32_t correlation_id = r.i32();
  if (response_header_has_tags(key, version)) skip_tagged_fields(r);
  if (!r.ok()) return codec_errc::truncated;
  return correlation_id;
}

}  // namespace tern::kafka
