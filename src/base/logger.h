#pragma once
// One spdlog logger per module ("storage", "kafka", ...), created on first use and shared by
// every shard (spdlog loggers are thread safe). Levels come from --log-level.

#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

namespace tern {

// Returns the logger named `module`, creating it (stderr, shared format) on first call.
spdlog::logger& module_logger(std::string_view module);

// Sets the level of every existing and future module logger ("trace" ... "off").
void set_log_level(std::string_view level);

}  // namespace tern
