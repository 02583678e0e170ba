#pragma once
// The vocabulary in which every Kafka message is described once (STYLE.md habit 3).
//
// A message is a plain struct whose member template `visit` lists its fields in wire order,
// each with the versions in which it is on the wire:
//
//   struct heartbeat_request {
//     static constexpr kafka::api_key api = api_key::heartbeat;
//     std::string group_id;
//     int32_t generation_id = 0;
//     std::string member_id;
//     std::optional<std::string> group_instance_id;
//     template <class V> void visit(V& v) {
//       v(group_id); v(generation_id); v(member_id); v(group_instance_id, since(3));
//     }
//   };
//
// The generic decoder and encoder (wire.h), the round-trip tests and the fuzzer all walk
// this one description. Rules a description follows:
// - A field absent from a version keeps its default member initializer when decoded, so the
//   schema's defaults ("default": -1 etc.) are written as initializers.
// - The C++ type says the wire type: arithmetic types as themselves, std::string (string),
//   bytes::buffer (bytes), uuid, kafka::records, described structs, std::vector<T> (arrays).
//   std::optional<> of a string, bytes or array makes it nullable; by default in every version
//   the field is present, narrowed with nullable_from(v) when the schema says so. A null
//   written in a version that cannot carry it goes out empty (e.g. Metadata v0's "all topics"
//   is an empty array, which is what null means from v1).
// - Tagged fields (flexible versions only) say tagged(tag, since(v)); they are written only
//   when they differ from their default, and unknown tags are skipped when read.
// - `visit` is non-const so that one template serves decoding (writes) and encoding (reads);
//   the encoder calls it on a const message through const_cast and never writes.
// - Types named in a struct that has a member of the same name must be qualified
//   (`kafka::records records;`): C++ forbids a name changing meaning inside a class.

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "bytes/buffer.h"
#include "bytes/chunked_buffer.h"

namespace tern::kafka {

// The versions in which one field is on the wire, and how.
struct field_opts {
  int16_t min = 0;
  int16_t max = std::numeric_limits<int16_t>::max();
  int16_t nullable_min = 0;  // std::optional<> fields: first version that may carry null
  int32_t tag = -1;          // >= 0: a tagged field with this tag (flexible versions only)

  constexpr bool present(int16_t v) const { return v >= min && v <= max; }
  constexpr bool nullable(int16_t v) const { return v >= nullable_min; }
  constexpr bool is_tagged() const { return tag >= 0; }
  constexpr field_opts nullable_from(int16_t v) const {
    field_opts o = *this;
    o.nullable_min = v;
    return o;
  }
};

constexpr field_opts since(int16_t v) { return field_opts{.min = v}; }
constexpr field_opts until(int16_t v) { return field_opts{.max = v}; }  // inclusive
constexpr field_opts versions(int16_t first, int16_t last) {
  return field_opts{.min = first, .max = last};
}
constexpr field_opts nullable_from(int16_t v) { return field_opts{}.nullable_from(v); }
constexpr field_opts tagged(int32_t tag, field_opts o = {}) {
  o.tag = tag;
  return o;
}

using uuid = std::array<uint8_t, 16>;

// The schema type `records`: a size-prefixed run of record batches, carried without parsing.
//
// Decoding (Produce requests) makes `data` a view INTO the request buffer: no copy. The
// request buffer belongs to the handler for as long as the request is being served and the
// handler may patch it in place (base offsets, timestamps) through mutable_data(); it must
// outlive every records view decoded from it.
//
// Encoding (Fetch responses) writes the length prefix (data plus every file range; null when
// there is neither), then `data`, then appends `files` to the chunked_buffer as file ranges,
// so segment bytes reach the socket by sendfile without being copied.
struct records {
  std::optional<bytes::byte_view> data;
  std::vector<bytes::file_range> files;

  bool is_null() const { return !data && files.empty(); }
  size_t size() const {
    size_t n = data ? data->size() : 0;
    for (auto& f : files) n += f.length;
    return n;
  }
  // Only valid for records decoded from a request buffer the caller owns (see above).
  std::span<uint8_t> mutable_data() const {
    if (!data) return {};
    return {const_cast<uint8_t*>(data->data()), data->size()};
  }
};

namespace schema {

// Stands in for a visitor to recognise described structs.
struct probe_visitor {
  template <class T>
  void operator()(T&, field_opts = {}) {}
};

template <class T>
concept described = std::is_class_v<T> && requires(T& t, probe_visitor& p) {
  t.visit(p);
};

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::bool_constant<!std::is_same_v<T, uint8_t>> {};
template <class T>
inline constexpr bool is_array_v = is_vector<T>::value;  // bytes::buffer is `bytes`, not an array

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
inline constexpr bool is_optional_v = is_optional<T>::value;

template <class T>
inline constexpr bool is_scalar_v = std::is_arithmetic_v<T>;  // bool, int8..int64, uint16, float64

// A default-constructed instance, read (never written) to learn defaults and minimum sizes.
template <described S>
const S& default_instance() {
  static const S instance{};
  return instance;
}

template <class F>
struct for_each_adapter {
  F& f;
  template <class T>
  void operator()(T& field, field_opts o = {}) {
    f(static_cast<const T&>(field), o);
  }
};

// Calls f(field, opts) for every field of `s` in wire order, whatever the version. Used by
// helpers that are not wire codecs (equality, printing, test fillers).
template <class S, class F>
void for_each_field(const S& s, F&& f) {
  for_each_adapter<std::remove_reference_t<F>> a{f};
  const_cast<S&>(s).visit(a);
}

// The address of the index-th field (in visit order) of s; nullptr past the end.
template <class S>
const void* field_address(const S& s, int index) {
  const void* found = nullptr;
  int i = 0;
  for_each_field(s, [&](const auto& field, field_opts) {
    if (i++ == index) found = &field;
  });
  return found;
}

}  // namespace schema
}  // namespace tern::kafka
