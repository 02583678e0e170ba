#pragma once
// The one generic decoder and encoder that every message description (schema.h) goes
// through, for any version. Internal to the codec: callers use codec.h.
//
// Flexible versions (KIP-482) are handled here once: compact strings, bytes and arrays carry
// their length as uvarint(length + 1) with 0 for null, and every struct ends with a
// tagged-field section: uvarint count, then per field uvarint tag, uvarint size, bytes.
//
// Untrusted input is bounded before anything is allocated: a string or bytes length must not
// exceed the bytes left, and an array of N elements must fit N times the smallest encoding
// of one element. Nesting is finite because descriptions are not recursive.

#include <algorithm>
#include <cstring>
#include <system_error>

#include "base/check.h"
#include "bytes/buffer.h"
#include "bytes/chunked_buffer.h"
#include "kafka/codec/errors.h"
#include "kafka/codec/schema.h"

namespace tern::kafka::wire {

using schema::described;
using schema::is_array_v;
using schema::is_optional_v;
using schema::is_scalar_v;

// The fewest bytes a value of type T can take on the wire (null or empty where allowed).
template <class T>
size_t min_wire_size(int16_t version, bool flexible);

struct min_size_visitor {
  int16_t version;
  bool flexible;
  size_t total = 0;
  template <class T>
  void operator()(T&, field_opts o = {}) {
    if (o.present(version) && !o.is_tagged()) total += min_wire_size<T>(version, flexible);
  }
};

template <class T>
size_t min_wire_size(int16_t version, bool flexible) {
  if constexpr (is_optional_v<T>) {
    return min_wire_size<typename T::value_type>(version, flexible);
  } else if constexpr (is_scalar_v<T>) {
    return sizeof(T);
  } else if constexpr (std::is_same_v<T, uuid>) {
    return 16;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return flexible ? 1 : 2;
  } else if constexpr (described<T>) {
    min_size_visitor m{version, flexible};
    const_cast<T&>(schema::default_instance<T>()).visit(m);
    return m.total + (flexible ? 1 : 0);  // + the empty tagged-field section
  } else {
    static_assert(is_array_v<T> || std::is_same_v<T, bytes::buffer> || std::is_same_v<T, records>);
    return flexible ? 1 : 4;
  }
}

class decoder {
 public:
  decoder(bytes::byte_reader& r, int16_t version, bool flexible)
      : _r(r), _version(version), _flexible(flexible) {}

  // Called by `visit` for each field: the main pass reads present, untagged fields.
  template <class T>
  void operator()(T& f, field_opts o = {}) {
    if (o.present(_version) && !o.is_tagged()) read(f, o);
  }

  template <described S>
  void read_struct(S& s) {
    s.visit(*this);
    if (_flexible) read_tagged(s);
  }

  // The first error; `truncated` when only the reader failed.
  std::error_code error() const {
    if (_err) return _err;
    if (!_r.ok()) return codec_errc::truncated;
    return {};
  }

 private:
  bool ok() const { return !_err && _r.ok(); }
  void fail(std::error_code ec) {
    if (!_err) _err = ec;
    _r.fail();  // every later read returns zero/empty: the rest of the walk is cheap
  }

  template <class T>
  void read(T& f, field_opts o) {
    if constexpr (is_scalar_v<T>) {
      if constexpr (std::is_same_v<T, bool>) {
        f = _r.u8() != 0;
      } else if constexpr (std::is_same_v<T, double>) {
        f = _r.f64();
      } else {
        f = _r.read_be<T>();
      }
    } else if constexpr (std::is_same_v<T, uuid>) {
      bytes::byte_view b = _r.bytes(16);
      if (b.size() == 16) std::memcpy(f.data(), b.data(), 16);
    } else if constexpr (std::is_same_v<T, std::string>) {
      auto b = read_blob(false, false);
      if (b) f.assign(bytes::as_chars(*b));
    } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
      auto b = read_blob(false, o.nullable(_version));
      if (b) {
        f.emplace(bytes::as_chars(*b));
      } else {
        f.reset();
      }
    } else if constexpr (std::is_same_v<T, bytes::buffer>) {
      auto b = read_blob(true, false);
      if (b) f.assign(b->begin(), b->end());
    } else if constexpr (std::is_same_v<T, std::optional<bytes::buffer>>) {
      auto b = read_blob(true, o.nullable(_version));
      if (b) {
        f.emplace(b->begin(), b->end());
      } else {
        f.reset();
      }
    } else if constexpr (std::is_same_v<T, records>) {
      f.data = read_blob(true, o.nullable(_version));  // a view into the request buffer
      f.files.clear();
    } else if constexpr (is_array_v<T>) {
      bool null = false;
      size_t n = 0;
      if (read_length(true, false, null, n)) read_elements(f, n);
    } else if constexpr (is_optional_v<T>) {
      static_assert(is_array_v<typename T::value_type>, "unsupported nullable type");
      bool null = false;
      size_t n = 0;
      if (!read_length(true, o.nullable(_version), null, n)) return;
      if (null) {
        f.reset();
      } else {
        read_elements(f.emplace(), n);
      }
    } else {
      static_assert(described<T>, "field type has no wire mapping");
      read_struct(f);
    }
  }

  template <class E>
  void read_elements(std::vector<E>& out, size_t n) {
    size_t min = std::max<size_t>(1, min_wire_size<E>(_version, _flexible));
    if (n > _r.remaining() / min) return fail(codec_errc::truncated);  // before allocating
    out.clear();
    out.resize(n);
    for (auto& e : out) {
      read(e, field_opts{});
      if (!ok()) return;
    }
  }

  // Reads a length prefix: int16 (strings) or int32 (bytes, arrays), or the compact uvarint
  // in flexible versions. False (with the failure recorded) when it is unusable.
  bool read_length(bool wide, bool nullable, bool& null, size_t& n) {
    if (_flexible) {
      uint32_t u = _r.uvarint32();
      if (!_r.ok()) return false;
      null = u == 0;
      n = null ? 0 : size_t(u) - 1;
    } else {
      int32_t len = wide ? _r.i32() : _r.i16();
      if (!_r.ok()) return false;
      if (len < -1) {
        fail(codec_errc::invalid_length);
        return false;
      }
      null = len == -1;
      n = null ? 0 : size_t(len);
    }
    if (null && !nullable) {
      fail(codec_errc::unexpected_null);
      return false;
    }
    return true;
  }

  // A length-prefixed run of bytes, viewed in place; nullopt for null or on failure.
  std::optional<bytes::byte_view> read_blob(bool wide, bool nullable) {
    bool null = false;
    size_t n = 0;
    if (!read_length(wide, nullable, null, n) || null) return std::nullopt;
    bytes::byte_view b = _r.bytes(n);  // fails without allocating when n > remaining
    if (!_r.ok()) return std::nullopt;
    return b;
  }

  // Reads the one tagged field of a struct whose tag matches.
  struct tag_dispatch {
    tag_dispatch(decoder& d, uint32_t tag) : d(d), tag(tag) {}
    decoder& d;
    uint32_t tag;
    bool found = false;
    template <class T>
    void operator()(T& f, field_opts o = {}) {
      if (o.is_tagged() && uint32_t(o.tag) == tag && o.present(d._version)) {
        found = true;
        d.read(f, o);
      }
    }
  };

  template <described S>
  void read_tagged(S& s) {
    // Each field takes at least two bytes (tag, size), so a huge count ends at the input end.
    uint32_t count = _r.uvarint32();
    for (uint32_t i = 0; i < count && ok(); ++i) {
      uint32_t tag = _r.uvarint32();
      uint32_t size = _r.uvarint32();
      bytes::byte_view body = _r.bytes(size);
      if (!_r.ok()) return;
      bytes::byte_reader sub(body);
      decoder d(sub, _version, _flexible);
      tag_dispatch td(d, tag);
      s.visit(td);
      if (!td.found) continue;  // a field from a newer peer: skipped, as KIP-482 requires
      if (d._err) {
        fail(d._err);
      } else if (!sub.ok() || !sub.empty()) {
        fail(codec_errc::invalid_tagged_field);
      }
    }
  }

  bytes::byte_reader& _r;
  int16_t _version;
  bool _flexible;
  std::error_code _err;
};

class encoder {
 public:
  encoder(bytes::chunked_buffer& out, int16_t version, bool flexible)
      : _out(out), _version(version), _flexible(flexible) {}

  template <class T>
  void operator()(const T& f, field_opts o = {}) {
    if (o.present(_version) && !o.is_tagged()) write(f, o);
  }

  template <described S>
  void write_struct(const S& s) {
    const_cast<S&>(s).visit(*this);  // visit only reads through an encoder (schema.h)
    if (_flexible) write_tagged(s);
  }

 private:
  bytes::byte_writer w() { return _out.writer(); }

  template <class T>
  void write(const T& f, field_opts o) {
    if constexpr (is_scalar_v<T>) {
      if constexpr (std::is_same_v<T, bool>) {
        w().u8(f ? 1 : 0);
      } else if constexpr (std::is_same_v<T, double>) {
        w().f64(f);
      } else {
        w().write_be<T>(f);
      }
    } else if constexpr (std::is_same_v<T, uuid>) {
      _out.append_bytes(f);
    } else if constexpr (std::is_same_v<T, std::string>) {
      write_string(f);
    } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
      if (!f && o.nullable(_version)) return write_length(false, true, 0);
      write_string(f ? std::string_view(*f) : std::string_view());  // null as empty
    } else if constexpr (std::is_same_v<T, bytes::buffer>) {
      write_length(true, false, f.size());
      _out.append_bytes(f);
    } else if constexpr (std::is_same_v<T, std::optional<bytes::buffer>>) {
      if (!f && o.nullable(_version)) return write_length(true, true, 0);
      write_length(true, false, f ? f->size() : 0);
      if (f) _out.append_bytes(*f);
    } else if constexpr (std::is_same_v<T, records>) {
      size_t n = f.size();
      TERN_CHECK(n <= size_t(std::numeric_limits<int32_t>::max()));  // handlers bound fetches
      write_length(true, f.is_null() && o.nullable(_version), n);
      if (f.data) _out.append_bytes(*f.data);
      for (auto& r : f.files) _out.append_file(r);
    } else if constexpr (is_array_v<T>) {
      write_elements(f);
    } else if constexpr (is_optional_v<T>) {
      static_assert(is_array_v<typename T::value_type>, "unsupported nullable type");
      if (f) return write_elements(*f);
      write_length(true, o.nullable(_version), 0);  // empty where null cannot be said
    } else {
      static_assert(described<T>, "field type has no wire mapping");
      write_struct(f);
    }
  }

  template <class E>
  void write_elements(const std::vector<E>& v) {
    write_length(true, false, v.size());
    for (auto& e : v) write(e, field_opts{});
  }

  // Strings longer than the int16 prefix allows (only ever Tern's own error messages) are
  // cut rather than sent with a wrong length.
  void write_string(std::string_view s) {
    s = s.substr(0, size_t(std::numeric_limits<int16_t>::max()));
    write_length(false, false, s.size());
    _out.append_bytes(bytes::as_bytes(s));
  }

  void write_length(bool wide, bool null, size_t n) {
    if (_flexible) {
      w().uvarint(null ? 0 : uint64_t(n) + 1);
    } else if (wide) {
      w().i32(null ? -1 : int32_t(n));
    } else {
      w().i16(null ? int16_t(-1) : int16_t(n));
    }
  }

  struct tagged_item {
    int32_t tag;
    bytes::buffer data;
  };

  // Encodes the tagged fields of one struct that differ from their default.
  template <class S>
  struct tag_collector {
    tag_collector(encoder& e, const S& defaults) : e(e), defaults(defaults) {}
    encoder& e;
    const S& defaults;
    std::vector<tagged_item> items;
    int index = -1;

    template <class T>
    void operator()(const T& f, field_opts o = {}) {
      ++index;
      if (!o.is_tagged() || !o.present(e._version) || is_default(f)) return;
      bytes::chunked_buffer tmp;
      encoder sub(tmp, e._version, e._flexible);
      sub.write(f, o);
      tagged_item item{o.tag, {}};
      tmp.flatten(item.data);  // no file ranges: records are never tagged
      items.push_back(std::move(item));
    }

    template <class T>
    bool is_default(const T& f) const {
      if constexpr (is_scalar_v<T>) {
        return f == *static_cast<const T*>(schema::field_address(defaults, index));
      } else if constexpr (is_optional_v<T>) {
        return !f.has_value();
      } else if constexpr (std::is_same_v<T, records>) {
        return f.is_null();
      } else if constexpr (std::is_same_v<T, uuid>) {
        return f == uuid{};
      } else if constexpr (described<T>) {
        return false;
      } else {
        return f.empty();  // strings, bytes, arrays
      }
    }
  };

  template <described S>
  void write_tagged(const S& s) {
    tag_collector<S> c(*this, schema::default_instance<S>());
    const_cast<S&>(s).visit(c);
    std::sort(c.items.begin(), c.items.end(),
              [](const tagged_item& a, const tagged_item& b) { return a.tag < b.tag; });
    w().uvarint(c.items.size());
    for (auto& item : c.items) {
      w().uvarint(uint32_t(item.tag));
      w().uvarint(item.data.size());
      _out.append_bytes(item.data);
    }
  }

  bytes::chunked_buffer& _out;
  int16_t _version;
  bool _flexible;
};

}  // namespace tern::kafka::wire
