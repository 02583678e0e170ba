#pragma once
// How `tern queue` and `tern vhost` print the admin API's answers: aligned columns (as
// `tern topic list` does) or, with --json, the API's JSON. Pure functions of the parsed JSON,
// so they are tested without a broker; a missing or mistyped field prints as "-"/0.

#include <string>

#include <nlohmann/json.hpp>

namespace tern::app {

std::string format_queue_list(const nlohmann::json& queues, bool json);
std::string format_queue_description(const nlohmann::json& queue, bool json);
std::string format_queue_purged(const nlohmann::json& answer, bool json);
std::string format_queue_deleted(const nlohmann::json& answer, bool json);
std::string format_vhost_list(const nlohmann::json& vhosts, bool json);

}  // namespace tern::app
