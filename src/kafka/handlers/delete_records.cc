// DeleteRecords (21): raises partitions' log start offsets (-1 = up to the high watermark).
#include "kafka/codec/delete_records.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_delete_records(request_context& ctx) {
  auto req = ctx.decode<delete_records_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  delete_records_response resp;
  for (auto& t : req->topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = t.name;
    for (auto& p : t.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = p.partition_index;
      pr.low_watermark = -1;
      auto r = co_await ctx.broker.delete_records(t.name, p.partition_index, p.offset);
      if (r) pr.low_watermark = *r;
      else pr.error_code = code(to_kafka_error(r.error()));
    }
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
