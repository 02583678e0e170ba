#pragma once
// Strong types for the integers that must not be mixed up: offsets, partition ids, producer
// ids, epochs (STYLE.md habit 4). A named_type converts to its raw value only explicitly.
//
//   using offset = named_type<int64_t, struct offset_tag>;
//   offset o{42};  o() == 42;  o + 1 does not compile; offset{o() + 1} does.

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace tern {

template <class T, class Tag>
class named_type {
 public:
  using type = T;
  constexpr named_type() = default;
  constexpr explicit named_type(T v) : _v(v) {}
  constexpr T operator()() const { return _v; }
  constexpr T value() const { return _v; }
  constexpr auto operator<=>(const named_type&) const = default;
  friend std::ostream& operator<<(std::ostream& o, const named_type& n) { return o << n._v; }

 private:
  T _v{};
};

using offset = named_type<int64_t, struct offset_tag>;
using partition_id = named_type<int32_t, struct partition_id_tag>;
using producer_id = named_type<int64_t, struct producer_id_tag>;
using producer_epoch = named_type<int16_t, struct producer_epoch_tag>;
using shard_id = named_type<uint32_t, struct shard_id_tag>;

}  // namespace tern

template <class T, class Tag>
struct std::hash<tern::named_type<T, Tag>> {
  size_t operator()(const tern::named_type<T, Tag>& n) const noexcept { return std::hash<T>{}(n()); }
};
