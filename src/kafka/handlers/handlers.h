#pragma once
// One handler per Kafka API, each in handlers/<api>.cc, registered in one list
// (handlers/registry.cc) with the version range Tern serves. ApiVersions advertises exactly
// this list, so a client never learns of an API Tern cannot answer.

#include <span>

#include "kafka/request_context.h"
#include "net/asio.h"

namespace tern::kafka {

using handler_fn = net::awaitable<void> (*)(request_context&);

struct handler_entry {
  api_key key;
  int16_t min_version;
  int16_t max_version;
  handler_fn fn;
};

std::span<const handler_entry> registered_handlers();
const handler_entry* find_handler(api_key key);

net::awaitable<void> handle_api_versions(request_context& ctx);
net::awaitable<void> handle_metadata(request_context& ctx);
net::awaitable<void> handle_produce(request_context& ctx);
net::awaitable<void> handle_fetch(request_context& ctx);
net::awaitable<void> handle_list_offsets(request_context& ctx);
net::awaitable<void> handle_create_topics(request_context& ctx);
net::awaitable<void> handle_delete_topics(request_context& ctx);
net::awaitable<void> handle_create_partitions(request_context& ctx);
net::awaitable<void> handle_describe_configs(request_context& ctx);
net::awaitable<void> handle_alter_configs(request_context& ctx);
net::awaitable<void> handle_incremental_alter_configs(request_context& ctx);
net::awaitable<void> handle_delete_records(request_context& ctx);
net::awaitable<void> handle_find_coordinator(request_context& ctx);
net::awaitable<void> handle_init_producer_id(request_context& ctx);
net::awaitable<void> handle_join_group(request_context& ctx);
net::awaitable<void> handle_sync_group(request_context& ctx);
net::awaitable<void> handle_heartbeat(request_context& ctx);
net::awaitable<void> handle_leave_group(request_context& ctx);
net::awaitable<void> handle_offset_commit(request_context& ctx);
net::awaitable<void> handle_offset_fetch(request_context& ctx);
net::awaitable<void> handle_list_groups(request_context& ctx);
net::awaitable<void> handle_describe_groups(request_context& ctx);
net::awaitable<void> handle_delete_groups(request_context& ctx);
net::awaitable<void> handle_offset_delete(request_context& ctx);

// The ApiVersions answer to a version Tern does not know: UNSUPPORTED_VERSION with the list,
// in the v0 layout every client can read.
void respond_unsupported_api_version(request_context& ctx);

}  // namespace tern::kafka
