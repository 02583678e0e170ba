#include "app/config.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "app/config_keys.h"

namespace tern::app {
namespace {

// The text form of a TOML value, checked against the kind the key expects, so `smp = "4"` is an
// error rather than silently accepted: a file is written once and read many times, so be strict.
std::string toml_text(const toml::node& node, value_kind kind, std::string& error) {
  switch (kind) {
    case value_kind::integer:
      if (auto v = node.value_exact<int64_t>()) return std::to_string(*v);
      error = "expected an integer";
      return {};
    case value_kind::boolean:
      if (auto v = node.value_exact<bool>()) return *v ? "true" : "false";
      error = "expected true or false";
      return {};
    case value_kind::string:
      if (auto v = node.value_exact<std::string>()) return *v;
      error = "expected a string";
      return {};
  }
  return {};
}

std::string apply_toml_key(config& cfg, const std::string& path, const toml::node& node,
                           std::string_view origin) {
  const config_key* key = find_config_key(path);
  if (!key) return fmt::format("{}: unknown key \"{}\"", origin, path);
  std::string error;
  std::string text = toml_text(node, key->kind, error);
  if (error.empty()) error = key->set(cfg, text);
  if (!error.empty()) return fmt::format("{}: {}: {}", origin, path, error);
  return {};
}

bool is_section(std::string_view name) {
  return name == "kafka" || name == "amqp" || name == "http" || name == "limits" ||
         name == "storage" || name == "groups";
}

}  // namespace

std::optional<host_port> parse_host_port(std::string_view text) {
  std::string_view host, port;
  if (text.starts_with('[')) {  // [v6]:port
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (host.empty()) return std::nullopt;
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // v6 needs brackets
  }
  for (char ch : host)
    if (!(std::isalnum((unsigned char)ch) || ch == '.' || ch == '-' || ch == '_' || ch == ':'))
      return std::nullopt;
  uint16_t p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size()) return std::nullopt;
  // Kafka's `listeners=PLAINTEXT://:9092` means every interface; give callers a bindable host.
  return host_port{host.empty() ? "0.0.0.0" : std::string(host), p};
}

std::string set_key(config& cfg, std::string_view path, std::string_view text,
                    std::string_view origin) {
  const config_key* key = find_config_key(path);
  if (!key) return fmt::format("{}: unknown configuration key \"{}\"", origin, path);
  if (std::string error = key->set(cfg, text); !error.empty())
    return fmt::format("{}: {}", origin, error);
  return {};
}

std::string apply_toml(config& cfg, std::string_view toml_text_in, std::string_view origin) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text_in, origin);
  } catch (const toml::parse_error& e) {
    return fmt::format("{}:{}:{}: {}", origin, e.source().begin.line, e.source().begin.column,
                       e.description());
  }
  for (auto&& [name, node] : doc) {
    std::string top(name.str());
    if (!is_section(top)) {
      if (std::string e = apply_toml_key(cfg, top, node, origin); !e.empty()) return e;
      continue;
    }
    const toml::table* section = node.as_table();
    if (!section) return fmt::format("{}: {}: expected a table ([{}])", origin, top, top);
    for (auto&& [sub, value] : *section) {
      std::string path = top + "." + std::string(sub.str());
      if (std::string e = apply_toml_key(cfg, path, value, origin); !e.empty()) return e;
    }
  }
  return {};
}

std::string apply_env(config& cfg, const std::function<const char*(const char*)>& getenv) {
  for (auto& key : config_keys()) {
    std::string var = env_name(key);
    // A variable set to "" counts: TERN_KAFKA_LISTEN= disables the listener.
    if (const char* v = getenv(var.c_str()))
      if (std::string e = set_key(cfg, key.path, v, var); !e.empty()) return e;
  }
  return {};
}

std::string validate(const config& cfg) {
  if (cfg.connection_memory_bytes > cfg.global_memory_bytes)
    return fmt::format(
        "limits.connection_memory_bytes ({}) must not exceed limits.global_memory_bytes ({})",
        cfg.connection_memory_bytes, cfg.global_memory_bytes);
  return {};
}

std::string load_config(config& cfg, const config_sources& src) {
  if (src.file) {
    std::ifstream in(*src.file, std::ios::binary);
    if (!in) return fmt::format("cannot read config file {}", src.file->string());
    std::stringstream text;
    text << in.rdbuf();
    if (std::string e = apply_toml(cfg, text.str(), src.file->string()); !e.empty()) return e;
  }
  if (src.getenv)
    if (std::string e = apply_env(cfg, src.getenv); !e.empty()) return e;
  for (auto& [path, text] : src.flags) {
    const config_key* key = find_config_key(path);
    std::string origin = key ? fmt::format("--{}", key->flag) : path;
    if (std::string e = set_key(cfg, path, text, origin); !e.empty()) return e;
  }
  return validate(cfg);
}

}  // namespace tern::app
