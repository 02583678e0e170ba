#pragma once
// `tern group list|describe|delete|reset-offsets`: consumer-group administration against a
// running broker, through admin_client, like Kafka's kafka-consumer-groups.sh. Every
// subcommand takes --bootstrap HOST:PORT (env TERN_BOOTSTRAP; the flag wins), --timeout-ms and
// --json. Exit codes: 0 success, 1 the operation failed (one line per failure on stderr, with
// the Kafka error name when the broker refused), CLI11's codes for usage errors.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tern::app {

struct group_command {
  CLI::App* app = nullptr;  // `group`
  CLI::App* list = nullptr;
  CLI::App* describe = nullptr;
  CLI::App* remove = nullptr;  // `delete`
  CLI::App* reset = nullptr;   // `reset-offsets`
  std::string bootstrap = "127.0.0.1:9092";
  int64_t timeout_ms = 10000;
  bool json = false;

  std::vector<std::string> states;  // list --state
  std::string group;                // describe, reset-offsets
  std::vector<std::string> groups;  // delete

  // reset-offsets
  std::vector<std::string> topics;  // TOPIC or TOPIC:P1,P2
  bool all_topics = false;
  bool to_earliest = false;
  bool to_latest = false;
  CLI::Option* to_offset_opt = nullptr;
  int64_t to_offset = 0;
  CLI::Option* shift_by_opt = nullptr;
  int64_t shift_by = 0;
  std::string to_datetime;
  bool dry_run = false;
  bool execute = false;
};

// Registers `group` and its subcommands under `parent`. `cmd` must outlive parsing.
void add_group_commands(CLI::App& parent, group_command& cmd);

// After parsing: runs the chosen subcommand, printing results to `out` and errors (and
// notices such as "dry run") to `err`.
int run_group_command(const group_command& cmd, std::FILE* out, std::FILE* err);

}  // namespace tern::app
