#pragma once
// IncrementalAlterConfigs (key 44), v0-1 (flexible from 1): per-key changes.
// config_operation: 0 set, 1 delete, 2 append, 3 subtract.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct incremental_alter_configs_request {
  static constexpr kafka::api_key api = api_key::incremental_alter_configs;

  struct alterable_config {
    std::string name;
    int8_t config_operation = 0;
    std::optional<std::string> value;
    template <class V>
    void visit(V& v) {
      v(name);
      v(config_operation);
      v(value);
    }
  };
  struct alter_configs_resource {
    int8_t resource_type = 0;
    std::string resource_name;
    std::vector<alterable_config> configs;
    template <class V>
    void visit(V& v) {
      v(resource_type);
      v(resource_name);
      v(configs);
    }
  };

  std::vector<alter_configs_resource> resources;
  bool validate_only = false;

  template <class V>
  void visit(V& v) {
    v(resources);
    v(validate_only);
  }
};

struct incremental_alter_configs_response {
  static constexpr kafka::api_key api = api_key::incremental_alter_configs;

  struct alter_configs_resource_response {
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    int8_t resource_type = 0;
    std::string resource_name;
    template <class V>
    void visit(V& v) {
      v(error_code);
      v(error_message);
      v(resource_type);
      v(resource_name);
    }
  };

  int32_t throttle_time_ms = 0;
  std::vector<alter_configs_resource_response> responses;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms);
    v(responses);
  }
};

}  // namespace tern::kafka
