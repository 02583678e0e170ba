#include "app/group_commands.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <fmt/format.h>

#include "app/admin_cli.h"
#include "app/admin_client.h"
#include "app/group_output.h"
#include "app/group_reset.h"

namespace tern::app {
namespace {

constexpr int16_t k_unknown_topic = 3;
constexpr int16_t k_non_empty_group = 68;
constexpr int16_t k_group_id_not_found = 69;
constexpr int64_t k_earliest_timestamp = -2;
constexpr int64_t k_latest_timestamp = -1;

// Kafka's group states (ListGroups v4 filters, DescribeGroups answers).
constexpr std::string_view k_states[] = {"PreparingRebalance", "CompletingRebalance", "Stable",
                                         "Dead", "Empty"};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower((unsigned char)x) == std::tolower((unsigned char)y);
         });
}

void add_common(CLI::App* sub, group_command& cmd) {
  add_admin_options(sub, cmd.bootstrap, cmd.timeout_ms, cmd.json);
}

int fail(std::FILE* err, const admin_error& e) { return report_admin_failure(err, e); }

std::string members_text(size_t n) { return fmt::format("{} member{}", n, n == 1 ? "" : "s"); }

// " (state Stable, 2 members)", or "" when the group cannot be described.
std::string state_suffix(admin_client& client, const std::string& group_id) {
  auto g = client.describe_group(group_id);
  if (!g) return "";
  return fmt::format(" (state {}, {})", g->state, members_text(g->members.size()));
}

int run_describe(admin_client& client, const group_command& cmd, std::FILE* out, std::FILE* err) {
  auto group = client.describe_group(cmd.group);
  if (!group) return fail(err, group.error());
  auto committed = client.committed_offsets(cmd.group);
  if (!committed) return fail(err, committed.error());
  if (group->state == "Dead" && group->members.empty() && committed->empty())
    return fail(err, kafka_error(k_group_id_not_found, std::nullopt,
                                 fmt::format("group '{}' does not exist", cmd.group)));
  std::vector<topic_partition> tps;
  for (auto& c : *committed) tps.push_back(c.tp);
  for (auto& m : group->members) tps.insert(tps.end(), m.assignment.begin(), m.assignment.end());
  std::vector<partition_offset> log_end;
  if (!tps.empty()) {
    auto r = client.list_offsets(tps, k_latest_timestamp);
    if (!r) return fail(err, r.error());
    log_end = std::move(*r);
  }
  group_description d{*group, group_rows(*group, *committed, log_end)};
  std::fputs(format_group_description(d, cmd.json).c_str(), out);
  return 0;
}

int run_delete(admin_client& client, const group_command& cmd, std::FILE* out, std::FILE* err) {
  auto results = client.delete_groups(cmd.groups);
  if (!results) return fail(err, results.error());
  std::fputs(format_group_deletions(*results, cmd.json).c_str(), out);
  int code = 0;
  for (auto& r : *results) {
    if (r.error_code == 0) continue;
    std::string why;
    if (r.error_code == k_non_empty_group) {
      why = fmt::format("group '{}' is not empty{}: its consumers must leave it first", r.group_id,
                        state_suffix(client, r.group_id));
    } else if (r.error_code == k_group_id_not_found) {
      why = fmt::format("group '{}' does not exist", r.group_id);
    } else {
      why = fmt::format("cannot delete group '{}'", r.group_id);
    }
    code = fail(err, kafka_error(r.error_code, std::nullopt, why));
  }
  return code;
}

// The partitions --topic/--all-topics name, sorted, distinct, each checked to exist.
admin_result<std::vector<topic_partition>> partitions_to_reset(
    admin_client& client, const group_command& cmd,
    const std::vector<partition_offset>& committed) {
  std::vector<topic_partition> tps;
  if (cmd.all_topics) {
    for (auto& c : committed) tps.push_back(c.tp);
    if (tps.empty())
      return admin_error{0, fmt::format("group '{}' has no committed offsets: name the topics "
                                        "with --topic",
                                        cmd.group)};
  }
  for (auto& text : cmd.topics) {
    auto spec = parse_topic_spec(text);
    if (!spec) return spec.error();
    auto existing = client.partitions_of(spec->topic);
    if (!existing) return existing.error();
    if (spec->partitions.empty()) spec->partitions = *existing;
    for (int32_t p : spec->partitions) {
      if (!std::binary_search(existing->begin(), existing->end(), p))
        return kafka_error(k_unknown_topic, std::nullopt,
                           fmt::format("partition {} of topic '{}' does not exist (it has {})", p,
                                       spec->topic, existing->size()));
      tps.push_back({spec->topic, p});
    }
  }
  std::sort(tps.begin(), tps.end());
  tps.erase(std::unique(tps.begin(), tps.end()), tps.end());
  return tps;
}

// ListOffsets at `timestamp` for every partition, failing on any partition's error.
admin_result<std::vector<partition_offset>> offsets_at(admin_client& client,
                                                       const std::vector<topic_partition>& tps,
                                                       int64_t timestamp) {
  auto r = client.list_offsets(tps, timestamp);
  if (!r) return r.error();
  for (auto& o : *r)
    if (o.error_code != 0)
      return kafka_error(
          o.error_code, std::nullopt,
          fmt::format("cannot list the offsets of {}:{}", o.tp.topic, o.tp.partition));
  return r;
}

int run_reset(admin_client& client, const group_command& cmd, std::FILE* out, std::FILE* err) {
  reset_scenario scenario;
  if (cmd.to_earliest) {
    scenario.kind = reset_kind::earliest;
  } else if (cmd.to_latest) {
    scenario.kind = reset_kind::latest;
  } else if (cmd.to_offset_opt && cmd.to_offset_opt->count() > 0) {
    scenario = {reset_kind::offset, cmd.to_offset};
  } else if (cmd.shift_by_opt && cmd.shift_by_opt->count() > 0) {
    scenario = {reset_kind::shift_by, cmd.shift_by};
  } else {
    auto ms = parse_datetime(cmd.to_datetime);
    if (!ms) return fail(err, ms.error());
    scenario = {reset_kind::datetime, *ms};
  }

  // As kafka-consumer-groups.sh: only a group without active members may be reset, or its
  // consumers would carry on from their own positions and commit over the reset.
  auto group = client.describe_group(cmd.group);
  if (!group) return fail(err, group.error());
  if (group->state != "Empty" && group->state != "Dead")
    return fail(err, admin_error{0, fmt::format("group '{}' is not empty (state {}, {}): offsets "
                                                "can be reset only while it has no active "
                                                "members",
                                                cmd.group, group->state,
                                                members_text(group->members.size()))});
  auto committed = client.committed_offsets(cmd.group);
  if (!committed) return fail(err, committed.error());
  auto tps = partitions_to_reset(client, cmd, *committed);
  if (!tps) return fail(err, tps.error());

  auto earliest = offsets_at(client, *tps, k_earliest_timestamp);
  if (!earliest) return fail(err, earliest.error());
  auto latest = offsets_at(client, *tps, k_latest_timestamp);
  if (!latest) return fail(err, latest.error());
  std::vector<partition_offset> at_time;
  if (scenario.kind == reset_kind::datetime) {
    auto r = offsets_at(client, *tps, scenario.value);
    if (!r) return fail(err, r.error());
    at_time = std::move(*r);
  }
  // list_offsets answers each partition once, sorted, like *tps.
  std::vector<reset_input> inputs;
  for (size_t i = 0; i < tps->size(); ++i) {
    reset_input in{(*tps)[i], (*earliest)[i].offset, (*latest)[i].offset, -1, -1};
    for (auto& c : *committed)
      if (c.tp == in.tp && c.error_code == 0) in.committed = c.offset;
    if (!at_time.empty()) in.at_timestamp = at_time[i].offset;
    inputs.push_back(std::move(in));
  }
  auto plan = plan_reset(scenario, inputs);
  if (!plan) return fail(err, plan.error());
  for (auto& w : plan->warnings) std::fprintf(err, "tern: warning: %s\n", w.c_str());

  if (!cmd.execute) {
    std::fputs(format_reset_plan(cmd.group, plan->offsets, false, cmd.json).c_str(), out);
    std::fputs(cmd.dry_run ? "tern: dry run: no offsets were committed\n"
                           : "tern: no --execute given, so this is a dry run (as with --dry-run): "
                             "no offsets were committed\n",
               err);
    return 0;
  }
  auto results = client.commit_offsets(cmd.group, plan->offsets);
  if (!results) return fail(err, results.error());
  int code = 0;
  for (auto& r : *results)
    if (r.error_code != 0)
      code = fail(err, kafka_error(r.error_code, std::nullopt,
                                   fmt::format("cannot commit offset {} of {}:{} for group '{}'",
                                               r.offset, r.tp.topic, r.tp.partition, cmd.group)));
  std::fputs(format_reset_plan(cmd.group, plan->offsets, code == 0, cmd.json).c_str(), out);
  return code;
}

}  // namespace

void add_group_commands(CLI::App& parent, group_command& cmd) {
  cmd.app = parent.add_subcommand("group", "List, describe, delete consumer groups; reset offsets");
  cmd.app->require_subcommand(1);

  cmd.list = cmd.app->add_subcommand("list", "List consumer groups with their state");
  cmd.list
      ->add_option("--state", cmd.states,
                   "only groups in this state: Empty, Stable, PreparingRebalance, "
                   "CompletingRebalance, Dead (repeatable or comma-separated)")
      ->type_name("STATE")
      ->delimiter(',')
      ->check([](const std::string& s) -> std::string {
        for (auto name : k_states)
          if (iequals(s, name)) return "";
        return "unknown group state '" + s +
               "' (expected Empty, Stable, PreparingRebalance, CompletingRebalance or Dead)";
      });
  add_common(cmd.list, cmd);

  cmd.describe = cmd.app->add_subcommand(
      "describe",
      "Show a group's state, members and, per partition, committed offset, log end offset and "
      "lag");
  cmd.describe->add_option("GROUP", cmd.group, "group id")->required();
  add_common(cmd.describe, cmd);

  cmd.remove = cmd.app->add_subcommand(
      "delete", "Delete groups and their committed offsets (only groups without members)");
  cmd.remove->add_option("GROUP", cmd.groups, "group ids")->required();
  add_common(cmd.remove, cmd);

  cmd.reset = cmd.app->add_subcommand(
      "reset-offsets", "Move a group's committed offsets (only while it has no active members)");
  cmd.reset->add_option("GROUP", cmd.group, "group id")->required();
  auto* which = cmd.reset->add_option_group("partitions", "which partitions to reset (one of)");
  which
      ->add_option("--topic", cmd.topics,
                   "a topic, or some of its partitions: TOPIC:P1,P2 (repeatable)")
      ->type_name("TOPIC[:P1,P2...]")
      ->check([](const std::string& s) -> std::string {
        auto r = parse_topic_spec(s);
        return r ? "" : r.error().message;
      });
  which->add_flag("--all-topics", cmd.all_topics,
                  "every partition the group has a committed offset for");
  which->require_option(1);
  auto* to = cmd.reset->add_option_group("scenario", "where to move the offsets (one of)");
  to->add_flag("--to-earliest", cmd.to_earliest, "to each partition's earliest offset");
  to->add_flag("--to-latest", cmd.to_latest, "to each partition's latest offset (skip everything)");
  cmd.to_offset_opt =
      to->add_option("--to-offset", cmd.to_offset, "to this offset (kept within earliest..latest)")
          ->type_name("N");
  cmd.shift_by_opt = to->add_option("--shift-by", cmd.shift_by,
                                    "by N from the committed offset, N may be negative (kept "
                                    "within earliest..latest)")
                         ->type_name("N");
  to->add_option("--to-datetime", cmd.to_datetime,
                 "to the first offset whose record time is at or after this time, "
                 "YYYY-MM-DDTHH:MM:SS[.sss][Z|+HH:MM] (UTC without a zone)")
      ->type_name("DATETIME")
      ->check([](const std::string& s) -> std::string {
        auto r = parse_datetime(s);
        return r ? "" : r.error().message;
      });
  to->require_option(1);
  auto* dry = cmd.reset->add_flag("--dry-run", cmd.dry_run,
                                  "only print the new offsets (the default without --execute)");
  auto* exec = cmd.reset->add_flag("--execute", cmd.execute, "commit the new offsets");
  dry->excludes(exec);
  add_common(cmd.reset, cmd);
}

int run_group_command(const group_command& cmd, std::FILE* out, std::FILE* err) {
  auto options = admin_options_for(cmd.bootstrap, cmd.timeout_ms, {cmd.list, cmd.describe, cmd.remove, cmd.reset});
  auto client = admin_client::connect(options);
  if (!client) return fail(err, client.error());

  if (cmd.list->parsed()) {
    auto r = client->list_groups(cmd.states);
    if (!r) return fail(err, r.error());
    std::fputs(format_group_list(*r, cmd.json).c_str(), out);
    return 0;
  }
  if (cmd.describe->parsed()) return run_describe(*client, cmd, out, err);
  if (cmd.remove->parsed()) return run_delete(*client, cmd, out, err);
  if (cmd.reset->parsed()) return run_reset(*client, cmd, out, err);
  return 1;  // require_subcommand(1) makes this unreachable
}

}  // namespace tern::app
