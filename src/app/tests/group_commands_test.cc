// `tern group ...` end to end inside the process: the real CLI11 parser, run_group_command and
// the admin client, against fake_broker.

#include "app/group_commands.h"

#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/tests/fake_broker.h"
#include "group/consumer_protocol.h"
#include "kafka/codec/delete_groups.h"
#include "kafka/codec/describe_groups.h"
#include "kafka/codec/list_groups.h"
#include "kafka/codec/offset_commit.h"
#include "kafka/codec/offset_fetch.h"

namespace tern::app {
namespace {

using test::fake_broker;
namespace cp = group::consumer_protocol;

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

void parse(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<const char*> argv{"tern"};
  for (auto& a : args) argv.push_back(a.c_str());
  app.parse(int(argv.size()), const_cast<char**>(argv.data()));
}

// Parses `args` (after "tern") as main() does and runs the group command.
run_result run(const std::vector<std::string>& args) {
  CLI::App app{"test", "tern"};
  group_command cmd;
  add_group_commands(app, cmd);
  parse(app, args);
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  run_result r;
  r.code = run_group_command(cmd, out, err);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// Parsing only: the CLI11 exception type, or "" when the command line is accepted.
std::string usage_error(const std::vector<std::string>& args) {
  CLI::App app{"test", "tern"};
  group_command cmd;
  add_group_commands(app, cmd);
  try {
    parse(app, args);
  } catch (const CLI::ParseError& e) {
    return e.get_name();
  }
  return "";
}

void answer_describe(fake_broker& b, std::string state, bool with_member) {
  b.answer<kafka::describe_groups_request, kafka::describe_groups_response>(
      [state, with_member](const kafka::describe_groups_request& req, int16_t,
                           kafka::describe_groups_response& resp) {
        auto& g = resp.groups.emplace_back();
        g.group_id = req.groups.at(0);
        g.group_state = state;
        g.protocol_type = "consumer";
        if (!with_member) return;
        g.protocol_data = "range";
        auto& m = g.members.emplace_back();
        m.member_id = "rdkafka-1";
        m.client_id = "rdkafka";
        m.client_host = "/127.0.0.1";
        m.member_assignment = cp::encode_assignment({0, {{"orders", {1, 0}}}, std::nullopt});
      });
}

void answer_offset_fetch(fake_broker& b, int64_t p0_offset) {
  b.answer<kafka::offset_fetch_request, kafka::offset_fetch_response>(
      [p0_offset](const kafka::offset_fetch_request& req, int16_t,
                  kafka::offset_fetch_response& resp) {
        EXPECT_EQ(req.group_id, "g");
        EXPECT_FALSE(req.topics.has_value());  // every partition
        auto& t = resp.topics.emplace_back();
        t.name = "orders";
        auto& p = t.partitions.emplace_back();
        p.partition_index = 0;
        p.committed_offset = p0_offset;
      });
}

// Partition 0: earliest 2, latest 10; partition 1: earliest 0, latest 4. Timestamps: offset 6.
void answer_list_offsets(fake_broker& b) {
  b.answer<kafka::list_offsets_request, kafka::list_offsets_response>(
      [](const kafka::list_offsets_request& req, int16_t, kafka::list_offsets_response& resp) {
        for (auto& rt : req.topics) {
          auto& t = resp.topics.emplace_back();
          t.name = rt.name;
          for (auto& rp : rt.partitions) {
            auto& p = t.partitions.emplace_back();
            p.partition_index = rp.partition_index;
            if (rp.timestamp == -2) p.offset = rp.partition_index == 0 ? 2 : 0;
            if (rp.timestamp == -1) p.offset = rp.partition_index == 0 ? 10 : 4;
            if (rp.timestamp >= 0) p.offset = 6;
          }
        }
      });
}

void answer_metadata(fake_broker& b) {
  b.answer<kafka::metadata_request, kafka::metadata_response>(
      [](const kafka::metadata_request& req, int16_t, kafka::metadata_response& resp) {
        auto& t = resp.topics.emplace_back();
        t.name = req.topics->at(0).name;
        if (t.name != "orders") {
          t.error_code = 3;
          return;
        }
        for (int i = 0; i < 2; ++i) t.partitions.emplace_back().partition_index = i;
      });
}

TEST(GroupCommands, ListFiltersByStateOnTheWireAndHere) {
  fake_broker b;
  b.answer<kafka::list_groups_request, kafka::list_groups_response>(
      [](const kafka::list_groups_request& req, int16_t v, kafka::list_groups_response& resp) {
        EXPECT_EQ(v, 4);
        EXPECT_EQ(req.states_filter, (std::vector<std::string>{"stable", "Empty"}));
        // A broker that ignores the filter: the client filters too.
        resp.groups = {{"z", "consumer", "Stable"}, {"a", "", "Empty"}, {"d", "consumer", "Dead"}};
      });
  b.start();
  auto r = run({"group", "list", "--state", "stable,Empty", "--bootstrap", b.address()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "GROUP  PROTOCOL-TYPE  STATE\n"
            "a      -              Empty\n"
            "z      consumer       Stable\n");
}

TEST(GroupCommands, ListAsksDescribeGroupsForStatesBeforeV4) {
  fake_broker b;
  b.on(kafka::api_key::api_versions,
       [](const kafka::request_header& h, bytes::byte_reader&, bytes::chunked_buffer& out) {
         kafka::api_versions_response resp;
         for (auto& api : kafka::all_apis)
           resp.api_keys.push_back(
               {int16_t(api.key), api.min_version,
                api.key == kafka::api_key::list_groups ? int16_t(2) : api.max_version});
         kafka::encode_response(resp, h.version, out);
         return true;
       });
  b.answer<kafka::list_groups_request, kafka::list_groups_response>(
      [](const kafka::list_groups_request&, int16_t, kafka::list_groups_response& resp) {
        resp.groups = {{"g", "consumer", ""}};
      });
  answer_describe(b, "Stable", true);
  b.start();
  auto r = run({"group", "list", "--json", "--bootstrap", b.address()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, R"([{"group":"g","protocol_type":"consumer","state":"Stable"}])"
                   "\n");
}

TEST(GroupCommands, DescribeShowsLagPerOwnedPartition) {
  fake_broker b;
  answer_describe(b, "Stable", true);
  answer_offset_fetch(b, 7);
  answer_list_offsets(b);
  b.start();
  auto r = run({"group", "describe", "g", "--bootstrap", b.address()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Group: g\nState: Stable\nProtocol: consumer/range\nMembers: 1\n\n"
            "TOPIC   PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID  HOST        "
            "CLIENT-ID\n"
            "orders  0          7               10              3    rdkafka-1    /127.0.0.1  "
            "rdkafka\n"
            "orders  1          -               4               -    rdkafka-1    /127.0.0.1  "
            "rdkafka\n");
}

TEST(GroupCommands, DescribeUnknownGroupFails) {
  fake_broker b;
  answer_describe(b, "Dead", false);
  b.answer<kafka::offset_fetch_request, kafka::offset_fetch_response>(
      [](const kafka::offset_fetch_request&, int16_t, kafka::offset_fetch_response&) {});
  b.start();
  auto r = run({"group", "describe", "nope", "--bootstrap", b.address()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "tern: GROUP_ID_NOT_FOUND: group 'nope' does not exist\n");
}

TEST(GroupCommands, DeleteReportsNonEmptyGroupsWithTheirState) {
  fake_broker b;
  b.answer<kafka::delete_groups_request, kafka::delete_groups_response>(
      [](const kafka::delete_groups_request& req, int16_t, kafka::delete_groups_response& resp) {
        EXPECT_EQ(req.groups_names, (std::vector<std::string>{"old", "busy"}));
        resp.results = {{"old", 0}, {"busy", 68}};
      });
  answer_describe(b, "Stable", true);
  b.start();
  auto r = run({"group", "delete", "old", "busy", "--bootstrap", b.address()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "Deleted group old.\n");
  EXPECT_EQ(r.err,
            "tern: NON_EMPTY_GROUP: group 'busy' is not empty (state Stable, 1 member): its "
            "consumers must leave it first\n");
}

TEST(GroupCommands, ResetRefusesAnActiveGroup) {
  fake_broker b;
  answer_describe(b, "Stable", true);
  b.start();
  auto r = run({"group", "reset-offsets", "g", "--topic", "orders", "--to-earliest", "--execute",
                "--bootstrap", b.address()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "tern: group 'g' is not empty (state Stable, 1 member): offsets can be reset only "
            "while it has no active members\n");
}

TEST(GroupCommands, ResetWithoutExecuteIsADryRun) {
  fake_broker b;
  answer_describe(b, "Empty", false);
  answer_offset_fetch(b, 7);
  answer_metadata(b);
  answer_list_offsets(b);
  // No OffsetCommit handler: committing would make the fake hang up and the command fail.
  b.start();
  auto r = run({"group", "reset-offsets", "g", "--topic", "orders:0", "--shift-by", "-6",
                "--bootstrap", b.address()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "TOPIC   PARTITION  NEW-OFFSET\norders  0          2\n");
  EXPECT_EQ(r.err,
            "tern: warning: offset 1 is before the earliest offset of orders:0: using 2\n"
            "tern: no --execute given, so this is a dry run (as with --dry-run): no "
            "offsets were committed\n");
}

TEST(GroupCommands, ResetShiftByNeedsCommittedOffsets) {
  fake_broker b;
  answer_describe(b, "Empty", false);
  answer_offset_fetch(b, 7);  // partition 1 has none
  answer_metadata(b);
  answer_list_offsets(b);
  b.start();
  auto r = run({"group", "reset-offsets", "g", "--topic", "orders:0,1", "--shift-by", "1",
                "--bootstrap", b.address()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "tern: cannot shift the offset of orders:1: the group has no committed offset for "
            "it\n");
}

TEST(GroupCommands, ResetUnknownPartitionFails) {
  fake_broker b;
  answer_describe(b, "Dead", false);
  answer_offset_fetch(b, 7);
  answer_metadata(b);
  b.start();
  auto r = run({"group", "reset-offsets", "g", "--topic", "orders:5", "--to-latest", "--bootstrap",
                b.address()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "tern: UNKNOWN_TOPIC_OR_PARTITION: partition 5 of topic 'orders' does not exist (it "
            "has 2)\n");
}

TEST(GroupCommands, ResetExecuteCommitsAsASimpleCommit) {
  fake_broker b;
  answer_describe(b, "Empty", false);
  answer_offset_fetch(b, 7);
  answer_metadata(b);
  answer_list_offsets(b);
  b.answer<kafka::offset_commit_request, kafka::offset_commit_response>(
      [](const kafka::offset_commit_request& req, int16_t, kafka::offset_commit_response& resp) {
        EXPECT_EQ(req.group_id, "g");
        EXPECT_EQ(req.generation_id_or_member_epoch, -1);
        EXPECT_EQ(req.member_id, "");
        ASSERT_EQ(req.topics.size(), 1u);
        auto& t = resp.topics.emplace_back();
        t.name = req.topics[0].name;
        ASSERT_EQ(req.topics[0].partitions.size(), 2u);
        EXPECT_EQ(req.topics[0].partitions[0].committed_offset, 6);  // the datetime's offset
        EXPECT_EQ(req.topics[0].partitions[1].committed_offset, 4);  // clamped to latest
        for (auto& p : req.topics[0].partitions) t.partitions.push_back({p.partition_index, 0});
      });
  b.start();
  auto r = run({"group", "reset-offsets", "g", "--topic", "orders", "--to-datetime",
                "2024-05-01T12:00:00Z", "--execute", "--json", "--bootstrap", b.address()});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["executed"], true);
  ASSERT_EQ(j["offsets"].size(), 2u);
  EXPECT_EQ(j["offsets"][1]["new_offset"], 4);  // partition 1 has only 4: clamped to latest
  EXPECT_EQ(r.err, "tern: warning: offset 6 is past the latest offset of orders:1: using 4\n");
}

TEST(GroupCommands, ResetCommitErrorsFail) {
  fake_broker b;
  answer_describe(b, "Empty", false);
  answer_offset_fetch(b, 7);
  answer_metadata(b);
  answer_list_offsets(b);
  b.answer<kafka::offset_commit_request, kafka::offset_commit_response>(
      [](const kafka::offset_commit_request& req, int16_t, kafka::offset_commit_response& resp) {
        auto& t = resp.topics.emplace_back();
        t.name = req.topics[0].name;
        for (auto& p : req.topics[0].partitions) t.partitions.push_back({p.partition_index, 25});
      });
  b.start();
  auto r = run({"group", "reset-offsets", "g", "--topic", "orders:1", "--to-offset", "3",
                "--execute", "--bootstrap", b.address()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "tern: UNKNOWN_MEMBER_ID: cannot commit offset 3 of orders:1 for group 'g'\n");
}

TEST(GroupCommands, UsageErrors) {
  EXPECT_EQ(usage_error({"group", "reset-offsets", "g", "--topic", "t", "--to-latest"}), "");
  EXPECT_EQ(usage_error({"group", "reset-offsets", "g", "--topic", "t", "--shift-by", "-3"}), "");
  EXPECT_EQ(
      usage_error({"group", "reset-offsets", "g", "--all-topics", "--to-offset", "0", "--dry-run"}),
      "");
  // No scenario, two scenarios, no partitions, both --topic and --all-topics.
  EXPECT_NE(usage_error({"group", "reset-offsets", "g", "--topic", "t"}), "");
  EXPECT_NE(
      usage_error({"group", "reset-offsets", "g", "--topic", "t", "--to-latest", "--to-earliest"}),
      "");
  EXPECT_NE(usage_error({"group", "reset-offsets", "g", "--to-latest"}), "");
  EXPECT_NE(
      usage_error({"group", "reset-offsets", "g", "--topic", "t", "--all-topics", "--to-latest"}),
      "");
  EXPECT_NE(usage_error({"group", "reset-offsets", "g", "--topic", "t", "--to-latest", "--dry-run",
                         "--execute"}),
            "");
  EXPECT_NE(usage_error({"group", "reset-offsets", "g", "--topic", "t:x", "--to-latest"}), "");
  EXPECT_NE(
      usage_error({"group", "reset-offsets", "g", "--topic", "t", "--to-datetime", "2024-05-01"}),
      "");
  EXPECT_NE(usage_error({"group", "list", "--state", "Sleeping"}), "");
  EXPECT_NE(usage_error({"group", "delete"}), "");
  EXPECT_NE(usage_error({"group", "describe"}), "");
}

TEST(GroupCommands, BootstrapFlagBeatsEnvironment) {
  fake_broker b;
  b.answer<kafka::list_groups_request, kafka::list_groups_response>(
      [](const kafka::list_groups_request&, int16_t, kafka::list_groups_response&) {});
  b.start();
  ::setenv("TERN_BOOTSTRAP", "127.0.0.1:1", 1);
  auto r = run({"group", "list", "--bootstrap", b.address()});
  ::unsetenv("TERN_BOOTSTRAP");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "GROUP  PROTOCOL-TYPE  STATE\n");
}

}  // namespace
}  // namespace tern::app
