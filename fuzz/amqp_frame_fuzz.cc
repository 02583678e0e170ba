// libFuzzer target for the AMQP 0-9-1 codec. The input is read as a client would send it
// (an optional protocol header, then frames): every frame that decodes is re-framed, and its
// payload goes to the method or content-header decoder by frame type. The whole input is
// also given straight to the method, content-header and field-table decoders, so mutations
// reach them without having to keep a frame valid.
//
// Beyond "no crash, no leak, no undefined behaviour" it checks properties: whatever decodes
// must re-encode, the re-encoding must decode, and encoding that again must give the same
// bytes (one round may normalise: unused bits of a bit octet, a bool byte 7, a property flags
// continuation word; after that it is stable). Raw properties must go back out verbatim.
// Every error must carry one of the reply codes the codec documents.

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "amqp/codec/content_header.h"
#include "amqp/codec/field_table.h"
#include "amqp/codec/frame.h"
#include "amqp/codec/method.h"
#include "amqp/codec/protocol_header.h"

using namespace tern;
using namespace tern::amqp;

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "amqp_frame_fuzz: %s\n", what);
  std::abort();
}

void check_error(const error& e) {
  switch (e.code) {
    case reply_code::frame_error:
    case reply_code::syntax_error:
    case reply_code::unexpected_frame:
    case reply_code::not_implemented:
      break;
    default:
      die("unexpected reply code");
  }
  if (e.text.empty()) die("error without a text");
}

void check_method(bytes::byte_view payload) {
  auto m = decode_method(payload);
  if (!m) return check_error(m.error());
  (void)to_debug_string(*m);
  (void)nowait(*m);
  const method_traits& t = traits(*m);
  if (find_method(t.class_id, t.method_id) != &t) die("traits lookup disagrees");
  bytes::buffer once = encode_method(*m);
  auto again = decode_method(once);
  if (!again) {
    std::fprintf(stderr, "%s\n", again.error().text.c_str());
    die("re-encoded method does not decode");
  }
  if (again->index() != m->index()) die("re-encoded method decodes as another method");
  if (encode_method(*again) != once) die("method encoding is not stable");
}

void check_content_header(bytes::byte_view payload) {
  auto h = decode_content_header(payload);
  if (!h) return check_error(h.error());
  (void)to_debug_string(h->properties);
  bytes::buffer verbatim;
  encode_content_header(h->body_size, h->raw_properties, verbatim);
  if (!std::equal(verbatim.begin(), verbatim.end(), payload.begin(), payload.end()))
    die("raw properties do not go back out verbatim");
  bytes::buffer once;
  encode_content_header(h->body_size, h->properties, once);
  auto again = decode_content_header(once);
  if (!again) {
    std::fprintf(stderr, "%s\n", again.error().text.c_str());
    die("re-encoded content header does not decode");
  }
  bytes::buffer twice;
  encode_content_header(again->body_size, again->properties, twice);
  if (twice != once) die("content header encoding is not stable");
}

void check_table(bytes::byte_view in) {
  bytes::byte_reader r(in);
  auto t = decode_field_table(r);
  if (!t) return check_error(t.error());
  (void)to_debug_string(*t);
  for (const field_entry& e : t->entries) {
    (void)t->get_int(e.name);
    (void)as_double(e.value);
    (void)type_name(e.value);
  }
  bytes::buffer once = encode_field_table(*t);
  if (once.size() != encoded_size(*t)) die("encoded_size disagrees with the encoding");
  bytes::byte_reader r2(once);
  auto again = decode_field_table(r2);
  if (!again || !r2.empty()) die("re-encoded table does not decode");
  if (encode_field_table(*again) != once) die("table encoding is not stable");
}

void check_frame(const frame& f) {
  bytes::buffer out;
  write_frame(out, f.type, f.channel, f.payload);
  frame_result r = decode_frame(out, 0xffffffff);
  if (r.status != frame_status::ok || r.consumed != out.size() || r.frame.type != f.type ||
      r.frame.channel != f.channel ||
      !std::equal(r.frame.payload.begin(), r.frame.payload.end(), f.payload.begin(),
                  f.payload.end()))
    die("re-framed frame does not decode the same");
  switch (f.type) {
    case frame_type::method:
      check_method(f.payload);
      break;
    case frame_type::header:
      check_content_header(f.payload);
      break;
    case frame_type::body:
    case frame_type::heartbeat:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bytes::byte_view in(data, size);
  if (check_protocol_header(in) == header_status::ok) in = in.subspan(protocol_header.size());

  bytes::byte_view rest = in;
  for (;;) {
    frame_result r = decode_frame(rest, 131072);
    if (r.status == frame_status::error) {
      check_error(r.error);
      break;
    }
    if (r.status == frame_status::need_more) {
      if (r.needed == 0) die("need_more without a count");
      break;
    }
    if (r.consumed == 0 || r.consumed > rest.size()) die("bad consumed count");
    check_frame(r.frame);
    rest = rest.subspan(r.consumed);
  }

  check_method(in);
  check_content_header(in);
  check_table(in);
  return 0;
}
