// OffsetFetch (9): a group's committed offsets, for the partitions asked for or (v2+, null
// topics) for every partition the group has committed. A partition without a committed offset,
// including one of a topic that does not exist, answers offset -1 and no error, as Kafka does.
// Group-level errors go in the top-level error code from v2; v0-1 have none, so there they go
// on every requested partition. require_stable (v7) answers UNSTABLE_OFFSET_COMMIT for
// partitions with a commit still being persisted.
#include "kafka/codec/offset_fetch.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_offset_fetch(request_context& ctx) {
  auto req = ctx.decode<offset_fetch_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  std::optional<std::vector<group::topic_partition>> wanted;
  if (req->topics || ctx.header.version < 2) {  // v0-1 cannot ask for "all"
    wanted.emplace();
    if (req->topics)
      for (auto& t : *req->topics)
        for (int32_t p : t.partition_indexes) wanted->push_back({t.name, p});
  }

  auto r = co_await ctx.groups.call<group::offset_fetch_result>(
      req->group_id, [&](group::coordinator& c, group::time_point,
                         std::function<void(group::offset_fetch_result)> done) {
        done(c.fetch_offsets(req->group_id, wanted, req->require_stable));
      });

  offset_fetch_response resp;
  const bool group_error_field = ctx.header.version >= 2;
  if (r.error != group::errc::none) {
    // Kafka's error response: v2+ the group error alone; v0-1 each requested partition.
    if (group_error_field) {
      resp.error_code = group::wire_code(r.error);
    } else if (req->topics) {
      for (auto& t : *req->topics) {
        auto& tr = resp.topics.emplace_back();
        tr.name = t.name;
        for (int32_t p : t.partition_indexes) {
          auto& pr = tr.partitions.emplace_back();
          pr.partition_index = p;
          pr.committed_offset = -1;
          pr.metadata = "";
          pr.error_code = group::wire_code(r.error);
        }
      }
    }
    ctx.respond(resp);
    co_return;
  }

  // Answers come in request order, or sorted by topic and partition for "all": consecutive
  // entries of one topic share a response topic. (A topic named twice in the request, apart,
  // is answered twice, as asked.)
  for (auto& f : r.offsets) {
    if (resp.topics.empty() || resp.topics.back().name != f.tp.topic) {
      resp.topics.emplace_back().name = f.tp.topic;
    }
    auto& pr = resp.topics.back().partitions.emplace_back();
    pr.partition_index = f.tp.partition;
    pr.committed_offset = f.offset;
    pr.committed_leader_epoch = f.leader_epoch;
    pr.metadata = std::move(f.metadata);
    pr.error_code = group::wire_code(f.error);
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
