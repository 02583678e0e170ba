// OffsetDelete (47, KIP-496): drops committed offsets of a group that is Empty, or of a
// consumer group for topics it no longer subscribes to (GROUP_SUBSCRIBED_TO_TOPIC otherwise).
// As in Kafka, partitions that do not exist answer UNKNOWN_TOPIC_OR_PARTITION and are not
// passed on, while the coordinator is always asked (for the group-level error:
// GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP), which, when set, replaces every partition answer.
#include "kafka/codec/offset_delete.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_offset_delete(request_context& ctx) {
  auto req = ctx.decode<offset_delete_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  // The response mirrors the request; `slot[i]` (topic, partition index in the response) is
  // where the coordinator's answer to the i-th partition passed on goes.
  offset_delete_response resp;
  std::vector<std::pair<size_t, size_t>> slot;
  std::vector<group::topic_partition> partitions;
  auto snap = ctx.broker.topics();
  for (auto& t : req->topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = t.name;
    const broker::topic_metadata* meta = snap->find(t.name);
    for (auto& p : t.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = p.partition_index;
      if (!meta || p.partition_index < 0 || p.partition_index >= meta->partitions) {
        pr.error_code = code(error_code::unknown_topic_or_partition);
        continue;
      }
      partitions.push_back({t.name, p.partition_index});
      slot.emplace_back(resp.topics.size() - 1, tr.partitions.size() - 1);
    }
  }

  auto r = co_await ctx.groups.call<group::offset_delete_result>(
      req->group_id, [&](group::coordinator& c, group::time_point now,
                         std::function<void(group::offset_delete_result)> done) {
        c.delete_offsets(req->group_id, std::move(partitions), now, std::move(done));
      });

  if (r.error != group::errc::none) {
    offset_delete_response failed;
    failed.error_code = group::wire_code(r.error);
    ctx.respond(failed);
    co_return;
  }
  // One answer per partition passed on, in that order (the coordinator's contract).
  for (size_t i = 0; i < slot.size(); ++i) {
    auto [ti, pi] = slot[i];
    resp.topics[ti].partitions[pi].error_code = i < r.partitions.size()
                                                    ? group::wire_code(r.partitions[i].error)
                                                    : code(error_code::unknown_server_error);
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
