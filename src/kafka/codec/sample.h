#pragma once
// Deterministic sample messages derived from the descriptions: every field of a version gets
// a value that differs from its default, so a round trip that drops or misplaces a field
// shows. Used by the round-trip tests, the fuzzer's seed corpus and benchmarks.
//
// A field's value depends only on its path in the message (not on which other fields were
// filled), so sample_mode::all_versions and sample_mode::one_version agree on every field the
// version has: encoding the former and decoding must give the latter.

#include <array>
#include <string>

#include "kafka/codec/codec.h"

namespace tern::kafka {

enum class sample_mode {
  one_version,   // the fields of `version` (tagged ones only when it is flexible)
  all_versions,  // every field, whatever the version
  nulls,         // like one_version, but null wherever the version allows null
};

class sampler {
 public:
  sampler(int16_t version, bool flexible, sample_mode mode)
      : _version(version), _flexible(flexible), _mode(mode) {}

  template <class S>
  void fill(S& s, uint64_t seed = 1) {
    field_visitor v{*this, seed, 0};
    s.visit(v);
  }

 private:
  struct field_visitor {
    sampler& self;
    uint64_t seed;
    int index = 0;
    template <class T>
    void operator()(T& f, field_opts o = {}) {
      uint64_t field_seed = seed * 31 + uint64_t(++index);
      if (self._mode != sample_mode::all_versions && !self.in_version(o)) return;
      self.fill_value(f, o, field_seed);
    }
  };

  bool in_version(field_opts o) const {
    return o.present(_version) && (!o.is_tagged() || _flexible);
  }
  bool make_null(field_opts o) const { return _mode == sample_mode::nulls && o.nullable(_version); }

  template <class T>
  void fill_value(T& f, field_opts o, uint64_t seed) {
    if constexpr (std::is_same_v<T, bool>) {
      f = !f;
    } else if constexpr (std::is_floating_point_v<T>) {
      f += 1.5 + double(seed % 7);
    } else if constexpr (std::is_arithmetic_v<T>) {
      f = T(uint64_t(f) + 1 + seed % 97);  // modular: defaults may be INT32_MAX
    } else if constexpr (std::is_same_v<T, std::string>) {
      f = "s" + std::to_string(seed);
    } else if constexpr (std::is_same_v<T, bytes::buffer>) {
      f = {uint8_t(seed), uint8_t(seed >> 8), 0x5a};
    } else if constexpr (std::is_same_v<T, uuid>) {
      for (size_t i = 0; i < f.size(); ++i) f[i] = uint8_t(seed + i);
    } else if constexpr (std::is_same_v<T, records>) {
      if (make_null(o)) {
        f = {};
      } else {
        size_t at = seed % 64, n = 1 + seed % 61;
        f.data = bytes::byte_view(pool().data() + at, n);
      }
    } else if constexpr (schema::is_array_v<T>) {
      fill_elements(f, seed);
    } else if constexpr (schema::is_optional_v<T>) {
      if (make_null(o)) {
        f.reset();
      } else {
        fill_value(f.emplace(), field_opts{}, seed);
      }
    } else {
      fill(f, seed);
    }
  }

  template <class E>
  void fill_elements(std::vector<E>& v, uint64_t seed) {
    v.resize(2);
    for (size_t i = 0; i < v.size(); ++i) fill_value(v[i], field_opts{}, seed * 7 + i);
  }

  // Bytes that sample records view; static so that samples can be copied freely.
  static const std::array<uint8_t, 128>& pool() {
    static const std::array<uint8_t, 128> p = [] {
      std::array<uint8_t, 128> a{};
      for (size_t i = 0; i < a.size(); ++i) a[i] = uint8_t(i * 37 + 11);
      return a;
    }();
    return p;
  }

  int16_t _version;
  bool _flexible;
  sample_mode _mode;
};

// A sample message M for this version.
template <class M>
M make_sample(int16_t version, sample_mode mode = sample_mode::one_version) {
  M m{};
  sampler(version, is_flexible(M::api, version), mode).fill(m);
  return m;
}

}  // namespace tern::kafka
