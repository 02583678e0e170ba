#include "amqp/codec/content_header.h"

#include <type_traits>

#include "amqp/codec/frame.h"

namespace tern::amqp {
namespace {

constexpr size_t kFixedSize = 12;  // class-id, weight, body-size

// Reads the present properties, in flag order. The first failure wins.
struct property_reader {
  bytes::byte_reader& r;
  uint16_t flags;
  int index = 0;
  error err;
  bool failed = false;

  template <class T>
  void operator()(std::string_view name, std::optional<T>& p) {
    bool present = flags & (1u << (15 - index++));
    if (!present || failed) return;
    if constexpr (std::is_same_v<T, std::string>) {
      bytes::byte_view b = r.bytes(r.u8());
      if (r.ok()) p.emplace(bytes::as_chars(b));
    } else if constexpr (std::is_same_v<T, field_table>) {
      error e;
      if (!detail::read_table(r, p.emplace(), e)) {
        return fail(e.code, "property '" + std::string(name) + "': " + e.text);
      }
    } else {
      p = r.read_be<T>();
    }
    if (!r.ok())
      fail(reply_code::frame_error, "input ends inside property '" + std::string(name) + "'");
  }

  void fail(reply_code code, std::string text) {
    if (failed) return;
    failed = true;
    err = error{code, std::move(text)};
    r.fail();
  }
};

struct flags_collector {
  uint16_t flags = 0;
  int index = 0;
  template <class T>
  void operator()(std::string_view, const std::optional<T>& p) {
    if (p) flags |= uint16_t(1u << (15 - index));
    ++index;
  }
};

struct property_writer {
  bytes::buffer& out;
  template <class T>
  void operator()(std::string_view, const std::optional<T>& p) {
    if (!p) return;
    bytes::byte_writer w(out);
    if constexpr (std::is_same_v<T, std::string>) {
      std::string_view s = std::string_view(*p).substr(0, 255);  // a shortstr cannot say more
      w.u8(uint8_t(s.size()));
      w.bytes(s);
    } else if constexpr (std::is_same_v<T, field_table>) {
      encode_field_table(*p, out);
    } else {
      w.write_be<T>(*p);
    }
  }
};

// basic_properties::visit takes a non-const visitor and fields; these walk a const one.
template <class V>
struct const_adapter {
  V& v;
  template <class T>
  void operator()(std::string_view name, T& field) {
    v(name, static_cast<const T&>(field));
  }
};

template <class V>
void visit_const(const basic_properties& p, V& v) {
  const_adapter<V> a{v};
  const_cast<basic_properties&>(p).visit(a);  // visit only reads through the adapter
}

error frame_error(std::string text) { return error{reply_code::frame_error, std::move(text)}; }

}  // namespace

outcome<basic_properties> decode_basic_properties(bytes::byte_view raw) {
  bytes::byte_reader r(raw);
  uint16_t flags = r.u16();
  if (!r.ok()) return frame_error("input ends inside property flags");
  // Bit 1 would be a 15th basic property; bit 0 says another flags word follows, whose bits
  // 15..1 would be properties 16 to 30. Basic defines none of them.
  bool more = flags & 1;
  if (flags & 2) return error{reply_code::syntax_error, "unknown basic property flag 0x0002"};
  while (more) {
    uint16_t next = r.u16();
    if (!r.ok()) return frame_error("input ends inside property flags");
    if (next & 0xfffe) {
      return error{reply_code::syntax_error, "unknown basic property flags in a continuation word"};
    }
    more = next & 1;
  }
  basic_properties p;
  property_reader pr{.r = r, .flags = flags};
  p.visit(pr);
  if (pr.failed) return std::move(pr.err);
  if (!r.empty()) {
    return frame_error(std::to_string(r.remaining()) + " bytes after the last property");
  }
  return p;
}

outcome<content_header> decode_content_header(bytes::byte_view payload) {
  if (payload.size() < kFixedSize + 2) {
    return frame_error("content header payload of " + std::to_string(payload.size()) +
                       " bytes is shorter than 14");
  }
  bytes::byte_reader r(payload);
  content_header h;
  h.class_id = r.u16();
  h.weight = r.u16();
  h.body_size = r.u64();
  if (h.class_id != basic_class_id) {
    return error{reply_code::unexpected_frame, "content header for class " +
                                                   std::to_string(h.class_id) +
                                                   "; only basic (60) carries content"};
  }
  if (h.weight != 0) {
    return error{reply_code::unexpected_frame,
                 "content header with weight " + std::to_string(h.weight) + ", not 0"};
  }
  h.raw_properties = payload.subspan(kFixedSize);
  auto p = decode_basic_properties(h.raw_properties);
  if (!p) {
    error e = std::move(p).error();
    e.text = "cannot decode content header: " + e.text;
    return e;
  }
  h.properties = std::move(*p);
  return h;
}

void encode_basic_properties(const basic_properties& p, bytes::buffer& out) {
  flags_collector fc;
  visit_const(p, fc);
  bytes::byte_writer(out).u16(fc.flags);
  property_writer pw{out};
  visit_const(p, pw);
}

void encode_content_header(uint64_t body_size, const basic_properties& p, bytes::buffer& out) {
  bytes::byte_writer w(out);
  w.u16(basic_class_id);
  w.u16(0);
  w.u64(body_size);
  encode_basic_properties(p, out);
}

void encode_content_header(uint64_t body_size, bytes::byte_view raw_properties,
                           bytes::buffer& out) {
  bytes::byte_writer w(out);
  w.u16(basic_class_id);
  w.u16(0);
  w.u64(body_size);
  w.bytes(raw_properties);
}

void write_content_header_frame(bytes::buffer& out, uint16_t channel, uint64_t body_size,
                                const basic_properties& p) {
  size_t at = write_frame_begin(out, frame_type::header, channel);
  encode_content_header(body_size, p, out);
  write_frame_end(out, at);
}

void write_content_header_frame(bytes::buffer& out, uint16_t channel, uint64_t body_size,
                                bytes::byte_view raw_properties) {
  size_t at = write_frame_begin(out, frame_type::header, channel);
  encode_content_header(body_size, raw_properties, out);
  write_frame_end(out, at);
}

std::string to_debug_string(const basic_properties& p) {
  std::string out = "{";
  bool first = true;
  auto print = [&](std::string_view name, const auto& prop) {
    if (!prop) return;
    using T = std::decay_t<decltype(*prop)>;
    if (!first) out += ", ";
    first = false;
    out += name;
    out += '=';
    if constexpr (std::is_same_v<T, std::string>) {
      detail::append_quoted(out, *prop);
    } else if constexpr (std::is_same_v<T, field_table>) {
      out += to_debug_string(*prop);
    } else {
      out += std::to_string(*prop);
    }
  };
  visit_const(p, print);
  out += '}';
  return out;
}

}  // namespace tern::amqp
