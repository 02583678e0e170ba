// CreateTopics (19). A single node holds the only replica, so the replication factor must be
// 1 (or -1, the default) and manual assignments may name only this broker.
#include "kafka/codec/create_topics.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_create_topics(request_context& ctx) {
  auto req = ctx.decode<create_topics_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  auto& b = ctx.broker;
  create_topics_response resp;
  for (auto& t : req->topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = t.name;
    auto fail = [&](error_code e, std::string why) {
      tr.error_code = code(e);
      tr.error_message = std::move(why);
    };
    int32_t partitions = t.num_partitions;
    if (!t.assignments.empty()) {
      if (partitions != -1) {
        fail(error_code::invalid_request, "give either num_partitions or assignments, not both");
        continue;
      }
      partitions = int32_t(t.assignments.size());
      bool only_us = true;
      for (auto& a : t.assignments)
        for (int32_t id : a.broker_ids) only_us = only_us && id == b.node_id();
      if (!only_us) {
        fail(error_code::invalid_replica_assignment,
             "assignments may only name broker " + std::to_string(b.node_id()));
        continue;
      }
    } else if (t.replication_factor != -1 && t.replication_factor != 1) {
      fail(error_code::invalid_replication_factor,
           "replication factor " + std::to_string(t.replication_factor) +
               " is larger than the number of brokers (1)");
      continue;
    }
    broker::config_map configs;
    bool null_value = false;
    for (auto& c : t.configs) {
      if (!c.value) null_value = true;
      else configs[c.name] = *c.value;
    }
    if (null_value) {
      fail(error_code::invalid_config, "config values may not be null");
      continue;
    }
    std::string why;
    auto r = co_await b.create_topic(t.name, partitions, configs, req->validate_only, &why);
    if (!r) {
      fail(to_kafka_error(r.error()), why.empty() ? r.error().message() : why);
      continue;
    }
    tr.num_partitions = partitions == -1 ? b.config().default_partitions : partitions;
    tr.replication_factor = 1;
    if (ctx.header.version >= 5) {
      std::vector<create_topics_response::creatable_topic_configs> out;
      for (auto& d : broker::describe_topic_config(configs, b.config().log_defaults)) {
        create_topics_response::creatable_topic_configs c;
        c.name = d.name;
        c.value = d.value;
        c.read_only = d.read_only;
        c.config_source = d.is_default ? 5 : 1;  // DEFAULT_CONFIG : DYNAMIC_TOPIC_CONFIG
        out.push_back(std::move(c));
      }
      tr.configs = std::move(out);
    }
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
