// Heartbeat (12): keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin.
#include "kafka/codec/heartbeat.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_heartbeat(request_context& ctx) {
  auto req = ctx.decode<heartbeat_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  group::heartbeat_request hreq;
  hreq.group_id = req->group_id;
  hreq.generation_id = req->generation_id;
  hreq.member_id = std::move(req->member_id);
  hreq.group_instance_id = std::move(req->group_instance_id);

  auto e = co_await ctx.groups.call<group::errc>(
      req->group_id, [&](group::coordinator& c, group::time_point now,
                         std::function<void(group::errc)> done) { done(c.heartbeat(hreq, now)); });

  heartbeat_response resp;
  resp.error_code = group::wire_code(e);
  ctx.respond(resp);
}

}  // namespace tern::kafka
