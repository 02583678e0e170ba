#include "http/codec/parser.h"

#include <algorithm>

namespace tern::http {
namespace {

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(c); });
}

// Field value characters: VCHAR, obs-text, SP and HTAB (RFC 9110 5.5). CR, LF, NUL and the
// other controls are refused: they are how header injection and request smuggling start.
bool is_field_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Cuts the next line (without LF and a CR before it) off `rest`.
bool next_line(std::string_view& rest, std::string_view& line) {
  if (rest.empty()) return false;
  size_t lf = rest.find('\n');
  line = rest.substr(0, lf);
  rest.remove_prefix(lf == std::string_view::npos ? rest.size() : lf + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return true;
}

// Reads the field lines after the start line. Returns "" or what is wrong; *too_many when the
// count limit was the problem.
std::string parse_fields(std::string_view rest, header_fields& out, size_t max_fields,
                         bool* too_many) {
  std::string_view line;
  while (next_line(rest, line)) {
    if (line.empty()) continue;  // only the head's end, which text() leaves out
    if (line.front() == ' ' || line.front() == '\t') return "obsolete line folding in a header";
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return "header line without ':'";
    std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return "malformed header name";
    std::string_view value = trim_ows(line.substr(colon + 1));
    for (unsigned char c : value)
      if (!is_field_char(c)) return "invalid character in header " + std::string(name);
    if (out.fields.size() >= max_fields) {
      *too_many = true;
      return "more than " + std::to_string(max_fields) + " header fields";
    }
    out.add(std::string(name), std::string(value));
  }
  return {};
}

// The Content-Length of `fields`: every occurrence (each may be a list, "5, 5") must be the
// same decimal number. -1 = absent, -2 = malformed or conflicting, -3 = above `max`.
int64_t content_length(const header_fields& fields, size_t max) {
  int64_t found = -1;
  for (auto& [name, value] : fields.fields) {
    if (!iequals(name, "content-length")) continue;
    std::string_view rest = value;
    while (true) {
      size_t comma = rest.find(',');
      std::string_view item = trim_ows(rest.substr(0, comma));
      if (item.empty() || item.size() > 18) return item.empty() ? -2 : -3;
      int64_t n = 0;
      for (char c : item) {
        if (c < '0' || c > '9') return -2;
        n = n * 10 + (c - '0');
      }
      if (found >= 0 && n != found) return -2;
      found = n;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (found > int64_t(max)) return -3;
  return found;
}

// "HTTP/d.d" -> major, minor; false if not that shape.
bool parse_version(std::string_view v, int& major, int& minor) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.') return false;
  if (v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') return false;
  major = v[5] - '0';
  minor = v[7] - '0';
  return true;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace

// ---- head_buffer --------------------------------------------------------------------------

size_t head_buffer::feed(std::string_view data, size_t max_bytes) {
  if (_done || _overflow) return 0;
  size_t used = 0;
  // RFC 9112 2.2: empty lines before the start line are ignored (they count toward the limit).
  while (_text.empty() && used < data.size() && (data[used] == '\r' || data[used] == '\n')) {
    ++used;
    if (++_skipped >= max_bytes) {
      _overflow = true;
      return used;
    }
  }
  size_t have = _text.size() + _skipped;
  size_t room = max_bytes > have ? max_bytes - have : 0;
  size_t take = std::min(room, data.size() - used);
  _text.append(data.data() + used, take);
  while (true) {
    size_t lf = _text.find('\n', _scan);
    if (lf == std::string::npos) {
      _scan = _text.size();
      break;
    }
    size_t end = lf;
    if (end > _line_start && _text[end - 1] == '\r') --end;
    if (end == _line_start) {  // the empty line: the head is complete
      _done = true;
      _head_end = _line_start;
      size_t extra = _text.size() - (lf + 1);  // bytes of the body or the next message
      _text.resize(lf + 1);
      return used + take - extra;
    }
    _line_start = _scan = lf + 1;
  }
  used += take;
  if (_text.size() + _skipped >= max_bytes) _overflow = true;
  return used;
}

void head_buffer::reset() {
  _text.clear();
  _scan = _line_start = _head_end = _skipped = 0;
  _done = _overflow = false;
}

// ---- request_parser -----------------------------------------------------------------------

size_t request_parser::fail(int status, std::string reason, size_t used) {
  _state = state::failed;
  _error = {status, std::move(reason)};
  return used;
}

size_t request_parser::feed(std::string_view data) {
  size_t used = 0;
  if (_state == state::head) {
    used = _head.feed(data, _limits.max_head_bytes);
    if (_head.overflow()) {
      if (!_head.has_line()) return fail(414, "request line too long", used);
      return fail(
          431,
          "request line and headers exceed " + std::to_string(_limits.max_head_bytes) + " bytes",
          used);
    }
    if (!_head.done()) return used;
    if (!parse_head()) return used;
    if (_body_left == 0) {
      _state = state::complete;
      return used;
    }
    _state = state::body;
    _request.body.reserve(_body_left);  // bounded by max_body_bytes in parse_head
  }
  if (_state == state::body) {
    size_t n = std::min(_body_left, data.size() - used);
    _request.body.append(data.data() + used, n);
    used += n;
    _body_left -= n;
    if (_body_left == 0) _state = state::complete;
  }
  return used;
}

bool request_parser::parse_head() {
  std::string_view rest = _head.text();
  std::string_view line;
  next_line(rest, line);
  // request-line = method SP request-target SP HTTP-version
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    fail(400, "malformed request line", 0);
    return false;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  int major = 0, minor = 0;
  if (!is_token(method) || target.empty() || !parse_version(version, major, minor)) {
    fail(400, "malformed request line", 0);
    return false;
  }
  for (unsigned char c : target)
    if (c <= 0x20 || c >= 0x7f) {
      fail(400, "invalid character in the request target", 0);
      return false;
    }
  if (major != 1) {
    fail(505, "HTTP/" + std::string(1, char('0' + major)) + " is not supported", 0);
    return false;
  }
  _request.method = std::string(method);
  _request.target = std::string(target);
  _request.version_minor = std::min(minor, 1);

  // origin-form "/p?q"; absolute-form "http://host/p?q" (RFC 9112 3.2.2: must be accepted);
  // asterisk-form "*" (OPTIONS; no route has it).
  std::string_view path = target;
  if (target.front() != '/' && target != "*") {
    size_t scheme = starts_with_ci(target, "http://")    ? 7
                    : starts_with_ci(target, "https://") ? 8
                                                         : 0;
    if (scheme == 0) {
      fail(400, "request target is not a path", 0);
      return false;
    }
    size_t slash = target.find_first_of("/?", scheme);
    path = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    if (path.front() == '?') {
      _request.path = "/";
      _request.query = std::string(path.substr(1));
      path = {};
    }
  }
  if (!path.empty()) {
    size_t q = path.find('?');
    _request.path = std::string(path.substr(0, q));
    _request.query = q == std::string_view::npos ? "" : std::string(path.substr(q + 1));
  }

  bool too_many = false;
  if (auto e = parse_fields(rest, _request.headers, _limits.max_headers, &too_many); !e.empty()) {
    fail(too_many ? 431 : 400, std::move(e), 0);
    return false;
  }
  auto& h = _request.headers;
  if (_request.version_minor == 1 && h.count("host") != 1) {
    fail(400, h.count("host") == 0 ? "missing Host header" : "more than one Host header", 0);
    return false;
  }
  if (h.find("transfer-encoding")) {
    fail(501, "Transfer-Encoding is not supported; send a Content-Length", 0);
    return false;
  }
  int64_t length = content_length(h, _limits.max_body_bytes);
  if (length == -2) {
    fail(400, "malformed Content-Length", 0);
    return false;
  }
  if (length == -3) {
    fail(413, "body larger than " + std::to_string(_limits.max_body_bytes) + " bytes", 0);
    return false;
  }
  _body_left = length < 0 ? 0 : size_t(length);

  const std::string* connection = h.find("connection");
  if (_request.version_minor == 1)
    _request.keep_alive = !(connection && has_token(*connection, "close"));
  else
    _request.keep_alive = connection && has_token(*connection, "keep-alive");
  const std::string* expect = h.find("expect");
  _request.expects_continue = expect && iequals(*expect, "100-continue");
  return true;
}

request request_parser::take() {
  request r = std::move(_request);
  reset();
  return r;
}

void request_parser::reset() {
  _state = state::head;
  _head.reset();
  _request = {};
  _body_left = 0;
  _error = {};
}

// ---- response_parser ----------------------------------------------------------------------

size_t response_parser::fail(std::string reason, size_t used) {
  _state = state::failed;
  _error = std::move(reason);
  return used;
}

size_t response_parser::feed(std::string_view data) {
  size_t used = 0;
  while (_state == state::head) {
    used += _head.feed(data.substr(used), _max_head);
    if (_head.overflow()) return fail("response head too large", used);
    if (!_head.done()) return used;
    if (!parse_head()) return used;
    if (_response.status >= 100 && _response.status < 200) {  // 100 Continue and friends
      _head.reset();
      _response = {};
      _state = state::head;
    }
  }
  if (_state == state::body || _state == state::body_to_close) {
    size_t n = data.size() - used;
    if (_state == state::body) n = std::min(n, _body_left);
    if (_state == state::body_to_close && _response.body.size() + n > _max_body)
      return fail("response body too large", used);
    _response.body.append(data.data() + used, n);
    used += n;
    if (_state == state::body) {
      _body_left -= n;
      if (_body_left == 0) _state = state::complete;
    }
  }
  return used;
}

void response_parser::finish() {
  if (_state == state::body_to_close) {
    _state = state::complete;
    _keep_alive = false;
  } else if (_state != state::complete && _state != state::failed) {
    fail("connection closed before the response was complete", 0);
  }
}

bool response_parser::parse_head() {
  std::string_view rest = _head.text();
  std::string_view line;
  next_line(rest, line);
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]
  int major = 0, minor = 0;
  if (line.size() < 12 || !parse_version(line.substr(0, 8), major, minor) || line[8] != ' ' ||
      major != 1) {
    fail("malformed status line", 0);
    return false;
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      fail("malformed status line", 0);
      return false;
    }
    status = status * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') {
    fail("malformed status line", 0);
    return false;
  }
  _response.status = status;
  bool too_many = false;
  if (auto e = parse_fields(rest, _response.headers, 1000, &too_many); !e.empty()) {
    fail(e, 0);
    return false;
  }
  if (_response.headers.find("transfer-encoding")) {
    fail("chunked responses are not supported", 0);
    return false;
  }
  const std::string* connection = _response.headers.find("connection");
  _keep_alive = minor >= 1 ? !(connection && has_token(*connection, "close"))
                           : connection && has_token(*connection, "keep-alive");
  if (status < 200 || status == 204 || status == 304) {
    _state = state::complete;
    return true;
  }
  int64_t length = content_length(_response.headers, _max_body);
  if (length == -2 || length == -3) {
    fail(length == -2 ? "malformed Content-Length" : "response body too large", 0);
    return false;
  }
  if (length < 0) {
    _state = state::body_to_close;
    _keep_alive = false;
  } else if (length == 0) {
    _state = state::complete;
  } else {
    _body_left = size_t(length);
    _state = state::body;
    _response.body.reserve(_body_left);
  }
  return true;
}

}  // namespace tern::http
