#include "app/topic_commands.h"

#include <fmt/format.h>

#include "app/admin_cli.h"
#include "app/admin_client.h"
#include "app/topic_output.h"

namespace tern::app {
namespace {

void add_common(CLI::App* sub, topic_command& cmd) {
  add_admin_options(sub, cmd.bootstrap, cmd.timeout_ms, cmd.json);
}

int fail(std::FILE* err, const admin_error& e) { return report_admin_failure(err, e); }

}  // namespace

void add_topic_commands(CLI::App& parent, topic_command& cmd) {
  cmd.app = parent.add_subcommand("topic", "Create, list, describe and delete topics");
  cmd.app->require_subcommand(1);

  cmd.create = cmd.app->add_subcommand("create", "Create a topic");
  cmd.create->add_option("NAME", cmd.name, "topic name")->required();
  cmd.create
      ->add_option("-p,--partitions", cmd.partitions,
                   "number of partitions [default: the broker's default_partitions]")
      ->check(CLI::PositiveNumber);
  cmd.create
      ->add_option("-c,--config", cmd.configs,
                   "topic config, e.g. retention.ms=3600000 (repeatable)")
      ->type_name("KEY=VALUE")
      ->check([](const std::string& s) -> std::string {
        auto eq = s.find('=');
        return eq == std::string::npos || eq == 0 ? "expected KEY=VALUE" : "";
      });
  add_common(cmd.create, cmd);

  cmd.list = cmd.app->add_subcommand("list", "List topics");
  add_common(cmd.list, cmd);

  cmd.describe = cmd.app->add_subcommand(
      "describe", "Show a topic's partitions, leaders, earliest/latest offsets and configs");
  cmd.describe->add_option("NAME", cmd.name, "topic name")->required();
  add_common(cmd.describe, cmd);

  cmd.remove = cmd.app->add_subcommand("delete", "Delete a topic and all its records");
  cmd.remove->add_option("NAME", cmd.name, "topic name")->required();
  add_common(cmd.remove, cmd);
}

int run_topic_command(const topic_command& cmd, std::FILE* out, std::FILE* err) {
  auto options = admin_options_for(cmd.bootstrap, cmd.timeout_ms, {cmd.create, cmd.list, cmd.describe, cmd.remove});
  auto client = admin_client::connect(options);
  if (!client) return fail(err, client.error());

  std::string text;
  if (cmd.create->parsed()) {
    std::vector<std::pair<std::string, std::string>> configs;
    for (auto& c : cmd.configs) {
      auto eq = c.find('=');
      configs.emplace_back(c.substr(0, eq), c.substr(eq + 1));
    }
    auto r = client->create_topic(cmd.name, cmd.partitions, configs);
    if (!r) return fail(err, r.error());
    text = format_topic_created(*r, cmd.json);
  } else if (cmd.list->parsed()) {
    auto r = client->list_topics();
    if (!r) return fail(err, r.error());
    text = format_topic_list(*r, cmd.json);
  } else if (cmd.describe->parsed()) {
    auto r = client->describe_topic(cmd.name);
    if (!r) return fail(err, r.error());
    text = format_topic_description(*r, cmd.json);
  } else if (cmd.remove->parsed()) {
    auto r = client->delete_topic(cmd.name);
    if (!r) return fail(err, r.error());
    text = format_topic_deleted(cmd.name, cmd.json);
  } else {
    return 1;  // require_subcommand(1) makes this unreachable
  }
  std::fputs(text.c_str(), out);
  return 0;
}

}  // namespace tern::app
