#pragma once
// The exchanges and bindings of one vhost, and the routing of a published message to the
// queues it must be appended to: RabbitMQ's model and semantics (AMQP 0-9-1 with RabbitMQ's
// extensions: exchange-to-exchange bindings, alternate exchanges, auto-delete, internal
// exchanges, CC/BCC sender-selected distribution, x-delayed-message).
//
// Sans I/O and protocol neutral: no sockets, no files, no clock, nothing from src/amqp. Each
// operation takes plain values and answers with a routing_status whose code the AMQP layer
// maps to a reply code (routing_errc.h) and whose message is RabbitMQ's text.
//
// Queues. The table does not own queues but must know which exist: the default exchange
// routes to the queue named by the routing key, and binding to a missing queue is NOT_FOUND.
// The owner registers every queue with declare_queue() and removes it with delete_queue(),
// which also drops its bindings. Exclusive-queue ownership (RESOURCE_LOCKED), permissions,
// CR/LF stripping of names and the "empty queue name means the channel's last declared
// queue" rule are the AMQP layer's, before it calls in here.
//
// Lifetime and shard affinity: one table per vhost (the owner keeps a map from vhost name to
// table), created with the predeclared exchanges, mutated only by the shard that owns
// metadata. No locks inside: const members (route, find_*, list_*, to_json) modify nothing
// and may run concurrently with each other, never with a mutation. A table can be copied
// (an O(size) rebuild) to give other shards an immutable snapshot to route with.
//
// Typical use by the AMQP layer:
//
//   auto st = table.declare_exchange({.name = "logs", .type = "topic", .durable = true});
//   if (!st) close_channel(amqp_code(st.code()), st.message());
//   table.declare_queue("q1", /*durable=*/true);
//   st = table.bind({.source = "logs", .destination = "q1", .routing_key = "*.error"});
//   auto r = table.route("logs", "db.error", headers);   // r.queues == {"q1"}
//   if (!r.status) close_channel(...);  else if (r.queues.empty() && mandatory) basic_return;
//
// Durability. to_json() writes the durable exchanges and the bindings whose two ends are
// durable (RabbitMQ's rule); load_json() restores them into a fresh table. The owner writes
// the file (crash-safely) whenever durable_generation() has moved since the last write.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "broker/exchange.h"
#include "broker/exchange_headers.h"
#include "broker/routing_errc.h"
#include "broker/routing_header_value.h"

namespace tern::broker {

struct route_options {
  // A client may not publish to an internal exchange (ACCESS_REFUSED); the broker's own
  // publishes (dead-lettering, a delayed message coming due) may.
  bool allow_internal = false;
  // RabbitMQ's sender-selected distribution: the string elements of the "CC" and "BCC"
  // headers (arrays) are routing keys too. Removing BCC from the message before it is stored
  // is the caller's job.
  bool cc_bcc = true;
};

struct route_result {
  // not_found: no such exchange. access_refused: internal exchange. precondition_failed: a
  // CC or BCC header that is not an array ("invalid message").
  routing_status status;
  // The destination queues, sorted by name, each once. Empty: unroutable (basic.return if
  // mandatory).
  std::vector<std::string> queues;
};

struct load_result {
  routing_status status;  // corrupt_metadata: nothing was loaded
  size_t exchanges = 0;   // exchanges created
  size_t bindings = 0;    // bindings created
  // Bindings to queues that are not registered (the queue's own metadata is gone, e.g. a
  // crash between deleting a queue and rewriting this file): dropped, as RabbitMQ drops
  // bindings whose destination did not recover. Rewrite the file when nonzero.
  size_t dropped_bindings = 0;
};

class routing_table {
 public:
  // A table with the predeclared exchanges of a vhost (exchange.h). `vhost` appears in error
  // messages ("no exchange 'x' in vhost '/'") and in the JSON.
  explicit routing_table(std::string vhost = "/");
  ~routing_table();
  routing_table(const routing_table& other);
  routing_table& operator=(const routing_table& other);
  routing_table(routing_table&&) noexcept;
  routing_table& operator=(routing_table&&) noexcept;

  const std::string& vhost() const { return _vhost; }

  // --- exchanges ------------------------------------------------------------------------
  // exchange.declare, checked in RabbitMQ's order:
  //   passive:     ""                     -> access_refused ("operation not permitted on the
  //                                          default exchange")
  //                missing                -> not_found
  //   otherwise:   unknown type           -> precondition_failed ("unknown exchange type 'x'")
  //                ""                     -> access_refused
  //                exists: type, durable, auto_delete, internal and the
  //                "alternate-exchange" and "x-delayed-type" arguments must be equal, else
  //                precondition_failed ("inequivalent arg 'durable' for exchange 'x' in vhost
  //                '/': received 'true' but current is 'false'"). Other arguments are not
  //                compared, as in RabbitMQ. Equal: ok, nothing changes.
  //                new, name starts "amq." -> access_refused ("exchange name 'amq.x' contains
  //                                          reserved prefix 'amq.*'")
  //                new, invalid arguments -> precondition_failed (make_exchange_info)
  // So re-declaring amq.direct as durable direct succeeds, as clients expect.
  routing_status declare_exchange(const exchange_declaration& d);

  // exchange.delete. "" and "amq.*" -> access_refused; missing -> ok (RabbitMQ 3.x);
  // if_unused and the exchange is the source of a binding -> precondition_failed ("exchange
  // 'x' in vhost '/' in use"). Deleting removes its bindings as source and as destination;
  // the sources of the latter may then be auto-deleted.
  routing_status delete_exchange(std::string_view name, bool if_unused);

  // nullptr when missing. Valid until the next mutation.
  const exchange_info* find_exchange(std::string_view name) const;
  // Every exchange, predeclared ones included, sorted by name.
  std::vector<exchange_info> list_exchanges() const;

  // --- queues -----------------------------------------------------------------------------
  // Registers a queue (idempotent; a re-declaration keeps the first durability). The
  // default exchange now routes its name to it and it can be bound.
  void declare_queue(std::string_view name, bool durable);
  // Forgets a queue and removes its bindings; exchanges left without bindings as a source by
  // that are deleted if auto_delete. No-op when unknown.
  void delete_queue(std::string_view name);
  bool has_queue(std::string_view name) const;

  // --- bindings ---------------------------------------------------------------------------
  // queue.bind / exchange.bind. Source or destination exchange "" -> access_refused (the
  // default exchange's bindings are implicit); source, destination exchange or queue missing
  // -> not_found ("no exchange 'x' in vhost '/'", "no queue 'q' in vhost '/'"); invalid
  // x-match on a headers exchange -> precondition_failed. Binding twice is a no-op.
  // An exchange may be bound to itself or in a cycle; route() visits each exchange once.
  routing_status bind(const binding& b);

  // queue.unbind / exchange.unbind. "" as source or destination -> access_refused. A missing
  // binding, source or destination is ok (RabbitMQ). Removing the last binding of an
  // auto_delete source deletes it, and so on up the chain of exchange-to-exchange bindings.
  routing_status unbind(const binding& b);

  // Every explicit binding (the default exchange's are implicit and not listed), by source
  // name; arguments sorted by name.
  std::vector<binding> list_bindings() const;
  size_t binding_count() const { return _binding_count; }

  // --- routing ----------------------------------------------------------------------------
  // The queues a message published to `exchange` goes to, following RabbitMQ's
  // rabbit_exchange:route:
  //   - the routing keys are `routing_key` plus CC and BCC (route_options);
  //   - the default exchange "" routes each key to the registered queue of that name;
  //   - other exchanges match their bindings by their routing type; a matched queue is a
  //     destination, a matched exchange is routed in turn (each exchange at most once, so
  //     cycles end);
  //   - an exchange whose own bindings match nothing hands the message to its alternate
  //     exchange, if that exists (also transitively, also at most once). An exchange that
  //     matches only exchanges which route nowhere does not use its alternate exchange
  //     (RabbitMQ's rule: it "routed" the message).
  // x-delayed-message routes as its x-delayed-type; the delay is the caller's business, and
  // applies only when the message is published to that exchange directly.
  route_result route(std::string_view exchange, std::string_view routing_key,
                     const header_table& headers, const route_options& options = {}) const;

  // --- durable metadata -------------------------------------------------------------------
  // Moves whenever the durable state (what to_json writes) changes, auto-deletions included.
  uint64_t durable_generation() const { return _durable_generation; }

  // {"format": 1, "vhost": "/", "exchanges": [...], "bindings": [...]}: the durable
  // exchanges other than the predeclared ones and the bindings whose two ends are durable.
  // Names and strings that are not UTF-8 are hex-encoded (routing_header_value.h), so
  // dump() never throws. Format: docs in src/broker/README.md.
  nlohmann::json to_json() const;
  std::string to_json_string() const;

  // Restores what to_json wrote, into a table that has only its predeclared exchanges and
  // the (durable) queues registered with declare_queue. Everything is checked before
  // anything is applied: a corrupt document (wrong shape, unknown type, a binding to an
  // exchange that is neither in it nor predeclared, ...) loads nothing and answers
  // corrupt_metadata with what was wrong.
  load_result load_json(const nlohmann::json& j);
  load_result load_json_string(std::string_view text);

 private:
  struct exchange_node;
  struct queue_node;
  struct binding_rec;

  exchange_node* find_node(std::string_view name) const;
  exchange_node* create_exchange(exchange_info info);
  // b.arguments must be sorted by name; x-match already validated.
  void add_binding(exchange_node* src, binding b, x_match match);
  binding_rec* find_binding(const exchange_node* src, const binding& sorted) const;
  void remove_binding(binding_rec* rec, std::vector<std::string>& touched);
  void remove_exchange(exchange_node* x, std::vector<std::string>& touched);
  void auto_delete(std::vector<std::string>& touched);
  void copy_from(const routing_table& other);

  std::string _vhost;
  std::map<std::string, std::unique_ptr<exchange_node>, std::less<>> _exchanges;
  std::map<std::string, std::unique_ptr<queue_node>, std::less<>> _queues;
  size_t _binding_count = 0;
  uint64_t _durable_generation = 0;
};

}  // namespace tern::broker
