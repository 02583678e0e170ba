// DescribeConfigs (32): every supported topic config with its effective value and source;
// for the broker resource, the broker-wide defaults (read-only: set in tern.toml).
#include <set>

#include "kafka/codec/describe_configs.h"
#include "kafka/handlers/config_resources.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {
namespace {

using result_t = describe_configs_response::describe_configs_result;
using entry_t = describe_configs_response::describe_configs_resource_result;

bool wanted(const std::optional<std::vector<std::string>>& keys, const std::string& name) {
  if (!keys) return true;
  for (auto& k : *keys)
    if (k == name) return true;
  return false;
}

void describe_topic(request_context& ctx, const broker::topic_metadata& t,
                    const std::optional<std::vector<std::string>>& keys, bool synonyms,
                    result_t& out) {
  for (auto& d : broker::describe_topic_config(t.overrides, ctx.broker.config().log_defaults)) {
    if (!wanted(keys, d.name)) continue;
    entry_t e;
    e.name = d.name;
    e.value = d.value;
    e.read_only = d.read_only;
    e.is_default = d.is_default;
    e.config_source = d.is_default ? kSourceDefault : kSourceDynamicTopic;
    if (synonyms && !d.is_default)
      e.synonyms.push_back({d.name, d.value, kSourceDynamicTopic});
    out.configs.push_back(std::move(e));
  }
}

void describe_broker(request_context& ctx, const std::optional<std::vector<std::string>>& keys,
                     result_t& out) {
  auto& c = ctx.broker.config();
  auto& l = c.log_defaults;
  std::vector<std::pair<std::string, std::string>> all = {
      {"broker.id", std::to_string(c.node_id)},
      {"auto.create.topics.enable", c.auto_create_topics ? "true" : "false"},
      {"num.partitions", std::to_string(c.default_partitions)},
      {"log.dirs", c.data_dir.string()},
      {"log.retention.ms", std::to_string(l.retention_ms)},
      {"log.retention.bytes", std::to_string(l.retention_bytes)},
      {"log.segment.bytes", std::to_string(l.segment_bytes)},
      {"log.roll.ms", std::to_string(l.segment_ms)},
      {"message.max.bytes", std::to_string(l.max_message_bytes)},
      {"socket.request.max.bytes", std::to_string(ctx.cfg.max_request_bytes)},
      {"default.replication.factor", "1"},
  };
  for (auto& [name, value] : all) {
    if (!wanted(keys, name)) continue;
    entry_t e;
    e.name = name;
    e.value = value;
    e.read_only = true;
    e.config_source = kSourceStaticBroker;
    out.configs.push_back(std::move(e));
  }
}

}  // namespace

net::awaitable<void> handle_describe_configs(request_context& ctx) {
  auto req = ctx.decode<describe_configs_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  auto snap = ctx.broker.topics();
  describe_configs_response resp;
  for (auto& r : req->resources) {
    auto& out = resp.results.emplace_back();
    out.resource_type = r.resource_type;
    out.resource_name = r.resource_name;
    if (r.resource_type == int8_t(resource_type::topic)) {
      if (auto* t = snap->find(r.resource_name)) {
        describe_topic(ctx, *t, r.configuration_keys, req->include_synonyms, out);
      } else {
        out.error_code = code(error_code::unknown_topic_or_partition);
        out.error_message = "unknown topic " + r.resource_name;
      }
    } else if (r.resource_type == int8_t(resource_type::broker)) {
      if (auto err = check_broker_resource(ctx, r.resource_name)) {
        out.error_code = code(err->code);
        out.error_message = err->message;
      } else {
        describe_broker(ctx, r.configuration_keys, out);
      }
    } else {
      out.error_code = code(error_code::invalid_request);
      out.error_message = "unsupported resource type " + std::to_string(r.resource_type);
    }
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
