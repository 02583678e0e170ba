// OffsetCommit (8): stores a group's consumed positions in the offsets topic. The answer goes
// out once the commit is durable. v0 (ZooKeeper-era, no generation) is served as a "simple"
// commit outside any group membership, like a v1+ commit with generation -1 and no member id.
// Partitions of topics that do not exist answer UNKNOWN_TOPIC_OR_PARTITION and are not
// committed; when no partition is left the coordinator is not asked at all (as in Kafka, so
// the group's generation is not checked either). retention_time_ms (v2-4) is ignored:
// committed offsets do not expire.
#include "kafka/codec/offset_commit.h"
#include "base/clock.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_offset_commit(request_context& ctx) {
  auto req = ctx.decode<offset_commit_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  // The response mirrors the request; `slot[i]` (topic, partition index in the response) is
  // where the coordinator's answer to its i-th entry goes.
  offset_commit_response resp;
  std::vector<std::pair<size_t, size_t>> slot;

  group::offset_commit_request creq;
  creq.group_id = req->group_id;
  creq.generation_id = req->generation_id_or_member_epoch;  // -1 in v0
  creq.member_id = std::move(req->member_id);               // "" in v0
  creq.group_instance_id = std::move(req->group_instance_id);

  const int64_t now_ms = system_now_ms();
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
      auto& e = creq.offsets.emplace_back();
      e.topic = t.name;
      e.partition = p.partition_index;
      e.offset = p.committed_offset;
      e.leader_epoch = p.committed_leader_epoch;
      e.metadata = std::move(p.committed_metadata);
      // Only v1 carries a timestamp; the codec leaves -1 ("now") for the other versions.
      e.commit_timestamp_ms = p.commit_timestamp != -1 ? p.commit_timestamp : now_ms;
      slot.emplace_back(resp.topics.size() - 1, tr.partitions.size() - 1);
    }
  }

  if (!creq.offsets.empty()) {
    auto errors = co_await ctx.groups.call<std::vector<group::partition_error>>(
        req->group_id, [&](group::coordinator& c, group::time_point now,
                           std::function<void(std::vector<group::partition_error>)> done) {
          c.commit_offsets(std::move(creq), now, std::move(done));
        });
    // One result per entry, in entry order (the coordinator's contract); anything missing
    // would be a coordinator bug, answered as a server error rather than as success.
    for (size_t i = 0; i < slot.size(); ++i) {
      auto [ti, pi] = slot[i];
      resp.topics[ti].partitions[pi].error_code = i < errors.size()
                                                      ? group::wire_code(errors[i].error)
                                                      : code(error_code::unknown_server_error);
    }
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
