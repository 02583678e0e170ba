// libFuzzer target for the HTTP/1.1 codec (src/http/codec). The input is what a client might
// send on one connection: requests back to back.
//
// Beyond "no crash, no leak, no undefined behaviour" it checks properties:
//   - resumability: parsing the input whole and parsing it cut into pieces (sizes taken from
//     the input itself) give the same requests and the same error;
//   - bounds: a body never exceeds max_body_bytes, an error is one of the statuses the parser
//     documents, and the parser never claims more bytes than it was given;
//   - round trip: a parsed request written again with write_request parses to the same
//     method, target and body.
// The input also goes to the response parser, the %-decoder, split_path and parse_query.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/codec/parser.h"
#include "http/codec/uri.h"
#include "http/codec/writer.h"

using namespace tern::http;

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "http_request_fuzz: %s\n", what);
  std::abort();
}

struct outcome {
  std::vector<request> requests;
  int error = 0;  // 0: none
};

parser_limits small_limits() {
  parser_limits l;
  l.max_head_bytes = 4096;  // small, so the fuzzer reaches the limits
  l.max_body_bytes = 1024;
  l.max_headers = 20;
  return l;
}

// Parses `in` feeding pieces of the given sizes (cycled; 0 = the rest at once).
outcome parse(std::string_view in, const std::vector<size_t>& cuts) {
  outcome out;
  request_parser p(small_limits());
  size_t pos = 0, cut = 0;
  while (pos < in.size()) {
    size_t n =
        cuts.empty() || cuts[cut % cuts.size()] == 0 ? in.size() - pos : cuts[cut % cuts.size()];
    ++cut;
    n = std::min(n, in.size() - pos);
    size_t used = p.feed(in.substr(pos, n));
    if (used > n) die("feed consumed more than it was given");
    pos += used;
    if (p.failed()) {
      out.error = p.error().status;
      switch (out.error) {
        case 400:
        case 413:
        case 414:
        case 431:
        case 501:
        case 505:
          break;
        default:
          die("unexpected error status");
      }
      return out;
    }
    if (p.complete()) {
      request r = p.take();
      if (r.body.size() > small_limits().max_body_bytes) die("body above the limit");
      if (r.method.empty() || r.target.empty()) die("empty method or target");
      out.requests.push_back(std::move(r));
      if (out.requests.size() > 64) return out;
    } else if (used < n) {
      die("stopped early without completing or failing");
    }
  }
  return out;
}

void round_trip(const request& r) {
  header_fields fields;
  for (auto& [k, v] : r.headers.fields)
    if (!iequals(k, "host") && !iequals(k, "content-length") && !iequals(k, "transfer-encoding"))
      fields.add(k, v);
  const std::string* host = r.headers.find("host");
  std::string text = write_request(r.method, r.target, host ? *host : "h", fields, r.body);
  request_parser p(small_limits());
  size_t used = p.feed(text);
  if (!p.complete()) {
    // Re-adding a Content-Length or Host may push a head that was just under the limit over.
    if (p.failed() && (p.error().status == 431 || p.error().status == 414)) return;
    die("round trip does not parse");
  }
  if (used != text.size()) die("round trip left bytes over");
  request back = p.take();
  if (back.method != r.method || back.target != r.target || back.body != r.body)
    die("round trip changed the request");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  outcome whole = parse(in, {});
  std::vector<size_t> cuts;
  for (size_t i = 0; i < std::min<size_t>(size, 8); ++i) cuts.push_back(1 + data[i] % 7);
  outcome pieces = parse(in, cuts);
  if (whole.error != pieces.error || whole.requests.size() != pieces.requests.size())
    die("parsing in pieces differs from parsing whole");
  for (size_t i = 0; i < whole.requests.size(); ++i) {
    auto& a = whole.requests[i];
    auto& b = pieces.requests[i];
    if (a.method != b.method || a.target != b.target || a.body != b.body ||
        a.headers.fields != b.headers.fields || a.keep_alive != b.keep_alive)
      die("a request parsed in pieces differs");
    round_trip(a);
    (void)split_path(a.path);
    (void)parse_query(a.query);
  }

  response_parser rp(4096, 1024);
  size_t used = rp.feed(in);
  if (used > size) die("response parser consumed too much");
  rp.finish();

  if (auto d = percent_decode(in, true); d && d->size() > size) die("decoding grew the input");
  if (percent_decode(percent_encode(in)) != std::string(in)) die("encode/decode round trip");
  return 0;
}
