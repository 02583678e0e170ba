#pragma once
// result<T>: a value or a std::error_code, passed between modules instead of exceptions
// (STYLE.md habit 5). Each module declares its own error enum and category; protocols map
// those codes to wire error codes in one place.
//
//   result<int64_t> r = log.append(batch);
//   if (!r) return r.error();
//   use(*r);

#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace tern {

template <class T>
class [[nodiscard]] result {
 public:
  using value_type = T;

  // A value-initialized T (asio needs default-constructible results for co_spawn).
  result()
    requires std::is_default_constructible_v<T>
      : _v(std::in_place_index<0>) {}

  result(const T& v) : _v(std::in_place_index<0>, v) {}  // NOLINT: implicit by design
  result(T&& v) : _v(std::in_place_index<0>, std::move(v)) {}  // NOLINT
  result(std::error_code ec) : _v(std::in_place_index<1>, ec) {}  // NOLINT
  template <class E, std::enable_if_t<std::is_error_code_enum_v<E>, int> = 0>
  result(E e) : _v(std::in_place_index<1>, make_error_code(e)) {}  // NOLINT
  template <class... A>
  explicit result(std::in_place_t, A&&... a) : _v(std::in_place_index<0>, std::forward<A>(a)...) {}

  bool has_value() const { return _v.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(_v); }
  const T& value() const& { return std::get<0>(_v); }
  T&& value() && { return std::get<0>(std::move(_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  std::error_code error() const { return has_value() ? std::error_code{} : std::get<1>(_v); }

 private:
  std::variant<T, std::error_code> _v;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(std::error_code ec) : _ec(ec) {}  // NOLINT
  template <class E, std::enable_if_t<std::is_error_code_enum_v<E>, int> = 0>
  result(E e) : _ec(make_error_code(e)) {}  // NOLINT

  bool has_value() const { return !_ec; }
  explicit operator bool() const { return has_value(); }
  std::error_code error() const { return _ec; }

 private:
  std::error_code _ec;
};

inline result<void> ok() { return {}; }

}  // namespace tern

// Returns the error of a result-returning expression from the enclosing function.
#define TERN_TRY(expr)                         \
  do {                                         \
    auto&& _tern_r = (expr);                   \
    if (!_tern_r) return _tern_r.error();      \
  } while (0)

// The same for coroutines.
#define TERN_CO_TRY(expr)                      \
  do {                                         \
    auto&& _tern_r = (expr);                   \
    if (!_tern_r) co_return _tern_r.error();   \
  } while (0)
