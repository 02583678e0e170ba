#pragma once
// `tern queue list|describe|purge|delete` and `tern vhost add|delete|list`: AMQP queue and
// vhost administration against a running broker, through its HTTP admin API
// (http_admin_cli.h). Every subcommand takes --http HOST:PORT (env TERN_HTTP), --timeout-ms
// and --json. Exit codes: 0 success, 1 the operation failed (one line on stderr: the API's
// error name and reason, or why the broker could not be reached), CLI11's codes for usage
// errors.

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "app/http_admin_cli.h"

namespace tern::app {

struct queue_command {
  CLI::App* app = nullptr;  // `queue`
  CLI::App* list = nullptr;
  CLI::App* describe = nullptr;
  CLI::App* purge = nullptr;
  CLI::App* remove = nullptr;  // `delete`
  http_admin_options options;
  std::string vhost = "/";
  std::string name;
  bool if_unused = false;
  bool if_empty = false;
};

struct vhost_command {
  CLI::App* app = nullptr;  // `vhost`
  CLI::App* add = nullptr;
  CLI::App* remove = nullptr;  // `delete`
  CLI::App* list = nullptr;
  http_admin_options options;
  std::string name;
};

// Register the families under `parent`. The command structs must outlive parsing.
void add_queue_commands(CLI::App& parent, queue_command& cmd);
void add_vhost_commands(CLI::App& parent, vhost_command& cmd);

// After parsing: run the chosen subcommand, results to `out`, errors to `err`.
int run_queue_command(const queue_command& cmd, std::FILE* out, std::FILE* err);
int run_vhost_command(const vhost_command& cmd, std::FILE* out, std::FILE* err);

}  // namespace tern::app
