#include "broker/routing_table.h"

#include <algorithm>
#include <compare>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "broker/routing_table_nodes.h"

namespace tern::broker {
namespace {

using routing_detail::identity_of;

routing_status default_exchange_refused() {
  return {routing_errc::access_refused, "operation not permitted on the default exchange"};
}

std::string_view bool_text(bool b) { return b ? "true" : "false"; }

}  // namespace

routing_table::routing_table(std::string vhost) : _vhost(std::move(vhost)) {
  for (auto& p : predeclared_exchanges()) {
    exchange_info info;
    info.name = std::string(p.name);
    info.type = info.routing_type = p.type;
    info.durable = true;
    create_exchange(std::move(info));
  }
}

routing_table::~routing_table() = default;
routing_table::routing_table(routing_table&&) noexcept = default;
routing_table& routing_table::operator=(routing_table&&) noexcept = default;

routing_table::routing_table(const routing_table& other) { copy_from(other); }

routing_table& routing_table::operator=(const routing_table& other) {
  if (this != &other) copy_from(other);
  return *this;
}

void routing_table::copy_from(const routing_table& other) {
  _vhost = other._vhost;
  _exchanges.clear();
  _queues.clear();
  _binding_count = 0;
  for (auto& [name, x] : other._exchanges) create_exchange(x->info);
  for (auto& [name, q] : other._queues) declare_queue(name, q->durable);
  for (auto& [name, x] : other._exchanges) {
    exchange_node* src = find_node(name);
    for (auto& [id, rec] : x->out) add_binding(src, rec->b, rec->match);
  }
  _durable_generation = other._durable_generation;
}

// --- exchanges ----------------------------------------------------------------------------

routing_table::exchange_node* routing_table::find_node(std::string_view name) const {
  auto it = _exchanges.find(name);
  return it == _exchanges.end() ? nullptr : it->second.get();
}

routing_table::exchange_node* routing_table::create_exchange(exchange_info info) {
  auto node = std::make_unique<exchange_node>();
  node->info = std::move(info);
  exchange_node* x = node.get();
  if (x->info.durable && !is_predeclared_exchange(x->info.name)) ++_durable_generation;
  _exchanges.emplace(x->info.name, std::move(node));
  return x;
}

routing_status routing_table::declare_exchange(const exchange_declaration& d) {
  if (d.passive) {
    if (d.name.empty()) return default_exchange_refused();
    if (!find_node(d.name))
      return {routing_errc::not_found, "no " + describe_exchange(_vhost, d.name)};
    return {};
  }
  auto type = parse_exchange_type(d.type);
  if (!type) return {routing_errc::precondition_failed, "unknown exchange type '" + d.type + "'"};
  if (d.name.empty()) return default_exchange_refused();

  if (const exchange_node* x = find_node(d.name)) {
    const exchange_info& cur = x->info;
    auto inequivalent = [&](std::string_view field, std::string_view received,
                            std::string_view current) {
      return routing_status{routing_errc::precondition_failed,
                            "inequivalent arg '" + std::string(field) + "' for " +
                                describe_exchange(_vhost, d.name) + ": received '" +
                                std::string(received) + "' but current is '" +
                                std::string(current) + "'"};
    };
    if (*type != cur.type) return inequivalent("type", d.type, to_string(cur.type));
    if (d.durable != cur.durable)
      return inequivalent("durable", bool_text(d.durable), bool_text(cur.durable));
    if (d.auto_delete != cur.auto_delete)
      return inequivalent("auto_delete", bool_text(d.auto_delete), bool_text(cur.auto_delete));
    if (d.internal != cur.internal)
      return inequivalent("internal", bool_text(d.internal), bool_text(cur.internal));
    // RabbitMQ compares only the arguments that change routing (rabbit_exchange:
    // assert_args_equivalence); other arguments of a re-declaration are ignored.
    for (std::string_view arg : {"alternate-exchange", "x-delayed-type"}) {
      const header_value* now = find_header(cur.arguments, arg);
      const header_value* req = find_header(d.arguments, arg);
      if (!now && !req) continue;
      if (now && req && header_values_match(*req, *now)) continue;
      return inequivalent(arg, req ? display(*req) : "none", now ? display(*now) : "none");
    }
    return {};
  }

  // The reserved prefix only applies to creation (AMQP 0-9-1 and RabbitMQ's check_name).
  if (d.name.starts_with("amq."))
    return {routing_errc::access_refused,
            "exchange name '" + d.name + "' contains reserved prefix 'amq.*'"};
  exchange_info info;
  if (auto st = make_exchange_info(d, _vhost, info); !st) return st;
  create_exchange(std::move(info));
  return {};
}

routing_status routing_table::delete_exchange(std::string_view name, bool if_unused) {
  if (name.empty()) return default_exchange_refused();
  if (name.starts_with("amq."))
    return {routing_errc::access_refused,
            "deletion of system " + describe_exchange(_vhost, name) + " not allowed"};
  exchange_node* x = find_node(name);
  if (!x) return {};
  if (if_unused && !x->out.empty())
    return {routing_errc::precondition_failed, describe_exchange(_vhost, name) + " in use"};
  std::vector<std::string> touched;
  remove_exchange(x, touched);
  auto_delete(touched);
  return {};
}

const exchange_info* routing_table::find_exchange(std::string_view name) const {
  const exchange_node* x = find_node(name);
  return x ? &x->info : nullptr;
}

std::vector<exchange_info> routing_table::list_exchanges() const {
  std::vector<exchange_info> out;
  out.reserve(_exchanges.size());
  for (auto& [name, x] : _exchanges) out.push_back(x->info);
  return out;
}

void routing_table::remove_exchange(exchange_node* x, std::vector<std::string>& touched) {
  // Bindings to x: their sources may be left without bindings (auto-delete). Self-bindings
  // are among them; x's own name in `touched` is harmless, x is gone when it is looked up.
  std::vector<binding_rec*> in(x->in.begin(), x->in.end());
  for (binding_rec* rec : in) remove_binding(rec, touched);
  std::vector<std::string> self;
  while (!x->out.empty()) remove_binding(x->out.begin()->second.get(), self);
  if (x->info.durable && !is_predeclared_exchange(x->info.name)) ++_durable_generation;
  _exchanges.erase(_exchanges.find(x->info.name));
}

void routing_table::auto_delete(std::vector<std::string>& touched) {
  // RabbitMQ's maybe_auto_delete: an auto_delete exchange goes when its last binding as a
  // source does, whatever removed it (unbind, queue or exchange deletion, this cascade).
  while (!touched.empty()) {
    std::string name = std::move(touched.back());
    touched.pop_back();
    exchange_node* x = find_node(name);
    if (x && x->info.auto_delete && x->out.empty()) remove_exchange(x, touched);
  }
}

// --- queues -------------------------------------------------------------------------------

void routing_table::declare_queue(std::string_view name, bool durable) {
  if (_queues.find(name) != _queues.end()) return;
  auto q = std::make_unique<queue_node>();
  q->durable = durable;
  _queues.emplace(std::string(name), std::move(q));
}

void routing_table::delete_queue(std::string_view name) {
  auto it = _queues.find(name);
  if (it == _queues.end()) return;
  std::vector<binding_rec*> in(it->second->in.begin(), it->second->in.end());
  std::vector<std::string> touched;
  for (binding_rec* rec : in) remove_binding(rec, touched);
  _queues.erase(it);
  auto_delete(touched);
}

bool routing_table::has_queue(std::string_view name) const {
  return _queues.find(name) != _queues.end();
}

// --- bindings -----------------------------------------------------------------------------

routing_status routing_table::bind(const binding& b) {
  if (b.source.empty() || (b.kind == destination_kind::exchange && b.destination.empty()))
    return default_exchange_refused();
  exchange_node* src = find_node(b.source);
  if (!src) return {routing_errc::not_found, "no " + describe_exchange(_vhost, b.source)};
  if (b.kind == destination_kind::exchange) {
    if (!find_node(b.destination))
      return {routing_errc::not_found, "no " + describe_exchange(_vhost, b.destination)};
  } else if (!has_queue(b.destination)) {
    return {routing_errc::not_found, "no " + describe_queue(_vhost, b.destination)};
  }
  x_match match = x_match::all;
  if (src->info.routing_type == exchange_type::headers) {
    if (auto st = parse_x_match(b.arguments, match); !st) return st;
  }
  binding sorted = b;
  sorted.arguments = sorted_by_name(std::move(sorted.arguments));
  if (find_binding(src, sorted)) return {};
  add_binding(src, std::move(sorted), match);
  return {};
}

routing_status routing_table::unbind(const binding& b) {
  if (b.source.empty() || (b.kind == destination_kind::exchange && b.destination.empty()))
    return default_exchange_refused();
  exchange_node* src = find_node(b.source);
  if (!src) return {};
  binding sorted = b;
  sorted.arguments = sorted_by_name(std::move(sorted.arguments));
  binding_rec* rec = find_binding(src, sorted);
  if (!rec) return {};
  std::vector<std::string> touched;
  remove_binding(rec, touched);
  auto_delete(touched);
  return {};
}

std::vector<binding> routing_table::list_bindings() const {
  std::vector<binding> out;
  out.reserve(_binding_count);
  for (auto& [name, x] : _exchanges)
    for (auto& [id, rec] : x->out) out.push_back(rec->b);
  return out;
}

routing_table::binding_rec* routing_table::find_binding(const exchange_node* src,
                                                        const binding& sorted) const {
  auto it = src->out.find(identity_of(sorted));
  return it == src->out.end() ? nullptr : it->second.get();
}

void routing_table::add_binding(exchange_node* src, binding b, x_match match) {
  auto rec = std::make_unique<binding_rec>();
  binding_rec* r = rec.get();
  r->source = src;
  r->match = match;
  bool dest_durable;
  if (b.kind == destination_kind::exchange) {
    r->dest_exchange = find_node(b.destination);
    r->dest_exchange->in.insert(r);
    dest_durable = r->dest_exchange->info.durable;
  } else {
    auto it = _queues.find(b.destination);
    r->dest_queue = it->second.get();
    r->queue_name = &it->first;
    r->dest_queue->in.insert(r);
    dest_durable = r->dest_queue->durable;
  }
  r->durable = src->info.durable && dest_durable;
  r->b = std::move(b);
  switch (src->info.routing_type) {
    case exchange_type::direct:
      src->direct[r->b.routing_key].push_back(r);
      break;
    case exchange_type::topic:
      src->topic.add(r->b.routing_key, r);
      break;
    default:
      break;
  }
  if (r->durable) ++_durable_generation;
  ++_binding_count;
  src->out.emplace(identity_of(r->b), std::move(rec));
}

void routing_table::remove_binding(binding_rec* rec, std::vector<std::string>& touched) {
  exchange_node* src = rec->source;
  switch (src->info.routing_type) {
    case exchange_type::direct: {
      auto it = src->direct.find(rec->b.routing_key);
      auto& v = it->second;
      v.erase(std::find(v.begin(), v.end(), rec));
      if (v.empty()) src->direct.erase(it);
      break;
    }
    case exchange_type::topic:
      src->topic.remove(rec->b.routing_key, rec);
      break;
    default:
      break;
  }
  if (rec->dest_exchange)
    rec->dest_exchange->in.erase(rec);
  else
    rec->dest_queue->in.erase(rec);
  if (rec->durable) ++_durable_generation;
  --_binding_count;
  touched.push_back(src->info.name);
  src->out.erase(identity_of(rec->b));  // destroys rec
}

// --- routing ------------------------------------------------------------------------------

route_result routing_table::route(std::string_view exchange, std::string_view routing_key,
                                  const header_table& headers, const route_options& options) const {
  route_result result;
  const exchange_node* start = find_node(exchange);
  if (!start) {
    result.status = {routing_errc::not_found, "no " + describe_exchange(_vhost, exchange)};
    return result;
  }
  if (start->info.internal && !options.allow_internal) {
    result.status = {routing_errc::access_refused,
                     "cannot publish to internal " + describe_exchange(_vhost, exchange)};
    return result;
  }

  std::vector<std::string_view> keys{routing_key};
  if (options.cc_bcc) {
    for (std::string_view header : {"CC", "BCC"}) {
      const header_value* v = find_header(headers, header);
      if (!v) continue;
      const header_array* a = v->as_array();
      if (!a) {
        result.status = {routing_errc::precondition_failed,
                         "invalid message: unacceptable type '" + std::string(type_name(*v)) +
                             "' in header '" + std::string(header) + "'"};
        return result;
      }
      for (auto& e : *a)  // RabbitMQ skips elements that are not strings
        if (const std::string* s = e.as_string()) keys.push_back(*s);
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  }

  std::optional<header_index> index;  // built when a headers exchange is reached
  std::vector<const std::string*> queues;
  std::vector<const exchange_node*> work{start};
  std::unordered_set<const exchange_node*> seen{start};
  std::vector<binding_rec*> matched;
  auto visit = [&](const exchange_node* x) {
    if (seen.insert(x).second) work.push_back(x);
  };

  while (!work.empty()) {
    const exchange_node* x = work.back();
    work.pop_back();
    matched.clear();
    size_t queues_before = queues.size();
    if (x->info.name.empty()) {
      // The default exchange: every queue is implicitly bound with its name as the key.
      for (auto k : keys)
        if (auto it = _queues.find(k); it != _queues.end()) queues.push_back(&it->first);
    } else {
      switch (x->info.routing_type) {
        case exchange_type::direct:
          for (auto k : keys)
            if (auto it = x->direct.find(k); it != x->direct.end())
              matched.insert(matched.end(), it->second.begin(), it->second.end());
          break;
        case exchange_type::topic:
          for (auto k : keys) x->topic.match(k, matched);
          break;
        case exchange_type::fanout:
          for (auto& [id, rec] : x->out) matched.push_back(rec.get());
          break;
        case exchange_type::headers:
          if (!index) index.emplace(headers);
          for (auto& [id, rec] : x->out)
            if (headers_match(rec->match, rec->b.arguments, *index)) matched.push_back(rec.get());
          break;
        case exchange_type::delayed_message:
          break;  // never a routing type
      }
    }
    for (const binding_rec* rec : matched) {
      if (rec->dest_exchange)
        visit(rec->dest_exchange);
      else
        queues.push_back(rec->queue_name);
    }
    if (matched.empty() && queues.size() == queues_before && x->info.alternate_exchange) {
      if (const exchange_node* ae = find_node(*x->info.alternate_exchange)) visit(ae);
    }
  }

  std::sort(queues.begin(), queues.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  queues.erase(std::unique(queues.begin(), queues.end()), queues.end());
  result.queues.reserve(queues.size());
  for (const std::string* q : queues) result.queues.push_back(*q);
  return result;
}

}  // namespace tern::broker
