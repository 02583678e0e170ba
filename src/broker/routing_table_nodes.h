#pragma once
// The nodes behind routing_table (routing_table.h), shared by its two .cc files. Private to
// routing_table: include nowhere else.
//
// Ownership: routing_table owns exchange_nodes and queue_nodes (unique_ptr in maps keyed by
// name, so addresses are stable); each exchange_node owns the binding_recs of which it is
// the source. binding_recs are also referenced (raw pointers) from the destination's `in`
// set and from the source's routing index; every removal goes through
// routing_table::remove_binding, which unlinks all three.

#include <compare>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/exchange.h"
#include "broker/exchange_headers.h"
#include "broker/exchange_topic.h"
#include "broker/routing_table.h"

namespace tern::broker {
namespace routing_detail {

// What makes two bindings of one source the same binding.
struct binding_identity {
  destination_kind kind;
  std::string destination;
  std::string routing_key;
  std::string arguments;  // canonical_bytes of the arguments sorted by name

  auto operator<=>(const binding_identity&) const = default;
};

inline binding_identity identity_of(const binding& sorted) {
  return {sorted.kind, sorted.destination, sorted.routing_key, canonical_bytes(sorted.arguments)};
}

// Lets the direct index be searched with a string_view.
struct string_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace routing_detail

struct routing_table::binding_rec {
  binding b;  // arguments sorted by name
  exchange_node* source = nullptr;
  exchange_node* dest_exchange = nullptr;   // set iff b.kind == exchange
  queue_node* dest_queue = nullptr;         // set iff b.kind == queue
  const std::string* queue_name = nullptr;  // the queue's key in _queues, for route()
  x_match match = x_match::all;             // for headers routing
  bool durable = false;                     // both ends durable: persisted
};

struct routing_table::exchange_node {
  exchange_info info;
  std::map<routing_detail::binding_identity, std::unique_ptr<binding_rec>>
      out;                              // as source; owns them
  std::unordered_set<binding_rec*> in;  // as destination
  // Routing indexes by info.routing_type (fanout and headers scan `out`).
  std::unordered_map<std::string, std::vector<binding_rec*>, routing_detail::string_hash,
                     std::equal_to<>>
      direct;
  topic_trie<binding_rec*> topic;
};

struct routing_table::queue_node {
  bool durable = false;
  std::unordered_set<binding_rec*> in;
};

}  // namespace tern::broker
