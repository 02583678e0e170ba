#pragma once
// Sans-I/O HTTP/1.1 parsers (RFC 9112): bytes in, `request` / `response` out. They never
// read a socket, never block and resume wherever the input was cut.
//
//   request_parser p;
//   size_t used = p.feed(bytes);          // may stop early: the rest is the next request
//   if (p.failed())   -> answer p.error().status with Connection: close, then close
//   if (p.complete()) -> handle p.take(); feed the unused bytes again
//
// Bounds, checked before anything is allocated for them (the peer is not trusted):
//   request line + header fields  <= limits.max_head_bytes (16 KiB)    else 431 (414 when the
//                                                                       request line alone is)
//   header fields                 <= limits.max_headers (100)          else 431
//   body (Content-Length)         <= limits.max_body_bytes (1 MiB)     else 413
// Other errors: a malformed request line or field, a missing or repeated Host (HTTP/1.1), a
// bad or conflicting Content-Length, obsolete line folding -> 400; Transfer-Encoding (no
// chunked request bodies here) -> 501; an HTTP major version other than 1 -> 505.
//
// Leniency, as RFC 9112 allows: empty lines before the request line are skipped and a bare LF
// ends a line like CRLF does. Nothing else is guessed at.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/codec/message.h"

namespace tern::http {

struct parser_limits {
  size_t max_head_bytes = 16 * 1024;
  size_t max_body_bytes = 1 << 20;
  size_t max_headers = 100;
};

struct parse_error {
  int status = 400;    // the HTTP status to answer with
  std::string reason;  // one line for the log and the error body
};

// Collects a message head (start line + fields) up to its empty line, within a byte limit.
class head_buffer {
 public:
  // Takes bytes up to the end of the head; returns how many were used. `done()` once the
  // empty line is in; `overflow()` if max_bytes passed without it.
  size_t feed(std::string_view data, size_t max_bytes);
  bool done() const { return _done; }
  bool overflow() const { return _overflow; }
  bool started() const { return _skipped > 0 || !_text.empty(); }
  // Whether a line ending has been seen (to tell a long request line from long fields).
  bool has_line() const { return _line_start > 0; }
  // The head without its final empty line; lines end in LF or CRLF.
  std::string_view text() const { return std::string_view(_text).substr(0, _head_end); }
  void reset();

 private:
  std::string _text;
  size_t _scan = 0;        // where the search for the next LF resumes
  size_t _line_start = 0;  // start of the line being scanned
  size_t _head_end = 0;
  size_t _skipped = 0;  // empty lines before the start line
  bool _done = false;
  bool _overflow = false;
};

class request_parser {
 public:
  explicit request_parser(parser_limits limits = {}) : _limits(limits) {}

  // Consumes bytes of the current request; returns how many. Stops at the end of a complete
  // request (what follows belongs to the next one) and at an error.
  size_t feed(std::string_view data);

  bool complete() const { return _state == state::complete; }
  bool failed() const { return _state == state::failed; }
  // The head has been read and its body is still arriving.
  bool reading_body() const { return _state == state::body; }
  // Some byte of a request has arrived (the peer is no longer idle).
  bool started() const { return _state != state::head || _head.started(); }
  const parse_error& error() const { return _error; }
  // Once the head is in: the request so far (body partial while reading_body()).
  const request& peek() const { return _request; }
  // Hands over the complete request and gets ready for the next one.
  request take();
  void reset();

 private:
  enum class state { head, body, complete, failed };
  size_t fail(int status, std::string reason, size_t used);
  bool parse_head();  // false: failed, _error set

  parser_limits _limits;
  state _state = state::head;
  head_buffer _head;
  request _request;
  size_t _body_left = 0;
  parse_error _error;
};

// The client side (tern queue/vhost commands): a response to a request that was not HEAD.
// Its body is delimited by Content-Length or, without one, by the end of the connection
// (finish()). Chunked bodies are refused: Tern's server never sends them. 1xx responses are
// skipped.
class response_parser {
 public:
  explicit response_parser(size_t max_head_bytes = 64 * 1024, size_t max_body_bytes = 64u << 20)
      : _max_head(max_head_bytes), _max_body(max_body_bytes) {}

  size_t feed(std::string_view data);
  // The peer closed the connection: completes a close-delimited body, else fails.
  void finish();
  bool complete() const { return _state == state::complete; }
  bool failed() const { return _state == state::failed; }
  const std::string& error() const { return _error; }
  const response& get() const { return _response; }
  // The connection may carry another request (HTTP/1.1 without "Connection: close").
  bool keep_alive() const { return _keep_alive; }

 private:
  enum class state { head, body, body_to_close, complete, failed };
  size_t fail(std::string reason, size_t used);
  bool parse_head();

  size_t _max_head;
  size_t _max_body;
  state _state = state::head;
  head_buffer _head;
  response _response;
  size_t _body_left = 0;
  bool _keep_alive = true;
  std::string _error;
};

}  // namespace tern::http
