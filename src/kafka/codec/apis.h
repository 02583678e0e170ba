#pragma once
// Every described API as a compile-time list of request/response pairs, for dispatch by key
// (handlers, fuzzer) and for tests that walk every API and version.
//
//   visit_api(header.key, [&]<class Api>(api_types_tag<Api>) {
//     auto req = decode_request<typename Api::request>(r, header.version); ...
//   });

#include <tuple>

#include "kafka/codec/alter_configs.h"
#include "kafka/codec/api_versions.h"
#include "kafka/codec/codec.h"
#include "kafka/codec/create_partitions.h"
#include "kafka/codec/create_topics.h"
#include "kafka/codec/delete_groups.h"
#include "kafka/codec/delete_records.h"
#include "kafka/codec/delete_topics.h"
#include "kafka/codec/describe_configs.h"
#include "kafka/codec/describe_groups.h"
#include "kafka/codec/fetch.h"
#include "kafka/codec/find_coordinator.h"
#include "kafka/codec/heartbeat.h"
#include "kafka/codec/incremental_alter_configs.h"
#include "kafka/codec/init_producer_id.h"
#include "kafka/codec/join_group.h"
#include "kafka/codec/leave_group.h"
#include "kafka/codec/list_groups.h"
#include "kafka/codec/list_offsets.h"
#include "kafka/codec/metadata.h"
#include "kafka/codec/offset_commit.h"
#include "kafka/codec/offset_delete.h"
#include "kafka/codec/offset_fetch.h"
#include "kafka/codec/produce.h"
#include "kafka/codec/sasl_authenticate.h"
#include "kafka/codec/sasl_handshake.h"
#include "kafka/codec/sync_group.h"

namespace tern::kafka {

template <class Req, class Resp>
struct api_types {
  static_assert(Req::api == Resp::api, "request and response of different APIs");
  using request = Req;
  using response = Resp;
  static constexpr api_key key = Req::api;
  static constexpr const api_info& info = *find_api(Req::api);
};

template <class Api>
struct api_types_tag {
  using type = Api;
};

// In the order of all_apis (checked below).
using described_apis =
    std::tuple<api_types<produce_request, produce_response>,
               api_types<fetch_request, fetch_response>,
               api_types<list_offsets_request, list_offsets_response>,
               api_types<metadata_request, metadata_response>,
               api_types<offset_commit_request, offset_commit_response>,
               api_types<offset_fetch_request, offset_fetch_response>,
               api_types<find_coordinator_request, find_coordinator_response>,
               api_types<join_group_request, join_group_response>,
               api_types<heartbeat_request, heartbeat_response>,
               api_types<leave_group_request, leave_group_response>,
               api_types<sync_group_request, sync_group_response>,
               api_types<describe_groups_request, describe_groups_response>,
               api_types<list_groups_request, list_groups_response>,
               api_types<sasl_handshake_request, sasl_handshake_response>,
               api_types<api_versions_request, api_versions_response>,
               api_types<create_topics_request, create_topics_response>,
               api_types<delete_topics_request, delete_topics_response>,
               api_types<delete_records_request, delete_records_response>,
               api_types<init_producer_id_request, init_producer_id_response>,
               api_types<describe_configs_request, describe_configs_response>,
               api_types<alter_configs_request, alter_configs_response>,
               api_types<sasl_authenticate_request, sasl_authenticate_response>,
               api_types<create_partitions_request, create_partitions_response>,
               api_types<delete_groups_request, delete_groups_response>,
               api_types<incremental_alter_configs_request, incremental_alter_configs_response>,
               api_types<offset_delete_request, offset_delete_response>>;

namespace detail {
template <size_t... I>
constexpr bool apis_match_table(std::index_sequence<I...>) {
  return ((std::tuple_element_t<I, described_apis>::key == all_apis[I].key) && ...);
}
}  // namespace detail
static_assert(std::tuple_size_v<described_apis> == all_apis.size() &&
                  detail::apis_match_table(std::make_index_sequence<all_apis.size()>{}),
              "described_apis and all_apis must list the same APIs in the same order");

// Calls f(api_types_tag<Api>{}) for every described API, in all_apis order.
template <class F>
void for_each_api(F&& f) {
  std::apply([&](auto... api) { (f(api_types_tag<decltype(api)>{}), ...); }, described_apis{});
}

// Calls f(api_types_tag<Api>{}) for the API with this key; false when Tern does not
// describe it.
template <class F>
bool visit_api(api_key key, F&& f) {
  bool found = false;
  for_each_api([&](auto tag) {
    if (!found && decltype(tag)::type::key == key) {
      found = true;
      f(tag);
    }
  });
  return found;
}

}  // namespace tern::kafka
