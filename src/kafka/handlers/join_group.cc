// JoinGroup (11): a member joins (or rejoins) a consumer group; the answer waits until the
// group's rebalance completes. The group coordinator (src/group) does all the work on the
// group's shard; this handler only translates. The leader alone gets the members' metadata.
// Protocol metadata is opaque here (the consumer protocol's subscription, or anything else a
// client-side protocol sends).
#include "kafka/codec/join_group.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_join_group(request_context& ctx) {
  auto req = ctx.decode<join_group_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  group::join_request jreq;
  jreq.api_version = ctx.header.version;
  jreq.group_id = req->group_id;
  jreq.member_id = std::move(req->member_id);
  jreq.group_instance_id = std::move(req->group_instance_id);
  jreq.client_id = ctx.header.client_id.value_or("");
  jreq.client_host = ctx.peer_host;
  jreq.session_timeout_ms = req->session_timeout_ms;
  // v0 has no rebalance timeout: -1 tells the coordinator to use the session timeout.
  jreq.rebalance_timeout_ms = ctx.header.version >= 1 ? req->rebalance_timeout_ms : -1;
  jreq.protocol_type = std::move(req->protocol_type);
  jreq.protocols.reserve(req->protocols.size());
  for (auto& p : req->protocols)
    jreq.protocols.push_back({std::move(p.name), std::move(p.metadata)});

  auto r = co_await ctx.groups.call<group::join_result>(
      req->group_id, [&](group::coordinator& c, group::time_point now,
                         std::function<void(group::join_result)> done) {
        c.join(std::move(jreq), now, std::move(done));
      });

  join_group_response resp;
  resp.error_code = group::wire_code(r.error);
  resp.generation_id = r.generation_id;
  resp.protocol_name = r.protocol_name.value_or("");  // nullable only from v7
  resp.leader = std::move(r.leader);
  resp.member_id = std::move(r.member_id);
  resp.members.reserve(r.members.size());
  for (auto& m : r.members) {
    auto& out = resp.members.emplace_back();
    out.member_id = std::move(m.member_id);
    out.group_instance_id = std::move(m.group_instance_id);
    out.metadata = std::move(m.metadata);
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
