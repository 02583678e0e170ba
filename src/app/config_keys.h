#pragma once
// The one description of every configuration key (see config.h). Each entry knows its TOML
// path, its flag, its help line and how to parse and print its value; the environment variable
// is derived from the path (env_name). Adding a key means adding one row in config_keys.cc and
// a line in docs/configuration.md and tern.toml.

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "app/config.h"

namespace tern::app {

// What a TOML value must be; environment and flag values are always text and parsed as this.
enum class value_kind { string, boolean, integer };

struct config_key {
  std::string_view path;        // dotted TOML path: "data", "kafka.listen", "storage.flush"
  std::string_view flag;        // `tern serve --<flag>`
  std::string_view value_name;  // placeholder in --help: "N", "BOOL", "HOST:PORT", ...
  std::string_view help;        // one line, what it means
  value_kind kind;
  // Parses `text` into its field of `cfg`. Returns "" or why the text is not acceptable (the
  // caller adds which key, variable or flag it came from).
  std::function<std::string(config&, std::string_view text)> set;
  // The field's current value as text, as set() would accept it (--help defaults, docs).
  std::function<std::string(const config&)> get;
};

// Every key, in documentation order. Static storage; safe to call from any thread.
std::span<const config_key> config_keys();

// The key with this dotted path, or nullptr.
const config_key* find_config_key(std::string_view path);

// "TERN_" + the path upper-cased with '.' as '_': storage.flush -> TERN_STORAGE_FLUSH.
std::string env_name(const config_key& key);

}  // namespace tern::app
