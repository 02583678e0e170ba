// ListOffsets (2): earliest (-2), latest (-1, the high watermark) or the first offset whose
// record timestamp is at or after a given time.
#include "kafka/codec/list_offsets.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {
namespace {
constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;
}  // namespace

net::awaitable<void> handle_list_offsets(request_context& ctx) {
  auto req = ctx.decode<list_offsets_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  auto& b = ctx.broker;
  auto snap = b.topics();
  list_offsets_response resp;
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
      pr.leader_epoch = 0;
      if (p.timestamp == kLatest || p.timestamp == kEarliest) {
        auto o = co_await b.offsets(t.name, p.partition_index);
        pr.error_code = code(to_kafka_error(o.error));
        pr.offset = p.timestamp == kLatest ? o.high_watermark : o.log_start_offset;
        pr.timestamp = -1;
      } else if (p.timestamp < 0) {
        pr.error_code = code(error_code::invalid_request);
        continue;
      } else {
        auto r = co_await b.offset_for_timestamp(t.name, p.partition_index, p.timestamp);
        if (!r) {
          pr.error_code = code(to_kafka_error(r.error()));
          continue;
        }
        if (*r) {
          pr.offset = (*r)->first;
          pr.timestamp = (*r)->second;
        }
      }
      // v0 answers with a list of offsets (at most max_num_offsets; Tern returns the one).
      if (ctx.header.version == 0 && pr.error_code == 0 && pr.offset >= 0)
        pr.old_style_offsets = {pr.offset};
    }
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
