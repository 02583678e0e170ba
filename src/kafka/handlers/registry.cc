#include <array>

#include "kafka/handlers/handlers.h"

namespace tern::kafka {
namespace {

// Version ranges: the codec's full range unless a handler serves less. Keep them one coherent
// Kafka 2.4-era set (kafka-python infers the broker release from them).
constexpr std::array<handler_entry, 24> kHandlers = {{
    {api_key::produce, 0, 8, handle_produce},
    {api_key::fetch, 4, 11, handle_fetch},
    {api_key::list_offsets, 0, 5, handle_list_offsets},
    {api_key::metadata, 0, 9, handle_metadata},
    {api_key::offset_commit, 0, 8, handle_offset_commit},
    {api_key::offset_fetch, 0, 7, handle_offset_fetch},
    {api_key::api_versions, 0, 3, handle_api_versions},
    {api_key::create_topics, 0, 5, handle_create_topics},
    {api_key::delete_topics, 0, 4, handle_delete_topics},
    {api_key::delete_records, 0, 1, handle_delete_records},
    {api_key::describe_configs, 0, 2, handle_describe_configs},
    {api_key::alter_configs, 0, 1, handle_alter_configs},
    {api_key::create_partitions, 0, 2, handle_create_partitions},
    {api_key::incremental_alter_configs, 0, 1, handle_incremental_alter_configs},
    {api_key::find_coordinator, 0, 3, handle_find_coordinator},
    {api_key::join_group, 0, 6, handle_join_group},
    {api_key::heartbeat, 0, 4, handle_heartbeat},
    {api_key::leave_group, 0, 4, handle_leave_group},
    {api_key::sync_group, 0, 4, handle_sync_group},
    {api_key::describe_groups, 0, 5, handle_describe_groups},
    {api_key::list_groups, 0, 4, handle_list_groups},
    {api_key::init_producer_id, 0, 4, handle_init_producer_id},
    {api_key::delete_groups, 0, 2, handle_delete_groups},
    {api_key::offset_delete, 0, 0, handle_offset_delete},
}};

}  // namespace

std::span<const handler_entry> registered_handlers() { return kHandlers; }

const handler_entry* find_handler(api_key key) {
  for (auto& h : kHandlers)
    if (h.key == key) return &h;
  return nullptr;
}

}  // namespace tern::kafka
