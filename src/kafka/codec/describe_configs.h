#pragma once
// DescribeConfigs (key 32), v0-2 (no flexible version in range). Resource types: 2 topic,
// 4 broker. v0 says is_default; v1+ says config_source and may list synonyms.

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct describe_configs_request {
  static constexpr kafka::api_key api = api_key::describe_configs;

  struct describe_configs_resource {
    int8_t resource_type = 0;
    std::string resource_name;
    std::optional<std::vector<std::string>> configuration_keys;  // null: all
    template <class V>
    void visit(V& v) {
      v(resource_type);
      v(resource_name);
      v(configuration_keys);
    }
  };

  std::vector<describe_configs_resource> resources;
  bool include_synonyms = false;

  template <class V>
  void visit(V& v) {
    v(resources);
    v(include_synonyms, since(1));
  }
};

struct describe_configs_response {
  static constexpr kafka::api_key api = api_key::describe_configs;

  struct describe_configs_synonym {
    std::string name;
    std::optional<std::string> value;
    int8_t source = 0;
    template <class V>
    void visit(V& v) {
      v(name);
      v(value);
      v(source);
    }
  };
  struct describe_configs_resource_result {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    bool is_default = false;
    int8_t config_source = -1;
    bool is_sensitive = false;
    std::vector<describe_configs_synonym> synonyms;
    template <class V>
    void visit(V& v) {
      v(name);
      v(value);
      v(read_only);
      v(is_default, until(0));
      v(config_source, since(1));
      v(is_sensitive);
      v(synonyms, since(1));
    }
  };
  struct describe_configs_result {
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    int8_t resource_type = 0;
    std::string resource_name;
    std::vector<describe_configs_resource_result> configs;
    template <class V>
    void visit(V& v) {
      v(error_code);
      v(error_message);
      v(resource_type);
      v(resource_name);
      v(configs);
    }
  };

  int32_t throttle_time_ms = 0;
  std::vector<describe_configs_result> results;

  template <class V>
  void visit(V& v) {
    v(throttle_time_ms);
    v(results);
  }
};

}  // namespace tern::kafka
