#include "amqp/codec/frame.h"

#include <algorithm>
#include <limits>

#include "base/check.h"

namespace tern::amqp {
namespace {

frame_result fail(std::string text) {
  frame_result r;
  r.status = frame_status::error;
  r.error = amqp::error{reply_code::frame_error, std::move(text)};
  return r;
}

bool known_type(uint8_t t) {
  switch (frame_type(t)) {
    case frame_type::method:
    case frame_type::header:
    case frame_type::body:
    case frame_type::heartbeat:
      return true;
  }
  return false;
}

}  // namespace

frame_result decode_frame(bytes::byte_view input, uint32_t frame_max) {
  frame_result r;
  if (input.size() < frame_header_size) {
    r.needed = frame_header_size - input.size();
    return r;
  }
  bytes::byte_reader h(input.first(frame_header_size));
  uint8_t type = h.u8();
  uint16_t channel = h.u16();
  uint32_t size = h.u32();

  // Checked in 64 bits: frame_max may be near 2^32.
  uint64_t limit =
      uint64_t(std::max(frame_max, frame_min_size)) - frame_overhead + frame_size_fudge;
  if (size > limit) {
    return fail("frame payload of " + std::to_string(size) + " bytes is larger than the " +
                std::to_string(std::max(frame_max, frame_min_size)) + "-byte frame_max");
  }
  if (!known_type(type)) return fail("unknown frame type " + std::to_string(type));
  if (type == uint8_t(frame_type::heartbeat) && size != 0)
    return fail("heartbeat frame with a payload of " + std::to_string(size) + " bytes");

  size_t total = frame_header_size + size_t(size) + 1;
  if (input.size() < total) {
    r.needed = total - input.size();
    return r;
  }
  if (input[total - 1] != frame_end) {
    return fail("frame-end octet is " + std::to_string(input[total - 1]) + ", not 206 (0xCE)");
  }
  r.status = frame_status::ok;
  r.frame = {frame_type(type), channel, input.subspan(frame_header_size, size)};
  r.consumed = total;
  return r;
}

uint32_t max_frame_payload(uint32_t frame_max) {
  if (frame_max == 0) return std::numeric_limits<uint32_t>::max();
  return std::max(frame_max, frame_min_size) - uint32_t(frame_overhead);
}

size_t write_frame_begin(bytes::buffer& out, frame_type type, uint16_t channel) {
  bytes::byte_writer w(out);
  w.u8(uint8_t(type));
  w.u16(channel);
  return w.placeholder<uint32_t>();
}

void write_frame_end(bytes::buffer& out, size_t begin) {
  size_t payload = out.size() - begin - sizeof(uint32_t);
  TERN_CHECK(payload <= std::numeric_limits<uint32_t>::max());
  bytes::byte_writer w(out);
  w.patch_be<uint32_t>(begin, uint32_t(payload));
  w.u8(frame_end);
}

void write_frame(bytes::buffer& out, frame_type type, uint16_t channel, bytes::byte_view payload) {
  size_t at = write_frame_begin(out, type, channel);
  out.insert(out.end(), payload.begin(), payload.end());
  write_frame_end(out, at);
}

void write_heartbeat(bytes::buffer& out) { write_frame(out, frame_type::heartbeat, 0, {}); }

void write_body_frames(bytes::buffer& out, uint16_t channel, bytes::byte_view body,
                       uint32_t frame_max) {
  size_t max = max_frame_payload(frame_max);
  while (!body.empty()) {
    size_t n = std::min(body.size(), max);
    write_frame(out, frame_type::body, channel, body.first(n));
    body = body.subspan(n);
  }
}

}  // namespace tern::amqp
