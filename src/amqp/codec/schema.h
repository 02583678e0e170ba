#pragma once
// The vocabulary in which every AMQP method is described once (STYLE.md habit 3).
//
// A method is a plain struct with its identity in `traits` and a member template `visit`
// that lists its arguments in wire order, each with its spec name:
//
//   struct basic_publish {
//     static constexpr method_traits traits{.class_id = 60, .method_id = 40,
//                                           .name = "basic.publish", .content = true};
//     uint16_t ticket = 0;
//     std::string exchange;
//     std::string routing_key;
//     bool mandatory = false;
//     bool immediate = false;
//     template <class V> void visit(V& v) {
//       v("ticket", ticket); v("exchange", exchange); v("routing-key", routing_key);
//       v("mandatory", mandatory); v("immediate", immediate);
//     }
//   };
//
// The generic decoder and encoder (wire.h), the debug dump, the sample values of the tests
// and the fuzzer all walk this one description. The C++ type says the wire type:
//
//   uint8_t octet   uint16_t short   uint32_t long   uint64_t longlong (and timestamp)
//   bool bit        std::string shortstr (u8 length), or longstr (u32 length) when the
//                   description says v(name, field, longstr)      field_table table
//
// Consecutive bits share an octet, least significant bit first; any other argument (or the
// end of the method) closes the octet. Defaults are the spec's default values.

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "amqp/codec/field_table.h"

namespace tern::amqp {

// A method's identity on the wire: class id and method id.
struct method_key {
  uint16_t class_id = 0;
  uint16_t method_id = 0;
  constexpr bool operator==(const method_key&) const = default;
  constexpr explicit operator bool() const { return class_id != 0; }
};

struct method_traits {
  uint16_t class_id = 0;
  uint16_t method_id = 0;
  std::string_view name;     // "class.method", as the spec and RabbitMQ's logs spell it
  bool synchronous = false;  // the peer answers with `reply` (unless nowait is set)
  bool content = false;      // followed by a content header frame and body frames
  method_key reply{};        // a synchronous method's -ok reply
  method_key alt_reply{};    // its other possible reply (basic.get: basic.get-empty)

  constexpr method_key key() const { return {class_id, method_id}; }
};

// The wire type of one argument.
enum class arg_type : uint8_t { octet, short_, long_, longlong, bit, shortstr, longstr, table };

// Spelled in descriptions: v("mechanisms", mechanisms, longstr).
inline constexpr arg_type longstr = arg_type::longstr;

template <class T>
constexpr arg_type default_arg_type() {
  if constexpr (std::is_same_v<T, bool>) {
    return arg_type::bit;
  } else if constexpr (std::is_same_v<T, uint8_t>) {
    return arg_type::octet;
  } else if constexpr (std::is_same_v<T, uint16_t>) {
    return arg_type::short_;
  } else if constexpr (std::is_same_v<T, uint32_t>) {
    return arg_type::long_;
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    return arg_type::longlong;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return arg_type::shortstr;
  } else {
    static_assert(std::is_same_v<T, field_table>, "argument type has no AMQP wire mapping");
    return arg_type::table;
  }
}

namespace detail {
template <class F, bool Const>
struct arg_adapter {
  F& f;
  template <class T>
  void operator()(std::string_view name, T& field, arg_type t = default_arg_type<T>()) {
    if constexpr (Const) {
      f(name, static_cast<const T&>(field), t);
    } else {
      f(name, field, t);
    }
  }
};
}  // namespace detail

// Calls f(name, field, type) for every argument of a method in wire order, read-only.
template <class M, class F>
void for_each_arg(const M& m, F&& f) {
  detail::arg_adapter<std::remove_reference_t<F>, true> a{f};
  const_cast<M&>(m).visit(a);  // visit only reads through this adapter
}

// The same, with write access (test fillers).
template <class M, class F>
void for_each_arg_mut(M& m, F&& f) {
  detail::arg_adapter<std::remove_reference_t<F>, false> a{f};
  m.visit(a);
}

}  // namespace tern::amqp
