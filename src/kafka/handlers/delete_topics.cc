// DeleteTopics (20).
#include "kafka/codec/delete_topics.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_delete_topics(request_context& ctx) {
  auto req = ctx.decode<delete_topics_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  delete_topics_response resp;
  for (auto& name : req->topic_names) {
    auto& r = resp.responses.emplace_back();
    r.name = name;
    auto deleted = co_await ctx.broker.delete_topic(name);
    r.error_code = code(to_kafka_error(deleted.error()));
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
