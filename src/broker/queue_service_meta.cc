// The queue service's durable metadata (data/amqp/metadata.json) and the parsing of queue
// arguments.
//
//   {"format": 1, "vhosts": [{"name": "/", "routing": <routing_table::to_json()>,
//     "queues": [{"name": "q", "auto_delete": false, "arguments": <header table>}]}]}
//
// Only durable, non-exclusive queues are listed; every listed queue is durable.

#include <cctype>
#include <set>

#include <nlohmann/json.hpp>

#include "base/logger.h"
#include "broker/queue_service.h"

namespace tern::broker {
namespace {

spdlog::logger& log() { return module_logger("queues"); }
constexpr int kMetadataFormat = 1;

service_status bad_arg(std::string_view name, std::string why) {
  return {service_errc::precondition_failed,
          "invalid arg '" + std::string(name) + "': " + std::move(why)};
}

// RabbitMQ accepts any integer type for numeric arguments.
bool int_arg(const header_table& args, std::string_view name, int64_t min, int64_t& out,
             service_status& st) {
  const header_value* v = find_header(args, name);
  if (!v) return false;
  const int64_t* i = v->as_int();
  if (!i) {
    st = bad_arg(name, "expected an integer, got " + std::string(type_name(*v)));
    return false;
  }
  if (*i < min) {
    st = bad_arg(name, "must be at least " + std::to_string(min));
    return false;
  }
  out = *i;
  return true;
}

bool string_arg(const header_table& args, std::string_view name, std::string& out,
                service_status& st) {
  const header_value* v = find_header(args, name);
  if (!v) return false;
  const std::string* s = v->as_string();
  if (!s) {
    st = bad_arg(name, "expected a string, got " + std::string(type_name(*v)));
    return false;
  }
  out = *s;
  return true;
}

}  // namespace

std::string queue_dir_name(std::string_view name) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : name) {
    bool keep = std::isalnum(c) || c == '.' || c == '_' || c == '-';
    if (keep && !(out.empty() && c == '.')) {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out.empty() ? std::string("%") : out;
}

service_status parse_queue_arguments(const header_table& args, queue_settings& out) {
  service_status st;
  int64_t v = 0;
  if (int_arg(args, "x-message-ttl", 0, v, st)) out.message_ttl_ms = v;
  if (!st) return st;
  if (int_arg(args, "x-expires", 1, v, st)) out.expires_ms = v;
  if (!st) return st;
  if (int_arg(args, "x-max-length", 0, v, st)) out.limits.max_length = v;
  if (!st) return st;
  if (int_arg(args, "x-max-length-bytes", 0, v, st)) out.limits.max_length_bytes = v;
  if (!st) return st;
  if (int_arg(args, "x-delivery-limit", 0, v, st))
    out.limits.delivery_limit = int32_t(std::min<int64_t>(v, INT32_MAX));
  if (!st) return st;
  if (int_arg(args, "x-max-priority", 0, v, st)) {
    if (v > 255) return bad_arg("x-max-priority", "must be at most 255");
    out.limits.max_priority = uint8_t(v);
  }
  if (!st) return st;
  std::string s;
  if (string_arg(args, "x-overflow", s, st)) {
    if (s == "drop-head") out.limits.overflow = overflow_policy::drop_head;
    else if (s == "reject-publish") out.limits.overflow = overflow_policy::reject_publish;
    else if (s == "reject-publish-dlx") out.limits.overflow = overflow_policy::reject_publish_dlx;
    else return bad_arg("x-overflow", "unknown value '" + s + "'");
  }
  if (!st) return st;
  if (string_arg(args, "x-dead-letter-exchange", s, st)) out.dead_letter_exchange = s;
  if (!st) return st;
  if (string_arg(args, "x-dead-letter-routing-key", s, st)) {
    if (!out.dead_letter_exchange)
      return bad_arg("x-dead-letter-routing-key",
                     "x-dead-letter-exchange is required with x-dead-letter-routing-key");
    out.dead_letter_routing_key = s;
  }
  if (!st) return st;
  if (string_arg(args, "x-queue-type", s, st)) {
    if (s != "classic" && s != "quorum" && s != "stream")
      return bad_arg("x-queue-type", "unknown queue type '" + s + "'");
    out.quorum = s == "quorum";
  }
  if (!st) return st;
  if (const header_value* sac = find_header(args, "x-single-active-consumer")) {
    const bool* b = sac->as_bool();
    if (!b) return bad_arg("x-single-active-consumer", "expected a boolean");
    out.limits.single_active_consumer = *b;
  }
  return st;
}

result<void> queue_service::write_metadata_locked() {
  nlohmann::json doc;
  doc["format"] = kMetadataFormat;
  auto& vhosts = doc["vhosts"] = nlohmann::json::array();
  for (auto& [name, vh] : _vhosts) {
    nlohmann::json v;
    v["name"] = bytes_to_json(name);
    v["routing"] = vh->table.to_json();
    auto& queues = v["queues"] = nlohmann::json::array();
    for (auto& [qname, e] : vh->queues) {
      if (!e.settings.durable) continue;
      queues.push_back({{"name", bytes_to_json(qname)},
                        {"auto_delete", e.decl.auto_delete},
                        {"arguments", header_table_to_json(e.decl.arguments)}});
    }
    vhosts.push_back(std::move(v));
  }
  auto dir = _cfg.data_dir / "amqp";
  if (auto r = _fs.create_directories(dir); !r) return r.error();
  auto tmp = dir / "metadata.json.tmp";
  auto f = _fs.open(tmp, storage::open_mode::create_truncate);
  if (!f) return f.error();
  std::string text = doc.dump(1);
  if (auto r = (*f)->pwrite(bytes::as_bytes(text), 0); !r) return r.error();
  if (auto r = (*f)->fdatasync(); !r) return r.error();
  f->reset();
  if (auto r = _fs.rename(tmp, dir / "metadata.json"); !r) return r.error();
  return _fs.fsync_dir(dir);
}

result<void> queue_service::load_metadata() {
  std::lock_guard lock(_mutex);
  auto dir = _cfg.data_dir / "amqp";
  auto path = dir / "metadata.json";
  auto exists = _fs.exists(path);
  if (!exists) return exists.error();
  std::set<std::filesystem::path> keep;
  if (*exists) {
    auto f = _fs.open(path, storage::open_mode::existing);
    if (!f) return f.error();
    auto size = (*f)->size();
    if (!size) return size.error();
    std::string text(*size, '\0');
    auto got = (*f)->pread(std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()),
                                              text.size()),
                           0);
    if (!got) return got.error();
    auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || doc.value("format", 0) != kMetadataFormat ||
        !doc.contains("vhosts") || !doc["vhosts"].is_array()) {
      log().error("{}: not valid metadata", path.string());
      return make_error_code(std::errc::invalid_argument);
    }
    for (auto& v : doc["vhosts"]) {
      std::string vname;
      if (!v.is_object() || !v.contains("name") || !bytes_from_json(v["name"], vname))
        return make_error_code(std::errc::invalid_argument);
      auto vh = std::make_unique<vhost_state>(vname);
      if (v.contains("queues") && v["queues"].is_array()) {
        for (auto& q : v["queues"]) {
          queue_entry e;
          if (!q.is_object() || !q.contains("name") || !bytes_from_json(q["name"], e.decl.name))
            return make_error_code(std::errc::invalid_argument);
          e.decl.durable = true;
          e.decl.auto_delete = q.value("auto_delete", false);
          if (q.contains("arguments")) {
            if (auto st = header_table_from_json(q["arguments"], e.decl.arguments); !st) {
              log().error("{}: queue '{}': {}", path.string(), e.decl.name, st.message());
              return make_error_code(std::errc::invalid_argument);
            }
          }
          if (auto st = parse_queue_arguments(e.decl.arguments, e.settings); !st)
            log().warn("queue '{}': {}", e.decl.name, st.message);
          e.settings.durable = true;
          e.settings.auto_delete = e.decl.auto_delete;
          if (auto r = open_queue(vname, e); !r) {
            log().error("cannot open queue '{}' in vhost '{}': {}", e.decl.name, vname,
                        r.error().message());
            return r.error();
          }
          keep.insert(queue_dir(vname, e.decl.name));
          vh->table.declare_queue(e.decl.name, true);
          vh->queues.emplace(e.decl.name, std::move(e));
        }
      }
      if (v.contains("routing")) {
        auto loaded = vh->table.load_json(v["routing"]);
        if (!loaded.status) {
          log().error("{}: vhost '{}': {}", path.string(), vname, loaded.status.message());
          return make_error_code(std::errc::invalid_argument);
        }
      }
      _vhosts.emplace(vname, std::move(vh));
    }
  }
  if (_vhosts.empty()) _vhosts.emplace("/", std::make_unique<vhost_state>("/"));
  // What non-durable and deleted queues left behind.
  std::error_code ec;
  auto root = dir / "queues";
  if (std::filesystem::exists(root, ec)) {
    for (auto& v : std::filesystem::directory_iterator(root, ec))
      for (auto& q : std::filesystem::directory_iterator(v.path(), ec))
        if (!keep.count(q.path())) std::filesystem::remove_all(q.path(), ec);
  }
  return write_metadata_locked();
}

}  // namespace tern::broker
