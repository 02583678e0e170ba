// libFuzzer target for the Kafka request codec: a frame (without its size prefix) is read as
// a request header, then as the body of whatever API and version the header names, for every
// API Tern describes. The body is also read as that API's response (the CLI decodes those
// from brokers it does not control).
//
// Beyond "no crash, no leak, no undefined behaviour" it checks a property: whatever decodes
// must re-encode, the re-encoding must decode, and encoding that again must give the same
// bytes (one round may normalise, e.g. a bool byte 7 becomes 1; after that it is stable).

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "kafka/codec/apis.h"

using namespace tern;
using namespace tern::kafka;

namespace {

template <class M>
bytes::buffer encode(const M& m, int16_t version) {
  bytes::chunked_buffer out;
  detail::encode_message(m, version, out);
  bytes::buffer flat;
  if (!out.flatten(flat)) std::abort();  // no file ranges here: cannot fail
  return flat;
}

template <class M>
void check_message(bytes::byte_reader body, int16_t version) {
  auto m = detail::decode_message<M>(body, version);
  if (!m) return;
  bytes::buffer once = encode(*m, version);
  bytes::byte_reader again(once);
  auto m2 = detail::decode_message<M>(again, version);
  if (!m2) {
    std::fprintf(stderr, "re-encoded message does not decode: %s\n", m2.error().message().c_str());
    std::abort();
  }
  if (encode(*m2, version) != once) {
    std::fprintf(stderr, "encoding is not stable\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bytes::byte_reader r(bytes::byte_view(data, size));
  auto h = decode_request_header(r);
  if (!h) return 0;
  visit_api(h->key, [&](auto tag) {
    using api = typename decltype(tag)::type;
    check_message<typename api::request>(r, h->version);
    check_message<typename api::response>(r, h->version);
  });
  // The header itself must round-trip (client_id and all).
  bytes::chunked_buffer out;
  encode_request_header(*h, out);
  bytes::buffer flat;
  (void)out.flatten(flat);
  bytes::byte_reader hr(flat);
  auto h2 = decode_request_header(hr);
  if (!h2 || h2->correlation_id != h->correlation_id || h2->client_id != h->client_id ||
      !hr.empty())
    std::abort();
  return 0;
}
