// IncrementalAlterConfigs (44): SET and DELETE change single keys of a topic's overrides.
// APPEND and SUBTRACT apply to list-valued configs; Tern's only list-valued topic config,
// cleanup.policy, has the single allowed value "delete", so they are refused.
#include "kafka/codec/incremental_alter_configs.h"
#include "kafka/handlers/config_resources.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {
namespace {
enum class op : int8_t { set = 0, remove = 1, append = 2, subtract = 3 };
}

net::awaitable<void> handle_incremental_alter_configs(request_context& ctx) {
  auto req = ctx.decode<incremental_alter_configs_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  incremental_alter_configs_response resp;
  for (auto& r : req->resources) {
    auto& out = resp.responses.emplace_back();
    out.resource_type = r.resource_type;
    out.resource_name = r.resource_name;
    auto fail = [&](error_code e, std::string why) {
      out.error_code = code(e);
      out.error_message = std::move(why);
    };
    if (r.resource_type != int8_t(resource_type::topic)) {
      fail(r.resource_type == int8_t(resource_type::broker) ? error_code::policy_violation
                                                            : error_code::invalid_request,
           "only topic configs can be altered; broker settings live in tern.toml");
      continue;
    }
    auto snap = ctx.broker.topics();
    const broker::topic_metadata* t = snap->find(r.resource_name);
    if (!t) {
      fail(error_code::unknown_topic_or_partition, "unknown topic " + r.resource_name);
      continue;
    }
    broker::config_map overrides = t->overrides;
    bool bad = false;
    for (auto& c : r.configs) {
      switch (op(c.config_operation)) {
        case op::set:
          if (!c.value) {
            fail(error_code::invalid_request, "SET of " + c.name + " needs a value");
            bad = true;
          } else {
            overrides[c.name] = *c.value;
          }
          break;
        case op::remove: overrides.erase(c.name); break;
        case op::append:
        case op::subtract:
          fail(error_code::invalid_config, c.name + " is not a list-valued config Tern can extend");
          bad = true;
          break;
        default:
          fail(error_code::invalid_request, "unknown config operation");
          bad = true;
      }
      if (bad) break;
    }
    if (bad) continue;
    std::string why;
    auto done = co_await ctx.broker.set_topic_configs(r.resource_name, std::move(overrides),
                                                      req->validate_only, &why);
    if (!done) fail(to_kafka_error(done.error()), why.empty() ? done.error().message() : why);
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
