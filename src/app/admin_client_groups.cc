// admin_client: the consumer-group requests (ListGroups, DescribeGroups, OffsetFetch,
// OffsetCommit, DeleteGroups). Tern is single-node, so they go to the bootstrap broker
// without FindCoordinator.

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "app/admin_client.h"
#include "group/consumer_protocol.h"
#include "kafka/codec/delete_groups.h"
#include "kafka/codec/describe_groups.h"
#include "kafka/codec/list_groups.h"
#include "kafka/codec/offset_commit.h"
#include "kafka/codec/offset_fetch.h"

namespace tern::app {
namespace {

using kafka::api_key;

bool same_state(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower((unsigned char)x) == std::tolower((unsigned char)y);
         });
}

bool state_wanted(const std::vector<std::string>& states, std::string_view state) {
  return states.empty() ||
         std::any_of(states.begin(), states.end(), [&](auto& s) { return same_state(s, state); });
}

member_view member_of(const std::string& protocol_type,
                      const kafka::describe_groups_response::described_group_member& m) {
  member_view v{m.member_id, m.group_instance_id, m.client_id, m.client_host, {}, false};
  if (protocol_type != group::consumer_protocol::protocol_type || m.member_assignment.empty())
    return v;
  auto a = group::consumer_protocol::decode_assignment(m.member_assignment);
  if (!a) {
    v.assignment_undecodable = true;
    return v;
  }
  for (auto& tps : a->partitions)
    for (int32_t p : tps.partitions) v.assignment.push_back({tps.topic, p});
  std::sort(v.assignment.begin(), v.assignment.end());
  return v;
}

}  // namespace

admin_result<std::vector<group_listing>> admin_client::list_groups(
    const std::vector<std::string>& states) {
  auto v = version_of(api_key::list_groups);
  if (!v) return admin_error{0, "the broker does not support ListGroups"};
  kafka::list_groups_request req;
  if (*v >= 4) req.states_filter = states;
  auto resp = call<kafka::list_groups_response>(req);
  if (!resp) return resp.error();
  if (resp->error_code != 0)
    return kafka_error(resp->error_code, std::nullopt, "cannot list the groups");
  std::vector<group_listing> groups;
  for (auto& g : resp->groups) groups.push_back({g.group_id, g.protocol_type, g.group_state});
  if (*v < 4 && !groups.empty()) {
    // No states in the answer: learn them from DescribeGroups.
    kafka::describe_groups_request dreq;
    for (auto& g : groups) dreq.groups.push_back(g.group_id);
    auto dresp = call<kafka::describe_groups_response>(dreq);
    if (!dresp) return dresp.error();
    for (auto& d : dresp->groups)
      for (auto& g : groups)
        if (g.group_id == d.group_id && d.error_code == 0) g.state = d.group_state;
  }
  std::erase_if(groups, [&](auto& g) { return !state_wanted(states, g.state); });
  std::sort(groups.begin(), groups.end(), [](auto& a, auto& b) { return a.group_id < b.group_id; });
  return groups;
}

admin_result<group_view> admin_client::describe_group(const std::string& group_id) {
  kafka::describe_groups_request req;
  req.groups.push_back(group_id);
  auto resp = call<kafka::describe_groups_response>(req);
  if (!resp) return resp.error();
  for (auto& g : resp->groups) {
    if (g.group_id != group_id) continue;
    if (g.error_code != 0)
      return kafka_error(g.error_code, std::nullopt,
                         fmt::format("cannot describe group '{}'", group_id));
    group_view view{g.group_id, g.group_state, g.protocol_type, g.protocol_data, {}};
    for (auto& m : g.members) view.members.push_back(member_of(g.protocol_type, m));
    std::sort(view.members.begin(), view.members.end(),
              [](auto& a, auto& b) { return a.member_id < b.member_id; });
    return view;
  }
  return admin_error{
      0, fmt::format("the broker's DescribeGroups answer leaves out group '{}'", group_id)};
}

admin_result<std::vector<partition_offset>> admin_client::committed_offsets(
    const std::string& group_id) {
  auto v = version_of(api_key::offset_fetch);
  // Every partition of the group (null topics) needs v2.
  if (!v || *v < 2) return admin_error{0, "the broker does not support OffsetFetch v2+"};
  kafka::offset_fetch_request req;
  req.group_id = group_id;
  req.topics = std::nullopt;
  auto resp = call<kafka::offset_fetch_response>(req);
  if (!resp) return resp.error();
  if (resp->error_code != 0)
    return kafka_error(resp->error_code, std::nullopt,
                       fmt::format("cannot fetch the offsets of group '{}'", group_id));
  std::vector<partition_offset> out;
  for (auto& t : resp->topics)
    for (auto& p : t.partitions) {
      if (p.error_code == 0 && p.committed_offset < 0) continue;  // nothing committed
      out.push_back({{t.name, p.partition_index},
                     p.error_code == 0 ? p.committed_offset : -1,
                     p.error_code,
                     p.metadata.value_or("")});
    }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.tp < b.tp; });
  return out;
}

admin_result<std::vector<partition_offset>> admin_client::commit_offsets(
    const std::string& group_id, const std::vector<partition_offset>& offsets) {
  kafka::offset_commit_request req;
  req.group_id = group_id;
  req.generation_id_or_member_epoch = -1;  // a simple commit, outside any generation
  req.member_id = "";
  for (auto& o : offsets) {
    if (req.topics.empty() || req.topics.back().name != o.tp.topic)
      req.topics.emplace_back().name = o.tp.topic;
    auto& p = req.topics.back().partitions.emplace_back();
    p.partition_index = o.tp.partition;
    p.committed_offset = o.offset;
    p.committed_metadata = o.metadata;
  }
  auto resp = call<kafka::offset_commit_response>(req);
  if (!resp) return resp.error();
  std::vector<partition_offset> out;
  for (auto& o : offsets) out.push_back({o.tp, o.offset, -1, o.metadata});  // -1: no answer
  for (auto& t : resp->topics)
    for (auto& p : t.partitions)
      for (auto& o : out)
        if (o.tp.topic == t.name && o.tp.partition == p.partition_index)
          o.error_code = p.error_code;
  return out;
}

admin_result<std::vector<group_deletion_view>> admin_client::delete_groups(
    const std::vector<std::string>& group_ids) {
  kafka::delete_groups_request req;
  req.groups_names = group_ids;
  auto resp = call<kafka::delete_groups_response>(req);
  if (!resp) return resp.error();
  std::vector<group_deletion_view> out;
  for (auto& id : group_ids) {
    group_deletion_view d{id, -1};  // -1 (UNKNOWN_SERVER_ERROR): the broker did not answer
    for (auto& r : resp->results)
      if (r.group_id == id) d.error_code = r.error_code;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace tern::app
