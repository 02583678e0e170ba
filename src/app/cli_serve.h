#pragma once
// `tern serve`: one flag per configuration key (taken from config_keys()), plus --config FILE.
// Flags are only collected while CLI11 parses; the layers are merged afterwards by
// load_config(), so a flag always wins over the environment and the file whatever the order.

#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/config.h"

namespace tern::app {

struct serve_command {
  CLI::App* app = nullptr;                                 // the `serve` subcommand
  std::string config_file;                                 // --config, else TERN_CONFIG
  bool print_config = false;                               // --print-config
  std::vector<std::pair<std::string, std::string>> flags;  // {key path, text} as given
};

// Registers `serve` under `parent`. `cmd` must outlive parsing.
void add_serve_command(CLI::App& parent, serve_command& cmd);

// After parsing: loads the configuration (defaults < file < TERN_* < flags), sets the log level
// and runs the broker. Returns the process exit code; a bad configuration is one line on stderr
// and exit code 2.
int run_serve_command(const serve_command& cmd);

// The configuration as a TOML document, every key present (`tern serve --print-config`).
std::string to_toml(const config& cfg);

}  // namespace tern::app
