#pragma once
// JSON responses of the admin API. Errors are shaped as RabbitMQ's management API shapes
// them: {"error": "<short name>", "reason": "<sentence>"}.

#include <string_view>

#include <nlohmann/json.hpp>

#include "http/codec/message.h"

namespace tern::http {

response json_response(int status, const nlohmann::json& body);
response error_response(int status, std::string_view error, std::string_view reason);

}  // namespace tern::http
