#pragma once
// Owned byte buffers, and bounded big-endian readers/writers over them.
//
// byte_reader never reads past its end: a read that would overrun sets a sticky failure and
// returns zero/empty, so a decoder can read a whole message and check ok() once at the end
// (the shape Envoy's and protobuf's decoders use). Lengths read from input must be checked
// against remaining() before anything is allocated for them.

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bytes/varint.h"

namespace tern::bytes {

using buffer = std::vector<uint8_t>;
using byte_view = std::span<const uint8_t>;

inline byte_view as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(byte_view b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

template <class T>
inline T byteswap_(T v) {
  using U = std::make_unsigned_t<T>;
  U u = static_cast<U>(v);
  if constexpr (sizeof(T) == 2) u = __builtin_bswap16(u);
  if constexpr (sizeof(T) == 4) u = __builtin_bswap32(u);
  if constexpr (sizeof(T) == 8) u = __builtin_bswap64(u);
  return static_cast<T>(u);
}
template <class T>
inline T load_be(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (sizeof(T) > 1 && std::endian::native == std::endian::little) v = byteswap_(v);
  return v;
}
template <class T>
inline void store_be(uint8_t* p, T v) {
  if constexpr (sizeof(T) > 1 && std::endian::native == std::endian::little) v = byteswap_(v);
  std::memcpy(p, &v, sizeof v);
}

class byte_reader {
 public:
  byte_reader() = default;
  explicit byte_reader(byte_view b) : _p(b.data()), _end(b.data() + b.size()) {}

  bool ok() const { return !_failed; }
  void fail() { _failed = true; _p = _end; }
  size_t remaining() const { return size_t(_end - _p); }
  bool empty() const { return _p == _end; }
  const uint8_t* position() const { return _p; }

  template <class T>
  T read_be() {
    if (remaining() < sizeof(T)) {
      fail();
      return T{};
    }
    T v = load_be<T>(_p);
    _p += sizeof(T);
    return v;
  }
  int8_t i8() { return read_be<int8_t>(); }
  int16_t i16() { return read_be<int16_t>(); }
  int32_t i32() { return read_be<int32_t>(); }
  int64_t i64() { return read_be<int64_t>(); }
  uint8_t u8() { return read_be<uint8_t>(); }
  uint16_t u16() { return read_be<uint16_t>(); }
  uint32_t u32() { return read_be<uint32_t>(); }
  uint64_t u64() { return read_be<uint64_t>(); }
  double f64() { return std::bit_cast<double>(read_be<uint64_t>()); }

  uint64_t uvarint() {
    auto v = get_uvarint(_p, _end);
    if (!v) fail();
    return v.value_or(0);
  }
  uint32_t uvarint32() {
    auto v = get_uvarint(_p, _end, kMaxVarint32Bytes);
    if (!v || *v > 0xffffffffull) {
      fail();
      return 0;
    }
    return uint32_t(*v);
  }
  int32_t varint() {
    auto v = get_varint32(_p, _end);
    if (!v) fail();
    return v.value_or(0);
  }
  int64_t varlong() {
    auto v = get_varint64(_p, _end);
    if (!v) fail();
    return v.value_or(0);
  }

  // A view of the next n bytes (no copy); fails without allocating if fewer remain.
  byte_view bytes(size_t n) {
    if (remaining() < n) {
      fail();
      return {};
    }
    byte_view v(_p, n);
    _p += n;
    return v;
  }
  void skip(size_t n) { (void)bytes(n); }

 private:
  const uint8_t* _p = nullptr;
  const uint8_t* _end = nullptr;
  bool _failed = false;
};

class byte_writer {
 public:
  explicit byte_writer(buffer& out) : _out(out) {}

  size_t size() const { return _out.size(); }
  buffer& out() { return _out; }

  template <class T>
  void write_be(T v) {
    size_t at = _out.size();
    _out.resize(at + sizeof(T));
    store_be<T>(_out.data() + at, v);
  }
  void i8(int8_t v) { write_be(v); }
  void i16(int16_t v) { write_be(v); }
  void i32(int32_t v) { write_be(v); }
  void i64(int64_t v) { write_be(v); }
  void u8(uint8_t v) { write_be(v); }
  void u16(uint16_t v) { write_be(v); }
  void u32(uint32_t v) { write_be(v); }
  void u64(uint64_t v) { write_be(v); }
  void f64(double v) { write_be(std::bit_cast<uint64_t>(v)); }

  void uvarint(uint64_t v) {
    uint8_t tmp[kMaxVarint64Bytes];
    _out.insert(_out.end(), tmp, tmp + put_uvarint(tmp, v));
  }
  void varint(int32_t v) { uvarint(zigzag_encode32(v)); }
  void varlong(int64_t v) { uvarint(zigzag_encode64(v)); }

  void bytes(byte_view b) { _out.insert(_out.end(), b.begin(), b.end()); }
  void bytes(std::string_view s) { bytes(as_bytes(s)); }

  // Reserves sizeof(T) bytes to be filled later with patch_be (length prefixes, CRCs).
  template <class T>
  size_t placeholder() {
    size_t at = _out.size();
    _out.resize(at + sizeof(T));
    return at;
  }
  template <class T>
  void patch_be(size_t at, T v) {
    store_be<T>(_out.data() + at, v);
  }

 private:
  buffer& _out;
};

}  // namespace tern::bytes
