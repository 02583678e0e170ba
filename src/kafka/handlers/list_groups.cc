// ListGroups (16): every group this broker coordinates. Groups live on the shard that owns
// their offsets partition, so every shard is asked and the answers are merged, sorted by
// group id. v4 (KIP-518) filters by state (case-insensitive; unknown names match nothing)
// and answers each group's state.
#include <algorithm>

#include "kafka/codec/list_groups.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_list_groups(request_context& ctx) {
  auto req = ctx.decode<list_groups_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  std::vector<group::group_overview> all;
  for (unsigned shard = 0; shard < ctx.groups.shard_count(); ++shard) {
    auto part = co_await ctx.groups.call_on<std::vector<group::group_overview>>(
        shard, [&](group::coordinator& c, group::time_point,
                   std::function<void(std::vector<group::group_overview>)> done) {
          done(c.list_groups(req->states_filter));
        });
    std::move(part.begin(), part.end(), std::back_inserter(all));
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.group_id < b.group_id; });

  list_groups_response resp;
  resp.groups.reserve(all.size());
  for (auto& g : all) {
    auto& out = resp.groups.emplace_back();
    out.group_id = std::move(g.group_id);
    out.protocol_type = std::move(g.protocol_type);
    out.group_state = std::move(g.state);
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
