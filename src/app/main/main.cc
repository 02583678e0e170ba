// The `tern` executable: parses the command line and hands over to the chosen subcommand.
// Everything with behaviour lives in the tern_app library so it can be tested.

#include <cstdio>

#include <CLI/CLI.hpp>

#include "app/cli_serve.h"
#include "app/group_commands.h"
#include "app/queue_commands.h"
#include "app/topic_commands.h"
#include "app/version.h"

int main(int argc, char** argv) {
  using namespace tern::app;
  CLI::App app{"Tern: a durable message broker that speaks the Kafka protocol", "tern"};
  app.require_subcommand(1);

  serve_command serve;
  add_serve_command(app, serve);
  topic_command topic;
  add_topic_commands(app, topic);
  group_command group;
  add_group_commands(app, group);
  queue_command queue;
  add_queue_commands(app, queue);
  vhost_command vhost;
  add_vhost_commands(app, vhost);
  auto* version_cmd = app.add_subcommand("version", "Print the version and exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (serve.app->parsed()) return run_serve_command(serve);
  if (topic.app->parsed()) return run_topic_command(topic, stdout, stderr);
  if (group.app->parsed()) return run_group_command(group, stdout, stderr);
  if (queue.app->parsed()) return run_queue_command(queue, stdout, stderr);
  if (vhost.app->parsed()) return run_vhost_command(vhost, stdout, stderr);
  if (version_cmd->parsed()) {
    std::printf("tern %.*s\n", int(version().size()), version().data());
    return 0;
  }
  return 1;
}
