#pragma once
// AlterConfigs (key 33), v0-1 (no flexible version in range): replaces a resource's whole
// configuration. IncrementalAlterConfigs (incremental_alter_configs.h) is the per-key form.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct alter_configs_request {
  static constexpr kafka::api_key api = api_key::alter_configs;

  struct alterable_config {
    std::string name;
    std::optional<std::string> value;
    template <class V>
    void visit(V& v) {
      v(name);
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

struct alter_configs_response {
  static constexpr kafka::api_key api = api_key::alter_configs;

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
