#include "http/codec/writer.h"

namespace tern::http {
namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  for (char c : value) out += (c == '\r' || c == '\n') ? ' ' : c;
  out += "\r\n";
}

bool has_body(int status) { return status >= 200 && status != 204 && status != 304; }

}  // namespace

std::string write_response(const response& r, bool keep_alive) {
  std::string out;
  out.reserve(128 + r.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += reason_phrase(r.status);
  out += "\r\n";
  for (auto& [name, value] : r.headers.fields) {
    if (iequals(name, "content-length") || iequals(name, "connection")) continue;
    append_field(out, name, value);
  }
  if (has_body(r.status)) append_field(out, "Content-Length", std::to_string(r.body.size()));
  if (!keep_alive) append_field(out, "Connection", "close");
  out += "\r\n";
  if (has_body(r.status)) out += r.body;
  return out;
}

std::string write_request(std::string_view method, std::string_view target, std::string_view host,
                          const header_fields& headers, std::string_view body) {
  std::string out;
  out.reserve(128 + body.size());
  out += method;
  out += ' ';
  out += target;
  out += " HTTP/1.1\r\n";
  append_field(out, "Host", host);
  for (auto& [name, value] : headers.fields) {
    if (iequals(name, "content-length") || iequals(name, "host")) continue;
    append_field(out, name, value);
  }
  if (!body.empty() || method == "PUT" || method == "POST")
    append_field(out, "Content-Length", std::to_string(body.size()));
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace tern::http
