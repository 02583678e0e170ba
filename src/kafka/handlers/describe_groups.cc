// DescribeGroups (15): state, protocol and members of each group asked for; a group that does
// not exist is "Dead" with no members and no error, as in Kafka. Member metadata and
// assignments are shown only for a Stable group. Each shard is asked once, for its groups;
// the answers keep the request's order.
//
// Authorized operations (v3+, KIP-430): INT32_MIN ("not asked") unless the client asks. Tern
// has no authorizer, and Kafka without one answers every operation the resource type supports:
// for a group READ (3), DELETE (6) and DESCRIBE (8), one bit each.
#include <map>

#include "kafka/codec/describe_groups.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {
namespace {

constexpr int32_t kGroupOperations = (1 << 3) | (1 << 6) | (1 << 8);

}  // namespace

net::awaitable<void> handle_describe_groups(request_context& ctx) {
  auto req = ctx.decode<describe_groups_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  // shard -> positions in the request of the groups it owns
  std::map<unsigned, std::vector<size_t>> by_shard;
  for (size_t i = 0; i < req->groups.size(); ++i)
    by_shard[ctx.groups.shard_of_group(req->groups[i])].push_back(i);

  std::vector<group::group_description> found(req->groups.size());
  for (auto& entry : by_shard) {
    const auto& positions = entry.second;
    auto part = co_await ctx.groups.call_on<std::vector<group::group_description>>(
        entry.first, [&](group::coordinator& c, group::time_point,
                         std::function<void(std::vector<group::group_description>)> done) {
          std::vector<group::group_description> out;
          out.reserve(positions.size());
          for (size_t i : positions) out.push_back(c.describe_group(req->groups[i]));
          done(std::move(out));
        });
    for (size_t k = 0; k < positions.size() && k < part.size(); ++k)
      found[positions[k]] = std::move(part[k]);
  }

  describe_groups_response resp;
  resp.groups.reserve(found.size());
  for (auto& d : found) {
    auto& out = resp.groups.emplace_back();
    out.error_code = group::wire_code(d.error);
    out.group_id = std::move(d.group_id);
    out.group_state = std::move(d.state);
    out.protocol_type = std::move(d.protocol_type);
    out.protocol_data = std::move(d.protocol_name);
    out.members.reserve(d.members.size());
    for (auto& m : d.members) {
      auto& mo = out.members.emplace_back();
      mo.member_id = std::move(m.member_id);
      mo.group_instance_id = std::move(m.group_instance_id);
      mo.client_id = std::move(m.client_id);
      mo.client_host = std::move(m.client_host);
      mo.member_metadata = std::move(m.metadata);
      mo.member_assignment = std::move(m.assignment);
    }
    // As in Kafka, only for a group described without error.
    if (req->include_authorized_operations && d.error == group::errc::none)
      out.authorized_operations = kGroupOperations;
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
