#pragma once
// Deterministic sample values derived from the descriptions: every argument of a sample
// method differs from its default (bits toggled, integers using all their bytes, long strings
// longer than a shortstr could be), so a round trip that drops, swaps or misplaces one shows.
// Used by the round-trip tests and the fuzzer's seed corpus.

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "amqp/codec/content_header.h"
#include "amqp/codec/field_table.h"
#include "amqp/codec/schema.h"

namespace tern::amqp {

// A table with a value of every type, an array of several types, and a nested table
// `depth` levels deep.
inline field_table sample_table(uint64_t seed = 1, int depth = 2) {
  field_table t{
      {"void", std::monostate{}},
      {"bool", seed % 2 == 0},
      {"int8", int8_t(-100 + int(seed % 7))},
      {"uint8", uint8_t(200 + seed % 7)},
      {"int16", int16_t(-30000 + int(seed % 7))},
      {"uint16", uint16_t(60000 + seed % 7)},
      {"int32", int32_t(-2000000000 + int(seed % 7))},
      {"uint32", uint32_t(4000000000u + seed % 7)},
      {"int64", int64_t(-9000000000000000000ll + int64_t(seed % 7))},
      {"float", 1.5f + float(seed % 7)},
      {"double", -2.25 + double(seed % 7)},
      {"decimal", decimal{2, uint32_t(31415 + seed)}},
      {"longstr", "v" + std::to_string(seed) + std::string(300, 'x')},
      {"bytes", byte_array{{0, 1, 0xce, uint8_t(seed)}}},
      {"timestamp", timestamp{1700000000 + seed}},
      {"array", field_array{int32_t(seed), "two", field_array{true}, field_table{{"k", 1}}}},
  };
  if (depth > 0) t.entries.push_back({"table", sample_table(seed + 1, depth - 1)});
  return t;
}

namespace detail {
struct sample_filler {
  uint64_t seed;
  int index = 0;

  template <class T>
  void operator()(std::string_view, T& f, arg_type t) {
    uint64_t s = seed * 31 + uint64_t(++index);
    if constexpr (std::is_same_v<T, bool>) {
      f = !f;
    } else if constexpr (std::is_integral_v<T>) {
      // Distinct in every byte, so a byte-order or width mistake shows.
      f = T(uint64_t(0x8877665544332211ull) + s);
    } else if constexpr (std::is_same_v<T, std::string>) {
      f = "s" + std::to_string(s);
      if (t == arg_type::longstr) f += std::string(300, char('a' + s % 26)) + '\0' + "end";
    } else {
      f = sample_table(s, 1);
    }
  }
};
}  // namespace detail

// A sample of method M.
template <class M>
M make_sample(uint64_t seed = 1) {
  M m{};
  for_each_arg_mut(m, detail::sample_filler{seed});
  return m;
}

// Basic properties with every property present.
inline basic_properties sample_properties(uint64_t seed = 1) {
  basic_properties p;
  p.content_type = "application/json";
  p.content_encoding = "gzip";
  p.headers = sample_table(seed, 1);
  p.delivery_mode = 2;
  p.priority = uint8_t(seed % 10);
  p.correlation_id = "corr-" + std::to_string(seed);
  p.reply_to = "amq.rabbitmq.reply-to";
  p.expiration = "60000";
  p.message_id = "msg-" + std::to_string(seed);
  p.timestamp = 1700000000 + seed;
  p.type = "order.created";
  p.user_id = "guest";
  p.app_id = "tern-test";
  p.cluster_id = "c1";
  return p;
}

}  // namespace tern::amqp
