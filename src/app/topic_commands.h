#pragma once
// `tern topic create|list|describe|delete`: topic administration against a running broker,
// through admin_client. Every subcommand takes --bootstrap HOST:PORT (env TERN_BOOTSTRAP),
// --timeout-ms and --json. Exit codes: 0 success, 1 the operation failed (one line on stderr
// with the Kafka error name), CLI11's codes for usage errors.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tern::app {

struct topic_command {
  CLI::App* app = nullptr;  // `topic`
  CLI::App* create = nullptr;
  CLI::App* list = nullptr;
  CLI::App* describe = nullptr;
  CLI::App* remove = nullptr;  // `delete`
  std::string bootstrap = "127.0.0.1:9092";
  int64_t timeout_ms = 10000;
  bool json = false;
  std::string name;
  int32_t partitions = -1;           // -1: the broker's default_partitions
  std::vector<std::string> configs;  // key=value
};

// Registers `topic` and its subcommands under `parent`. `cmd` must outlive parsing.
void add_topic_commands(CLI::App& parent, topic_command& cmd);

// After parsing: runs the chosen subcommand, printing results to `out` and errors to `err`.
int run_topic_command(const topic_command& cmd, std::FILE* out, std::FILE* err);

}  // namespace tern::app
