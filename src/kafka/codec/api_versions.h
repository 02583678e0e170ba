#pragma once
// ApiVersions (key 18), v0-3: the first request of every client, answered from all_apis.
// To an ApiVersions version it does not know, a broker answers UNSUPPORTED_VERSION with its
// list in the v0 layout (encode_response(resp, 0, out)); the client then retries lower.
// v3 is flexible, but the response *header* stays v0 (codec.h).

#include "kafka/codec/codec.h"

namespace tern::kafka {

struct api_versions_request {
  static constexpr kafka::api_key api = api_key::api_versions;

  std::string client_software_name;
  std::string client_software_version;

  template <class V>
  void visit(V& v) {
    v(client_software_name, since(3));
    v(client_software_version, since(3));
  }
};

struct api_versions_response {
  static constexpr kafka::api_key api = api_key::api_versions;

  struct api_version {
    int16_t api_key = 0;
    int16_t min_version = 0;
    int16_t max_version = 0;
    template <class V>
    void visit(V& v) {
      v(api_key);
      v(min_version);
      v(max_version);
    }
  };
  struct supported_feature_key {
    std::string name;
    int16_t min_version = 0;
    int16_t max_version = 0;
    template <class V>
    void visit(V& v) {
      v(name);
      v(min_version);
      v(max_version);
    }
  };
  struct finalized_feature_key {
    std::string name;
    int16_t max_version_level = 0;
    int16_t min_version_level = 0;
    template <class V>
    void visit(V& v) {
      v(name);
      v(max_version_level);
      v(min_version_level);
    }
  };

  int16_t error_code = 0;
  std::vector<api_version> api_keys;
  int32_t throttle_time_ms = 0;
  // Tagged (v3+): written only when set, so a plain broker answer carries none of them.
  std::vector<supported_feature_key> supported_features;
  int64_t finalized_features_epoch = -1;
  std::vector<finalized_feature_key> finalized_features;
  bool zk_migration_ready = false;

  template <class V>
  void visit(V& v) {
    v(error_code);
    v(api_keys);
    v(throttle_time_ms, since(1));
    v(supported_features, tagged(0, since(3)));
    v(finalized_features_epoch, tagged(1, since(3)));
    v(finalized_features, tagged(2, since(3)));
    v(zk_migration_ready, tagged(3, since(3)));
  }
};

}  // namespace tern::kafka
