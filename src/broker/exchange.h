#pragma once
// AMQP-style exchanges and bindings as plain values: what a client declares, what the routing
// table (routing_table.h) keeps, and the validation rules for a new exchange. Protocol
// neutral: the AMQP layer fills these from exchange.declare / queue.bind / exchange.bind.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "broker/routing_errc.h"
#include "broker/routing_header_value.h"

namespace tern::broker {

enum class exchange_type {
  direct,           // routing key == binding key
  fanout,           // every binding
  topic,            // binding key is a pattern (exchange_topic.h)
  headers,          // binding arguments match message headers (exchange_headers.h)
  delayed_message,  // "x-delayed-message": holds each message for its x-delay header (done by
                    // the queue layer), then routes as its "x-delayed-type" argument says
};

// The AMQP names: "direct", "fanout", "topic", "headers", "x-delayed-message".
std::optional<exchange_type> parse_exchange_type(std::string_view name);
std::string_view to_string(exchange_type t);

// An exchange as the routing table keeps it.
struct exchange_info {
  std::string name;
  exchange_type type = exchange_type::direct;
  // How bindings are matched: `type`, except for x-delayed-message (its x-delayed-type).
  exchange_type routing_type = exchange_type::direct;
  bool durable = false;
  bool auto_delete = false;  // deleted when its last binding as a source goes
  bool internal = false;     // clients may not publish to it (exchange-to-exchange only)
  header_table arguments;    // as declared
  // The "alternate-exchange" argument: where messages go that match no binding here. Need
  // not exist (then such messages are unroutable, as in RabbitMQ).
  std::optional<std::string> alternate_exchange;

  bool operator==(const exchange_info&) const = default;
};

// exchange.declare's fields. `type` is the client's string, checked by the table.
struct exchange_declaration {
  std::string name;
  std::string type = "direct";
  bool passive = false;
  bool durable = false;
  bool auto_delete = false;
  bool internal = false;
  header_table arguments;
};

enum class destination_kind { queue, exchange };

// A binding: messages routed by `source` that match (`routing_key` or `arguments`,
// depending on the source's type) go on to `destination`, a queue or, for an
// exchange-to-exchange binding, another exchange. Identity is all five fields, arguments
// compared as a set of name/value pairs (any order), so one queue can be bound to one
// exchange several times with different keys or arguments.
struct binding {
  std::string source;
  destination_kind kind = destination_kind::queue;
  std::string destination;
  std::string routing_key;
  header_table arguments;

  bool operator==(const binding&) const = default;
};

// The exchanges every vhost has from its creation, all durable and neither auto-delete nor
// internal: "" (the default exchange: direct, every queue implicitly bound by its name),
// amq.direct, amq.fanout, amq.topic, amq.headers and amq.match (headers).
struct predeclared_exchange {
  std::string_view name;
  exchange_type type;
};
std::span<const predeclared_exchange> predeclared_exchanges();
bool is_predeclared_exchange(std::string_view name);

// "exchange 'x' in vhost '/'", "queue 'q' in vhost '/'": how RabbitMQ names a resource in
// error messages.
std::string describe_exchange(std::string_view vhost, std::string_view name);
std::string describe_queue(std::string_view vhost, std::string_view name);

// The exchange a non-passive declaration would create, or precondition_failed: unknown type,
// an "alternate-exchange" that is not a string, an x-delayed-message without a valid
// "x-delayed-type". Checks neither the name nor what exists (routing_table does).
routing_status make_exchange_info(const exchange_declaration& d, std::string_view vhost,
                                  exchange_info& out);

}  // namespace tern::broker
