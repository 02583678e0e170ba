// LeaveGroup (13): members leave a group, which then rebalances. v0-2 name one member and
// get one error back (the group's, else the member's); v3+ (KIP-345) name a batch of members,
// by member id and/or group instance id, each answered with its own error.
#include "kafka/codec/leave_group.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_leave_group(request_context& ctx) {
  auto req = ctx.decode<leave_group_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  const bool batch = ctx.header.version >= 3;
  group::leave_request lreq;
  lreq.group_id = req->group_id;
  if (batch) {
    lreq.members.reserve(req->members.size());
    for (auto& m : req->members)
      lreq.members.push_back({std::move(m.member_id), std::move(m.group_instance_id)});
  } else {
    lreq.members.push_back({std::move(req->member_id), std::nullopt});
  }

  auto r = co_await ctx.groups.call<group::leave_result>(
      req->group_id,
      [&](group::coordinator& c, group::time_point now,
          std::function<void(group::leave_result)> done) { done(c.leave(lreq, now)); });

  leave_group_response resp;
  if (!batch) {
    resp.error_code = group::wire_code(r.v0_error());
  } else {
    resp.error_code = group::wire_code(r.error);
    resp.members.reserve(r.members.size());
    for (auto& m : r.members) {
      auto& out = resp.members.emplace_back();
      out.member_id = std::move(m.member_id);
      out.group_instance_id = std::move(m.group_instance_id);
      out.error_code = group::wire_code(m.error);
    }
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
