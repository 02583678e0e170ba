// AlterConfigs (33): replaces a topic's overrides with exactly the given set (keys left out
// return to their defaults), as Kafka's legacy API does. Broker configs are static (tern.toml).
#include "kafka/codec/alter_configs.h"
#include "kafka/handlers/config_resources.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_alter_configs(request_context& ctx) {
  auto req = ctx.decode<alter_configs_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  alter_configs_response resp;
  for (auto& r : req->resources) {
    auto& out = resp.responses.emplace_back();
    out.resource_type = r.resource_type;
    out.resource_name = r.resource_name;
    if (r.resource_type != int8_t(resource_type::topic)) {
      out.error_code = code(r.resource_type == int8_t(resource_type::broker)
                                ? error_code::policy_violation
                                : error_code::invalid_request);
      out.error_message = "only topic configs can be altered; broker settings live in tern.toml";
      continue;
    }
    broker::config_map overrides;
    for (auto& c : r.configs)
      if (c.value) overrides[c.name] = *c.value;
    std::string why;
    auto done = co_await ctx.broker.set_topic_configs(r.resource_name, std::move(overrides),
                                                      req->validate_only, &why);
    if (!done) {
      out.error_code = code(to_kafka_error(done.error()));
      out.error_message = why.empty() ? done.error().message() : why;
    }
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
