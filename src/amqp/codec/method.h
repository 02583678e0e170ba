#pragma once
// Every AMQP 0-9-1 method as one variant, decoded from and encoded to method frame payloads.
//
//   payload = class-id (u16) method-id (u16) arguments
//
//   outcome<method> m = decode_method(frame.payload);
//   if (!m) return close_connection(m.error());          // 501/502/540, see errors.h
//   if (auto* p = std::get_if<basic_publish>(&*m)) ...   // or std::visit
//
//   bytes::buffer out;
//   write_method_frame(out, channel, queue_declare_ok{.queue = "q", .message_count = 0});
//
// Stateless; safe from any shard. Which methods may arrive in which state (and on which
// channel) is the connection's business, not the codec's.

#include <optional>
#include <span>
#include <string>
#include <variant>

#include "amqp/codec/access.h"
#include "amqp/codec/basic.h"
#include "amqp/codec/channel.h"
#include "amqp/codec/confirm.h"
#include "amqp/codec/connection.h"
#include "amqp/codec/errors.h"
#include "amqp/codec/exchange.h"
#include "amqp/codec/frame.h"
#include "amqp/codec/queue.h"
#include "amqp/codec/tx.h"
#include "amqp/codec/wire.h"
#include "bytes/buffer.h"

namespace tern::amqp {

// In class order, methods in id order within a class.
// clang-format off
using method = std::variant<
    connection_start, connection_start_ok, connection_secure, connection_secure_ok,
    connection_tune, connection_tune_ok, connection_open, connection_open_ok,
    connection_close, connection_close_ok, connection_blocked, connection_unblocked,
    connection_update_secret, connection_update_secret_ok,
    channel_open, channel_open_ok, channel_flow, channel_flow_ok, channel_close, channel_close_ok,
    access_request, access_request_ok,
    exchange_declare, exchange_declare_ok, exchange_delete, exchange_delete_ok,
    exchange_bind, exchange_bind_ok, exchange_unbind, exchange_unbind_ok,
    queue_declare, queue_declare_ok, queue_bind, queue_bind_ok, queue_purge, queue_purge_ok,
    queue_delete, queue_delete_ok, queue_unbind, queue_unbind_ok,
    basic_qos, basic_qos_ok, basic_consume, basic_consume_ok, basic_cancel, basic_cancel_ok,
    basic_publish, basic_return, basic_deliver, basic_get, basic_get_ok, basic_get_empty,
    basic_ack, basic_reject, basic_recover_async, basic_recover, basic_recover_ok, basic_nack,
    confirm_select, confirm_select_ok,
    tx_select, tx_select_ok, tx_commit, tx_commit_ok, tx_rollback, tx_rollback_ok>;
// clang-format on

inline constexpr size_t method_count = std::variant_size_v<method>;

// Decodes a method frame's payload. Errors: a payload shorter than 4 bytes, arguments that end
// early or leave bytes over (501 FRAME_ERROR), an illegal value in a table (502), an unknown
// class or method (540 NOT_IMPLEMENTED). The error names the method when it is known.
outcome<method> decode_method(bytes::byte_view payload);
// The same with the ids already read; `args` is what follows them.
outcome<method> decode_method(uint16_t class_id, uint16_t method_id, bytes::byte_view args);

// Appends the payload of a method frame (ids and arguments).
void encode_method(const method& m, bytes::buffer& out);
bytes::buffer encode_method(const method& m);
// For one method type, without building the variant.
template <class M>
void encode_method(const M& m, bytes::buffer& out) {
  wire::encode_method_payload(m, out);
}

// Appends a whole method frame (type 1) on `channel`.
void write_method_frame(bytes::buffer& out, uint16_t channel, const method& m);
template <class M>
void write_method_frame(bytes::buffer& out, uint16_t channel, const M& m);

// What the spec says about a method.
const method_traits& traits(const method& m);
// nullptr for ids the spec does not define.
const method_traits* find_method(uint16_t class_id, uint16_t method_id);
// All methods, in variant order.
std::span<const method_traits> all_methods();

// True when the method has a `nowait` bit and it is set: the peer sends no -ok reply.
bool nowait(const method& m);

// The method's name and arguments for logs: basic.publish(ticket=0, exchange="x",
// routing-key="rk", mandatory=true, immediate=false). SASL responses and secrets are
// replaced by their length, so credentials never reach a log.
std::string to_debug_string(const method& m);

// The close methods that report an error (reply text as reply_text() writes it).
connection_close make_connection_close(const error& e);
channel_close make_channel_close(const error& e);
// The error a received close reports.
error error_of(const connection_close& c);
error error_of(const channel_close& c);

template <class M>
void write_method_frame(bytes::buffer& out, uint16_t channel, const M& m) {
  size_t at = write_frame_begin(out, frame_type::method, channel);
  encode_method(m, out);
  write_frame_end(out, at);
}

}  // namespace tern::amqp
