#pragma once
// AMQP 0-9-1 frames: the unit everything on a connection travels in.
//
//   0      1         3             7                  7+size
//   +------+---------+-------------+-- ... --+--------+
//   | type | channel | size (u32)  | payload | 0xCE   |
//   +------+---------+-------------+-- ... --+--------+
//
// type: 1 method, 2 content header, 3 content body, 8 heartbeat. A message is a method frame
// (basic.publish, basic.deliver, ...), one content header frame and as many body frames as its
// body needs, all on one channel, never interleaved with other frames of that channel.
//
// decode_frame is sans-I/O and resumable: give it whatever bytes have arrived; it returns
// need_more (and how many bytes at least), a frame viewing the input, or an error. Nothing is
// kept between calls: after need_more, call it again on the same bytes plus what came next.
// The size is checked against frame_max from the 7-byte header alone, before the caller reads
// (or buffers) the payload.

#include <cstddef>
#include <cstdint>

#include "amqp/codec/errors.h"
#include "bytes/buffer.h"

namespace tern::amqp {

enum class frame_type : uint8_t { method = 1, header = 2, body = 3, heartbeat = 8 };

inline constexpr size_t frame_header_size = 7;  // type, channel, size
inline constexpr uint8_t frame_end = 0xCE;
inline constexpr size_t frame_overhead = frame_header_size + 1;
// Every peer must accept frames of this size (header and frame-end included) before tuning,
// and may not tune frame_max below it.
inline constexpr uint32_t frame_min_size = 4096;
// RabbitMQ accepts payloads up to frame_max rather than frame_max - 8, because some clients
// count the frame overhead wrongly; Tern does the same when decoding (never when encoding).
inline constexpr uint32_t frame_size_fudge = frame_overhead;

struct frame {
  frame_type type = frame_type::heartbeat;
  uint16_t channel = 0;
  bytes::byte_view payload;  // a view into the input given to decode_frame
};

enum class frame_status { ok, need_more, error };

struct frame_result {
  frame_status status = frame_status::need_more;
  amqp::frame frame;    // ok: the frame, viewing the input
  size_t consumed = 0;  // ok: bytes the frame took, header to frame-end
  size_t needed = 0;    // need_more: at least this many more bytes are needed
  amqp::error error;    // error: always 501 FRAME_ERROR; close the connection
};

// Decodes the frame at the start of `input`. `frame_max` is the negotiated maximum frame size
// (header and frame-end included); values below frame_min_size, 0 ("no limit") among them,
// count as frame_min_size, so the caller must pass its own ceiling where 0 was negotiated.
// Errors, all 501: a payload over frame_max (see frame_size_fudge), an unknown frame type, a
// heartbeat with a payload, a frame-end octet other than 0xCE. Frame types are checked as
// soon as the header is there; the frame-end once the whole frame is.
frame_result decode_frame(bytes::byte_view input, uint32_t frame_max);

// The largest payload a frame may carry under frame_max, as an encoder must count it
// (frame_max 0 means no limit: the u32 size field's).
uint32_t max_frame_payload(uint32_t frame_max);

// Appends one frame. write_frame_begin/write_frame_end frame a payload written straight into
// `out` in between, without a temporary buffer.
void write_frame(bytes::buffer& out, frame_type type, uint16_t channel, bytes::byte_view payload);
size_t write_frame_begin(bytes::buffer& out, frame_type type, uint16_t channel);
void write_frame_end(bytes::buffer& out, size_t begin);

// A heartbeat: type 8, channel 0, empty payload.
void write_heartbeat(bytes::buffer& out);

// The body of a message as body frames of at most max_frame_payload(frame_max) bytes each;
// nothing for an empty body (a content header with body size 0 has no body frames).
void write_body_frames(bytes::buffer& out, uint16_t channel, bytes::byte_view body,
                       uint32_t frame_max);

}  // namespace tern::amqp
