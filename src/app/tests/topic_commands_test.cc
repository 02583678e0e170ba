// `tern topic ...` end to end inside the process: the real CLI11 parser, run_topic_command and
// the admin client, against fake_broker.

#include "app/topic_commands.h"

#include <cstdio>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/tests/fake_broker.h"

namespace tern::app {
namespace {

using test::fake_broker;

struct run_result {
  int code = -1;
  std::string out, err;
};

std::string slurp(std::FILE* f) {
  std::rewind(f);
  std::string s;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, f)) s.append(buf, n);
  std::fclose(f);
  return s;
}

// Parses `args` (after "tern") as main() does and runs the topic command.
run_result run(std::vector<std::string> args) {
  CLI::App app{"test", "tern"};
  topic_command cmd;
  add_topic_commands(app, cmd);
  std::vector<const char*> argv{"tern"};
  for (auto& a : args) argv.push_back(a.c_str());
  app.parse(int(argv.size()), const_cast<char**>(argv.data()));
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  run_result r;
  r.code = run_topic_command(cmd, out, err);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

void answer_metadata(fake_broker& b) {
  b.answer<kafka::metadata_request, kafka::metadata_response>(
      [](const kafka::metadata_request&, int16_t, kafka::metadata_response& resp) {
        auto& t = resp.topics.emplace_back();
        t.name = "orders";
        auto& p = t.partitions.emplace_back();
        p.replica_nodes = {0};
        p.isr_nodes = {0};
      });
}

TEST(TopicCommands, ListPrintsColumns) {
  fake_broker b;
  answer_metadata(b);
  b.start();
  auto r = run({"topic", "list", "--bootstrap", b.address()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "NAME    PARTITIONS\norders  1\n");
}

TEST(TopicCommands, CreateExistingFailsWithKafkaErrorName) {
  fake_broker b;
  b.answer<kafka::create_topics_request, kafka::create_topics_response>(
      [](const kafka::create_topics_request& req, int16_t, kafka::create_topics_response& resp) {
        EXPECT_EQ(req.topics.at(0).num_partitions, 3);
        auto& t = resp.topics.emplace_back();
        t.name = req.topics.at(0).name;
        t.error_code = 36;
      });
  b.start();
  auto r = run({"topic", "create", "orders", "-p", "3", "--bootstrap", b.address()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "tern: TOPIC_ALREADY_EXISTS: topic 'orders' already exists\n");
}

TEST(TopicCommands, DescribeJson) {
  fake_broker b;
  answer_metadata(b);
  b.start();  // no ListOffsets/DescribeConfigs handlers: the broker hangs up on them
  auto r = run({"topic", "describe", "orders", "--json", "--bootstrap", b.address()});
  // The fake closes the connection on an unanswered API: describe must fail, not print half.
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "tern: receive: connection closed by the broker\n");
}

TEST(TopicCommands, DescribeJsonWithOffsets) {
  fake_broker b;
  answer_metadata(b);
  b.answer<kafka::list_offsets_request, kafka::list_offsets_response>(
      [](const kafka::list_offsets_request& req, int16_t, kafka::list_offsets_response& resp) {
        auto& t = resp.topics.emplace_back();
        t.name = "orders";
        auto& p = t.partitions.emplace_back();
        p.offset = req.topics.at(0).partitions.at(0).timestamp == -2 ? 5 : 42;
      });
  b.answer<kafka::describe_configs_request, kafka::describe_configs_response>(
      [](const kafka::describe_configs_request&, int16_t, kafka::describe_configs_response& resp) {
        auto& r = resp.results.emplace_back();
        r.resource_type = 2;
        r.resource_name = "orders";
      });
  b.start();
  auto r = run({"topic", "describe", "orders", "--json", "--bootstrap", b.address()});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["name"], "orders");
  EXPECT_EQ(j["partitions"][0]["earliest_offset"], 5);
  EXPECT_EQ(j["partitions"][0]["latest_offset"], 42);
  EXPECT_EQ(j["partitions"][0]["replicas"], nlohmann::json::array({0}));
}

TEST(TopicCommands, BadConfigArgumentIsAUsageError) {
  CLI::App app{"test", "tern"};
  topic_command cmd;
  add_topic_commands(app, cmd);
  const char* argv[] = {"tern", "topic", "create", "t", "--config", "retention.ms"};
  EXPECT_THROW(app.parse(6, const_cast<char**>(argv)), CLI::ValidationError);
}

}  // namespace
}  // namespace tern::app
