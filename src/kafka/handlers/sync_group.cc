// SyncGroup (14): after a JoinGroup round the leader sends every member's assignment; each
// member (leader included) waits here for its own. Assignments are opaque bytes. The leader's
// SyncGroup is answered only once the group's new generation is durable in the offsets topic.
#include "kafka/codec/sync_group.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_sync_group(request_context& ctx) {
  auto req = ctx.decode<sync_group_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  group::sync_request sreq;
  sreq.group_id = req->group_id;
  sreq.generation_id = req->generation_id;
  sreq.member_id = std::move(req->member_id);
  sreq.group_instance_id = std::move(req->group_instance_id);
  // protocol_type/protocol_name arrive from v5, beyond the range served: left unset, unchecked.
  sreq.assignments.reserve(req->assignments.size());
  for (auto& a : req->assignments)
    sreq.assignments.push_back({std::move(a.member_id), std::move(a.assignment)});

  auto r = co_await ctx.groups.call<group::sync_result>(
      req->group_id, [&](group::coordinator& c, group::time_point now,
                         std::function<void(group::sync_result)> done) {
        c.sync(std::move(sreq), now, std::move(done));
      });

  sync_group_response resp;
  resp.error_code = group::wire_code(r.error);
  resp.assignment = std::move(r.assignment);
  ctx.respond(resp);
}

}  // namespace tern::kafka
