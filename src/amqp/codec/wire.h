#pragma once
// The one generic decoder and encoder of method arguments that every description (schema.h)
// goes through. Internal to the codec: callers use method.h.
//
// Bits: consecutive bool arguments share an octet, the first in the least significant bit
// (exchange.declare's passive, durable, auto-delete, internal, nowait = 0b000ndiap). Unused
// bits of such an octet are ignored when reading and written as zero.

#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "amqp/codec/errors.h"
#include "amqp/codec/field_table.h"
#include "amqp/codec/schema.h"
#include "base/check.h"
#include "bytes/buffer.h"

namespace tern::amqp::wire {

// Reads the arguments of one method. After m.visit(reader), call finish(): it reports the
// first failure, or bytes left over (both 501, as RabbitMQ's "cannot decode"), or an
// illegal value inside a table (502).
class arg_reader {
 public:
  explicit arg_reader(bytes::byte_reader& r) : _r(r) {}

  template <class T>
  void operator()(std::string_view name, T& f, arg_type t = default_arg_type<T>()) {
    if (_failed) return;
    if constexpr (std::is_same_v<T, bool>) {
      if (_bit == 8) {
        _bits = _r.u8();
        _bit = 0;
      }
      f = ((_bits >> _bit) & 1) != 0;
      ++_bit;
    } else {
      _bit = 8;  // any other argument closes a run of bits
      if constexpr (std::is_integral_v<T>) {
        f = _r.read_be<T>();
      } else if constexpr (std::is_same_v<T, std::string>) {
        size_t n = t == arg_type::longstr ? _r.u32() : _r.u8();
        bytes::byte_view b = _r.bytes(n);  // fails without allocating when n > remaining
        if (_r.ok()) f.assign(bytes::as_chars(b));
      } else {
        static_assert(std::is_same_v<T, field_table>);
        error e;
        if (!detail::read_table(_r, f, e)) {
          return fail(e.code, "argument '" + std::string(name) + "': " + e.text);
        }
      }
    }
    if (!_r.ok())
      fail(reply_code::frame_error, "input ends inside argument '" + std::string(name) + "'");
  }

  // The first error, or bytes left after the last argument; nullopt when all is well.
  std::optional<error> finish() {
    if (!_failed && !_r.empty()) {
      fail(reply_code::frame_error,
           std::to_string(_r.remaining()) + " bytes after the last argument");
    }
    if (!_failed) return std::nullopt;
    return _err;
  }

 private:
  void fail(reply_code code, std::string text) {
    if (_failed) return;
    _failed = true;
    _err = error{code, std::move(text)};
    _r.fail();
  }

  bytes::byte_reader& _r;
  uint8_t _bits = 0;
  int _bit = 8;  // next bit of _bits; 8 = no open octet
  bool _failed = false;
  error _err;
};

// Appends the arguments of one method to a buffer: m.visit(writer) on a const_cast method
// (visit only reads through a writer).
class arg_writer {
 public:
  explicit arg_writer(bytes::buffer& out) : _out(out) {}

  template <class T>
  void operator()(std::string_view, T& f, arg_type t = default_arg_type<T>()) {
    bytes::byte_writer w(_out);
    if constexpr (std::is_same_v<T, bool>) {
      if (_bit == 8) {
        _at = _out.size();
        w.u8(0);
        _bit = 0;
      }
      if (f) _out[_at] |= uint8_t(1u << _bit);
      ++_bit;
    } else {
      _bit = 8;
      if constexpr (std::is_integral_v<T>) {
        w.write_be<T>(f);
      } else if constexpr (std::is_same_v<T, std::string>) {
        std::string_view s = f;
        if (t == arg_type::longstr) {
          TERN_CHECK(s.size() <= std::numeric_limits<uint32_t>::max());
          w.u32(uint32_t(s.size()));
        } else {
          // Names are validated by handlers; only Tern's own texts could be longer, and a
          // cut text is better than a wrong length.
          s = s.substr(0, 255);
          w.u8(uint8_t(s.size()));
        }
        w.bytes(s);
      } else {
        static_assert(std::is_same_v<T, field_table>);
        encode_field_table(f, _out);
      }
    }
  }

 private:
  bytes::buffer& _out;
  size_t _at = 0;  // the octet the open run of bits goes to
  int _bit = 8;
};

// Decodes the arguments of M from `args` (the method payload after class and method ids).
template <class M>
outcome<M> decode_args(bytes::byte_view args) {
  M m{};
  bytes::byte_reader r(args);
  arg_reader reader(r);
  m.visit(reader);
  if (auto e = reader.finish()) {
    e->text = "cannot decode " + std::string(M::traits.name) + ": " + e->text;
    e->class_id = M::traits.class_id;
    e->method_id = M::traits.method_id;
    return std::move(*e);
  }
  return m;
}

// Appends class id, method id and the arguments of m.
template <class M>
void encode_method_payload(const M& m, bytes::buffer& out) {
  bytes::byte_writer w(out);
  w.u16(M::traits.class_id);
  w.u16(M::traits.method_id);
  arg_writer writer(out);
  const_cast<M&>(m).visit(writer);
}

}  // namespace tern::amqp::wire
