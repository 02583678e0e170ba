#pragma once
// What DescribeConfigs, AlterConfigs and IncrementalAlterConfigs share: resource types and
// the checks on the resource a request names.

#include <optional>
#include <string>

#include "kafka/error_codes.h"
#include "kafka/request_context.h"

namespace tern::kafka {

enum class resource_type : int8_t { topic = 2, broker = 4 };

// DescribeConfigs' config_source values.
inline constexpr int8_t kSourceDynamicTopic = 1;
inline constexpr int8_t kSourceStaticBroker = 4;
inline constexpr int8_t kSourceDefault = 5;

struct resource_error {
  error_code code;
  std::string message;
};

// Checks that a broker resource names this broker ("" means the cluster-wide default).
inline std::optional<resource_error> check_broker_resource(const request_context& ctx,
                                                           const std::string& name) {
  if (name.empty() || name == std::to_string(ctx.broker.node_id())) return std::nullopt;
  return resource_error{error_code::invalid_request, "unknown broker " + name};
}

}  // namespace tern::kafka
