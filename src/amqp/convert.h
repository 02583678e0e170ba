#pragma once
// Between AMQP's wire values and the broker's protocol-neutral ones: field tables to header
// tables (routing, queue arguments), basic properties to a broker::queue_message and back,
// and RabbitMQ's dead-lettering rewrite (the x-death header).

#include <string>

#include "amqp/codec/content_header.h"
#include "amqp/codec/field_table.h"
#include "broker/queue_service.h"
#include "broker/routing_header_value.h"

namespace tern::amqp {

broker::header_value to_header_value(const field_value& v);
broker::header_table to_header_table(const field_table& t);

// The broker message for a publish: raw properties stored verbatim, with delivery mode,
// priority and expiration read from the decoded ones. nullopt + `why` for an expiration that
// is not a non-negative integer (RabbitMQ: PRECONDITION_FAILED, "invalid expiration").
std::optional<broker::queue_message> to_queue_message(const std::string& exchange,
                                                      const std::string& routing_key,
                                                      const content_header& header,
                                                      bytes::buffer body, std::string* why);

// RabbitMQ's dead-lettering: adds (or updates) the x-death header and the x-first-death-*
// headers, and removes the `expiration` property (kept in x-death as original-expiration) so
// the message does not expire again at once. Returns the message to publish and its headers.
std::pair<broker::message_ptr, broker::header_table> dead_letter_rewrite(
    const broker::queue_message& m, const broker::dead_letter_event& ev);

}  // namespace tern::amqp
