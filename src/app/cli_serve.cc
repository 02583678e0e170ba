#include "app/cli_serve.h"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "app/config_keys.h"
#include "app/serve.h"
#include "base/logger.h"

namespace tern::app {
namespace {

std::string toml_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if ((unsigned char)ch < 0x20) {
          out += fmt::format("\\u{:04x}", (unsigned char)ch);
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

}  // namespace

void add_serve_command(CLI::App& parent, serve_command& cmd) {
  config defaults;
  cmd.app = parent.add_subcommand("serve", "Run the broker until SIGINT/SIGTERM");
  cmd.app->footer(
      "Precedence: defaults < --config file < TERN_* environment < flags.\n"
      "Every key is described in docs/configuration.md.");
  cmd.app->add_option("--config", cmd.config_file, "TOML configuration file [env: TERN_CONFIG]")
      ->type_name("FILE");
  cmd.app->add_flag("--print-config", cmd.print_config,
                    "print the resulting configuration as TOML and exit");
  for (auto& key : config_keys()) {
    std::string default_text = key.get(defaults);
    if (default_text.empty()) default_text = "\"\"";
    std::string path(key.path);
    cmd.app
        ->add_option_function<std::string>(
            fmt::format("--{}", key.flag),
            [&cmd, path](const std::string& v) { cmd.flags.emplace_back(path, v); },
            fmt::format("{} [default: {}] [env: {}]", key.help, default_text, env_name(key)))
        ->type_name(std::string(key.value_name));
  }
}

std::string to_toml(const config& cfg) {
  std::string out;
  std::string_view section;
  for (auto& key : config_keys()) {
    auto dot = key.path.find('.');
    std::string_view sec = dot == std::string_view::npos ? "" : key.path.substr(0, dot);
    std::string_view name = dot == std::string_view::npos ? key.path : key.path.substr(dot + 1);
    if (sec != section) {
      out += fmt::format("\n[{}]\n", sec);
      section = sec;
    }
    std::string value = key.get(cfg);
    if (key.kind == value_kind::string) value = toml_quote(value);
    out += fmt::format("{} = {}\n", name, value);
  }
  return out;
}

int run_serve_command(const serve_command& cmd) {
  config_sources src;
  if (!cmd.config_file.empty()) {
    src.file = cmd.config_file;
  } else if (const char* f = std::getenv("TERN_CONFIG"); f && *f) {
    src.file = f;
  }
  src.getenv = [](const char* name) -> const char* { return std::getenv(name); };
  src.flags = cmd.flags;
  config cfg;
  if (std::string error = load_config(cfg, src); !error.empty()) {
    std::fprintf(stderr, "tern: configuration error: %s\n", error.c_str());
    return 2;
  }
  if (cmd.print_config) {
    std::fputs(to_toml(cfg).c_str(), stdout);
    return 0;
  }
  set_log_level(cfg.log_level);
  return run_serve(cfg);
}

}  // namespace tern::app
