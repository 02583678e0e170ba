#include "app/queue_commands.h"

#include <fmt/format.h>

#include "app/queue_output.h"

namespace tern::app {

void add_queue_commands(CLI::App& parent, queue_command& cmd) {
  cmd.app = parent.add_subcommand("queue", "List, describe, purge and delete AMQP queues");
  cmd.app->require_subcommand(1);
  auto vhost_option = [&](CLI::App* sub, const char* help) {
    sub->add_option("--vhost", cmd.vhost, help)->capture_default_str();
  };

  cmd.list = cmd.app->add_subcommand(
      "list", "List queues with their ready, unacknowledged and consumer counts");
  cmd.list->add_option("--vhost", cmd.vhost, "only the queues of this vhost [default: all]");
  add_http_admin_options(cmd.list, cmd.options);

  cmd.describe = cmd.app->add_subcommand("describe", "Show one queue's settings and counters");
  cmd.describe->add_option("NAME", cmd.name, "queue name")->required();
  vhost_option(cmd.describe, "the queue's vhost");
  add_http_admin_options(cmd.describe, cmd.options);

  cmd.purge = cmd.app->add_subcommand("purge", "Delete a queue's ready messages");
  cmd.purge->add_option("NAME", cmd.name, "queue name")->required();
  vhost_option(cmd.purge, "the queue's vhost");
  add_http_admin_options(cmd.purge, cmd.options);

  cmd.remove = cmd.app->add_subcommand("delete", "Delete a queue and its messages");
  cmd.remove->add_option("NAME", cmd.name, "queue name")->required();
  vhost_option(cmd.remove, "the queue's vhost");
  cmd.remove->add_flag("--if-unused", cmd.if_unused, "only if it has no consumers");
  cmd.remove->add_flag("--if-empty", cmd.if_empty, "only if it has no ready messages");
  add_http_admin_options(cmd.remove, cmd.options);
}

int run_queue_command(const queue_command& cmd, std::FILE* out, std::FILE* err) {
  std::string address =
      http_address_for(cmd.options, {cmd.list, cmd.describe, cmd.purge, cmd.remove});
  auto call = [&](const char* method, const std::string& target, nlohmann::json& body) {
    return call_admin_api(address, cmd.options.timeout_ms, method, target, err, body);
  };
  std::string one = "/api/queues/" + path_segment(cmd.vhost) + "/" + path_segment(cmd.name);
  nlohmann::json body;
  std::string text;
  if (cmd.list->parsed()) {
    bool one_vhost = cmd.list->get_option("--vhost")->count() > 0;
    if (!call("GET", one_vhost ? "/api/queues/" + path_segment(cmd.vhost) : "/api/queues", body))
      return 1;
    text = format_queue_list(body, cmd.options.json);
  } else if (cmd.describe->parsed()) {
    if (!call("GET", one, body)) return 1;
    text = format_queue_description(body, cmd.options.json);
  } else if (cmd.purge->parsed()) {
    if (!call("DELETE", one + "/contents", body)) return 1;
    text = format_queue_purged(body, cmd.options.json);
  } else if (cmd.remove->parsed()) {
    std::string query;
    if (cmd.if_unused) query += "if-unused=true";
    if (cmd.if_empty) query += std::string(query.empty() ? "" : "&") + "if-empty=true";
    if (!call("DELETE", query.empty() ? one : one + "?" + query, body)) return 1;
    text = format_queue_deleted(body, cmd.options.json);
  } else {
    return 1;  // require_subcommand(1) makes this unreachable
  }
  std::fputs(text.c_str(), out);
  return 0;
}

void add_vhost_commands(CLI::App& parent, vhost_command& cmd) {
  cmd.app = parent.add_subcommand("vhost", "Add, delete and list AMQP virtual hosts");
  cmd.app->require_subcommand(1);
  cmd.add = cmd.app->add_subcommand("add", "Create a vhost (nothing happens if it exists)");
  cmd.add->add_option("NAME", cmd.name, "vhost name")->required();
  add_http_admin_options(cmd.add, cmd.options);
  cmd.remove = cmd.app->add_subcommand("delete",
                                       "Delete a vhost with all its queues, "
                                       "exchanges and messages");
  cmd.remove->add_option("NAME", cmd.name, "vhost name")->required();
  add_http_admin_options(cmd.remove, cmd.options);
  cmd.list = cmd.app->add_subcommand("list", "List vhosts");
  add_http_admin_options(cmd.list, cmd.options);
}

int run_vhost_command(const vhost_command& cmd, std::FILE* out, std::FILE* err) {
  std::string address = http_address_for(cmd.options, {cmd.add, cmd.remove, cmd.list});
  std::string target = "/api/vhosts/" + path_segment(cmd.name);
  nlohmann::json body;
  int status = 0;
  std::string text;
  bool json = cmd.options.json;
  if (cmd.add->parsed()) {
    if (!call_admin_api(address, cmd.options.timeout_ms, "PUT", target, err, body, &status))
      return 1;
    bool created = status == 201;
    text = json      ? nlohmann::json{{"name", cmd.name}, {"created", created}}.dump() + "\n"
           : created ? fmt::format("Created vhost {}.\n", cmd.name)
                     : fmt::format("Vhost {} already exists.\n", cmd.name);
  } else if (cmd.remove->parsed()) {
    if (!call_admin_api(address, cmd.options.timeout_ms, "DELETE", target, err, body)) return 1;
    text = json ? nlohmann::json{{"name", cmd.name}, {"deleted", true}}.dump() + "\n"
                : fmt::format("Deleted vhost {}.\n", cmd.name);
  } else if (cmd.list->parsed()) {
    if (!call_admin_api(address, cmd.options.timeout_ms, "GET", "/api/vhosts", err, body)) return 1;
    text = format_vhost_list(body, json);
  } else {
    return 1;
  }
  std::fputs(text.c_str(), out);
  return 0;
}

}  // namespace tern::app
