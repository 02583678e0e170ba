#include "amqp/codec/method.h"

#include <array>
#include <utility>

namespace tern::amqp {
namespace {

using decode_fn = outcome<method> (*)(bytes::byte_view args);

template <class M>
outcome<method> decode_as(bytes::byte_view args) {
  outcome<M> m = wire::decode_args<M>(args);
  if (!m) return std::move(m).error();
  return method(std::in_place_type<M>, std::move(*m));
}

template <size_t... I>
constexpr auto make_traits(std::index_sequence<I...>) {
  return std::array<method_traits, sizeof...(I)>{std::variant_alternative_t<I, method>::traits...};
}
constexpr auto kTraits = make_traits(std::make_index_sequence<method_count>());

template <size_t... I>
constexpr auto make_decoders(std::index_sequence<I...>) {
  return std::array<decode_fn, sizeof...(I)>{&decode_as<std::variant_alternative_t<I, method>>...};
}
constexpr auto kDecoders = make_decoders(std::make_index_sequence<method_count>());

// The variant index of a method, or method_count. 66 entries: a linear scan is a few dozen
// compares, well below the cost of decoding the arguments.
size_t index_of(uint16_t class_id, uint16_t method_id) {
  for (size_t i = 0; i < kTraits.size(); ++i)
    if (kTraits[i].class_id == class_id && kTraits[i].method_id == method_id) return i;
  return method_count;
}

bool is_secret(std::string_view arg) {
  return arg == "response" || arg == "challenge" || arg == "new-secret";
}

}  // namespace

outcome<method> decode_method(bytes::byte_view payload) {
  if (payload.size() < 4) {
    return error{reply_code::frame_error, "method frame payload of " +
                                              std::to_string(payload.size()) +
                                              " bytes is shorter than its class and method ids"};
  }
  bytes::byte_reader r(payload);
  uint16_t class_id = r.u16();
  uint16_t method_id = r.u16();
  return decode_method(class_id, method_id, payload.subspan(4));
}

outcome<method> decode_method(uint16_t class_id, uint16_t method_id, bytes::byte_view args) {
  size_t i = index_of(class_id, method_id);
  if (i == method_count) {
    return error{reply_code::not_implemented,
                 "unknown method " + std::to_string(class_id) + "." + std::to_string(method_id),
                 class_id, method_id};
  }
  return kDecoders[i](args);
}

void encode_method(const method& m, bytes::buffer& out) {
  std::visit([&](const auto& x) { wire::encode_method_payload(x, out); }, m);
}

bytes::buffer encode_method(const method& m) {
  bytes::buffer out;
  encode_method(m, out);
  return out;
}

void write_method_frame(bytes::buffer& out, uint16_t channel, const method& m) {
  std::visit([&](const auto& x) { write_method_frame(out, channel, x); }, m);
}

const method_traits& traits(const method& m) { return kTraits[m.index()]; }

const method_traits* find_method(uint16_t class_id, uint16_t method_id) {
  size_t i = index_of(class_id, method_id);
  return i == method_count ? nullptr : &kTraits[i];
}

std::span<const method_traits> all_methods() { return kTraits; }

bool nowait(const method& m) {
  bool set = false;
  std::visit(
      [&](const auto& x) {
        for_each_arg(x, [&](std::string_view name, const auto& f, arg_type) {
          if constexpr (std::is_same_v<std::decay_t<decltype(f)>, bool>) {
            if (name == "nowait") set = f;
          }
        });
      },
      m);
  return set;
}

std::string to_debug_string(const method& m) {
  std::string out(traits(m).name);
  out += '(';
  bool first = true;
  std::visit(
      [&](const auto& x) {
        for_each_arg(x, [&](std::string_view name, const auto& f, arg_type) {
          using T = std::decay_t<decltype(f)>;
          if (!first) out += ", ";
          first = false;
          out += name;
          out += '=';
          if constexpr (std::is_same_v<T, bool>) {
            out += f ? "true" : "false";
          } else if constexpr (std::is_integral_v<T>) {
            out += std::to_string(f);
          } else if constexpr (std::is_same_v<T, std::string>) {
            if (is_secret(name)) {
              out += "<" + std::to_string(f.size()) + " bytes>";
            } else {
              detail::append_quoted(out, f);
            }
          } else {
            out += to_debug_string(f);
          }
        });
      },
      m);
  out += ')';
  return out;
}

connection_close make_connection_close(const error& e) {
  return connection_close{.reply_code = uint16_t(e.code),
                          .reply_text = reply_text(e),
                          .class_id = e.class_id,
                          .method_id = e.method_id};
}

channel_close make_channel_close(const error& e) {
  return channel_close{.reply_code = uint16_t(e.code),
                       .reply_text = reply_text(e),
                       .class_id = e.class_id,
                       .method_id = e.method_id};
}

error error_of(const connection_close& c) {
  return error{reply_code(c.reply_code), c.reply_text, c.class_id, c.method_id};
}

error error_of(const channel_close& c) {
  return error{reply_code(c.reply_code), c.reply_text, c.class_id, c.method_id};
}

}  // namespace tern::amqp
