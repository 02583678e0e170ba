#pragma once
// A whole message as it goes to a client: a content-bearing method (basic.deliver,
// basic.get-ok, basic.return; basic.publish from a client), its content header and its body
// frames, all on one channel, back to back as the spec requires.
//
//   bytes::buffer out;
//   write_message(out, channel,
//                 basic_deliver{.consumer_tag = tag, .delivery_tag = 7, .routing_key = rk},
//                 stored_raw_properties, body, frame_max);

#include "amqp/codec/content_header.h"
#include "amqp/codec/frame.h"
#include "amqp/codec/method.h"

namespace tern::amqp {

// With properties kept verbatim (content_header::raw_properties of the publish).
template <class M>
void write_message(bytes::buffer& out, uint16_t channel, const M& m,
                   bytes::byte_view raw_properties, bytes::byte_view body, uint32_t frame_max) {
  static_assert(M::traits.content, "only content-bearing methods carry a message");
  write_method_frame(out, channel, m);
  write_content_header_frame(out, channel, body.size(), raw_properties);
  write_body_frames(out, channel, body, frame_max);
}

// With properties built by the broker.
template <class M>
void write_message(bytes::buffer& out, uint16_t channel, const M& m, const basic_properties& p,
                   bytes::byte_view body, uint32_t frame_max) {
  static_assert(M::traits.content, "only content-bearing methods carry a message");
  write_method_frame(out, channel, m);
  write_content_header_frame(out, channel, body.size(), p);
  write_body_frames(out, channel, body, frame_max);
}

}  // namespace tern::amqp
