// CreatePartitions (37): grows a topic to `count` partitions.
#include "kafka/codec/create_partitions.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_create_partitions(request_context& ctx) {
  auto req = ctx.decode<create_partitions_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  create_partitions_response resp;
  for (auto& t : req->topics) {
    auto& out = resp.results.emplace_back();
    out.name = t.name;
    if (t.assignments) {
      bool only_us = true;
      for (auto& a : *t.assignments)
        for (int32_t id : a.broker_ids) only_us = only_us && id == ctx.broker.node_id();
      if (!only_us) {
        out.error_code = code(error_code::invalid_replica_assignment);
        out.error_message = "assignments may only name broker " + std::to_string(ctx.broker.node_id());
        continue;
      }
    }
    std::string why;
    auto r = co_await ctx.broker.create_partitions(t.name, t.count, req->validate_only, &why);
    if (!r) {
      out.error_code = code(to_kafka_error(r.error()));
      out.error_message = why.empty() ? r.error().message() : why;
    }
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
