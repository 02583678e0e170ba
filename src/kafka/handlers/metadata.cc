// Metadata (3): brokers (this one), and topics with their partitions. Unknown topics are
// created when the client allows it and the broker's auto_create_topics is on, as in Kafka.
#include "kafka/codec/metadata.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {
namespace {

metadata_response::metadata_response_topic describe_topic(const broker::topic_metadata& t,
                                                          int32_t node) {
  metadata_response::metadata_response_topic out;
  out.name = t.name;
  out.is_internal = t.name.starts_with("__");
  for (int32_t p = 0; p < t.partitions; ++p) {
    metadata_response::metadata_response_partition part;
    part.partition_index = p;
    part.leader_id = node;
    part.leader_epoch = 0;
    part.replica_nodes = {node};
    part.isr_nodes = {node};
    out.partitions.push_back(std::move(part));
  }
  return out;
}

}  // namespace

net::awaitable<void> handle_metadata(request_context& ctx) {
  auto req = ctx.decode<metadata_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  auto& b = ctx.broker;
  int32_t node = b.node_id();
  metadata_response resp;
  resp.brokers.push_back({node, ctx.cfg.advertised_host, ctx.cfg.advertised_port, std::nullopt});
  resp.cluster_id = ctx.cfg.cluster_id;
  resp.controller_id = node;

  // v0 sends an empty list for "all topics"; v1+ sends null.
  bool all = !req->topics || (ctx.header.version == 0 && req->topics->empty());
  if (all) {
    auto snap = b.topics();
    for (auto& [name, t] : snap->topics) resp.topics.push_back(describe_topic(*t, node));
    ctx.respond(resp);
    co_return;
  }
  bool may_create = req->allow_auto_topic_creation && b.config().auto_create_topics;
  for (auto& requested : *req->topics) {
    auto snap = b.topics();
    const broker::topic_metadata* t = snap->find(requested.name);
    if (!t && may_create) {
      auto created = co_await b.auto_create_topic(requested.name);
      if (!created) {
        metadata_response::metadata_response_topic missing;
        missing.name = requested.name;
        missing.error_code = code(to_kafka_error(created.error()));
        resp.topics.push_back(std::move(missing));
        continue;
      }
      snap = b.topics();
      t = snap->find(requested.name);
    }
    if (!t) {
      metadata_response::metadata_response_topic missing;
      missing.name = requested.name;
      missing.error_code = code(broker::is_valid_topic_name(requested.name)
                                    ? error_code::unknown_topic_or_partition
                                    : error_code::invalid_topic_exception);
      resp.topics.push_back(std::move(missing));
      continue;
    }
    resp.topics.push_back(describe_topic(*t, node));
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
