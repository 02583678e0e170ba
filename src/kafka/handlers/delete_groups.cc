// DeleteGroups (42): deletes Empty groups with their committed offsets (NON_EMPTY_GROUP while
// members remain, GROUP_ID_NOT_FOUND for unknown ones); answered once the tombstones are
// durable. The ids are sent to their shards, one call per shard; as in Kafka the request is a
// set, so an id named twice is answered once, in the order of its first mention.
#include <algorithm>
#include <map>

#include "kafka/codec/delete_groups.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_delete_groups(request_context& ctx) {
  auto req = ctx.decode<delete_groups_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  std::vector<std::string> ids;  // distinct, in request order
  std::map<unsigned, std::vector<std::string>> by_shard;
  for (auto& id : req->groups_names) {
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) continue;
    ids.push_back(id);
    by_shard[ctx.groups.shard_of_group(id)].push_back(id);
  }

  std::map<std::string, group::errc, std::less<>> outcome;
  for (auto& entry : by_shard) {
    auto& group_ids = entry.second;
    auto part = co_await ctx.groups.call_on<std::vector<group::group_deletion>>(
        entry.first, [&](group::coordinator& c, group::time_point now,
                         std::function<void(std::vector<group::group_deletion>)> done) {
          c.delete_groups(std::move(group_ids), now, std::move(done));
        });
    for (auto& d : part) outcome[d.group_id] = d.error;
  }

  delete_groups_response resp;
  resp.results.reserve(ids.size());
  for (auto& id : ids) {
    auto& out = resp.results.emplace_back();
    auto it = outcome.find(id);
    // Every id is answered by the coordinator; a missing one would be a coordinator bug.
    out.error_code =
        it != outcome.end() ? group::wire_code(it->second) : code(error_code::unknown_server_error);
    out.group_id = std::move(id);
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
