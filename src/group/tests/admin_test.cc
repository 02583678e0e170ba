// ListGroups, DescribeGroups, DeleteGroups.

#include "group/tests/test_util.h"

namespace tern::group::test {
namespace {

using admin_test = coordinator_test;

TEST_F(admin_test, ListGroupsShowsEveryGroupAndFiltersByState) {
  form_group("stable", 1);
  commit(creq("offsets-only", -1, "", "t", 0, 1));
  join(jreq("joining", "", "c", 3));
  auto all = c->list_groups();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].group_id, "joining");
  EXPECT_EQ(all[0].state, "PreparingRebalance");
  EXPECT_EQ(all[0].protocol_type, "consumer");
  EXPECT_EQ(all[1].group_id, "offsets-only");
  EXPECT_EQ(all[1].state, "Empty");
  EXPECT_EQ(all[1].protocol_type, "");
  EXPECT_EQ(all[2].state, "Stable");

  std::vector<std::string> filter = {"stable", "Empty"};  // case-insensitive
  auto some = c->list_groups(filter);
  ASSERT_EQ(some.size(), 2u);
  EXPECT_EQ(some[0].group_id, "offsets-only");
  EXPECT_EQ(some[1].group_id, "stable");
  std::vector<std::string> unknown = {"Sleeping"};
  EXPECT_TRUE(c->list_groups(unknown).empty());
}

TEST_F(admin_test, DescribeUnknownGroupIsDeadWithoutError) {
  auto d = c->describe_group("nogroup");
  EXPECT_EQ(d.error, errc::none);
  EXPECT_EQ(d.group_id, "nogroup");
  EXPECT_EQ(d.state, "Dead");
  EXPECT_EQ(d.protocol_type, "");
  EXPECT_TRUE(d.members.empty());
}

TEST_F(admin_test, DescribeStableGroupShowsMetadataAndAssignments) {
  auto f = form_group("g", 2);
  auto d = c->describe_group("g");
  EXPECT_EQ(d.state, "Stable");
  EXPECT_EQ(d.protocol_type, "consumer");
  EXPECT_EQ(d.protocol_name, "range");
  ASSERT_EQ(d.members.size(), 2u);
  EXPECT_EQ(d.members[0].member_id, f.ids[0]);
  EXPECT_EQ(d.members[0].client_id, "client0");
  EXPECT_EQ(d.members[0].client_host, "/127.0.0.1");
  EXPECT_EQ(d.members[1].metadata, subscription({"t1"}));
  EXPECT_EQ(d.members[1].assignment, assignment_of("t1", {1}));
  // The assignment decodes with the consumer protocol (what `tern group describe` shows).
  auto a = consumer_protocol::decode_assignment(d.members[1].assignment);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->partitions.at(0).partitions, std::vector<int32_t>{1});
}

TEST_F(admin_test, DescribeGroupOutsideStableHidesMetadataAndProtocol) {
  auto f = form_group("g", 2);
  join(jreq("g", f.ids[0]));
  auto d = c->describe_group("g");
  EXPECT_EQ(d.state, "PreparingRebalance");
  EXPECT_EQ(d.protocol_name, "");
  ASSERT_EQ(d.members.size(), 2u);
  EXPECT_TRUE(d.members[0].metadata.empty());
  EXPECT_TRUE(d.members[0].assignment.empty());
}

TEST_F(admin_test, DeleteGroupsAnswersPerGroup) {
  form_group("busy", 1);
  commit(creq("idle", -1, "", "t", 0, 1));
  auto [res, cb] = track<std::vector<group_deletion>>();
  c->delete_groups({"busy", "idle", "nogroup", "idle"}, now, cb);
  ASSERT_TRUE(res->ready());
  EXPECT_EQ(res->get(), (std::vector<group_deletion>{{"busy", errc::non_empty_group},
                                                     {"idle", errc::none},
                                                     {"nogroup", errc::group_id_not_found}}));
  EXPECT_EQ(c->find("idle"), nullptr);
  EXPECT_NE(c->find("busy"), nullptr);
}

TEST_F(admin_test, DeleteGroupRemovesItsOffsetsAndWritesTombstones) {
  offset_commit_request r = creq("g", -1, "", "t", 0, 1);
  r.offsets.push_back({"t", 1, 2, -1, std::nullopt, 0});
  commit(r);
  log.appended.clear();
  auto [res, cb] = track<std::vector<group_deletion>>();
  c->delete_groups({"g"}, now, cb);
  EXPECT_EQ(res->get().at(0).error, errc::none);
  ASSERT_EQ(log.appended.size(), 3u);  // the group and both offsets
  for (const auto& rec : log.appended) EXPECT_FALSE(rec.value);
  EXPECT_TRUE(std::holds_alternative<group_key>(*decode_key(log.appended[0].key)));
  EXPECT_EQ(fetched("g", "t", 0), -1);
  EXPECT_TRUE(c->list_groups().empty());
}

TEST_F(admin_test, DeleteGroupPersistFailureKeepsTheGroup) {
  commit(creq("g", -1, "", "t", 0, 1));
  log.fail = true;
  auto [res, cb] = track<std::vector<group_deletion>>();
  c->delete_groups({"g"}, now, cb);
  EXPECT_EQ(res->get().at(0).error, errc::coordinator_not_available);
  ASSERT_NE(c->find("g"), nullptr);
  EXPECT_EQ(c->find("g")->state(), group_state::empty);
  EXPECT_EQ(fetched("g", "t", 0), 1);
}

TEST_F(admin_test, GroupBeingDeletedIsDeadUntilTheTombstonesAreDurable) {
  commit(creq("g", -1, "", "t", 0, 1));
  log.manual = true;
  auto [res, cb] = track<std::vector<group_deletion>>();
  c->delete_groups({"g"}, now, cb);
  EXPECT_FALSE(res->ready());
  EXPECT_EQ(c->describe_group("g").state, "Dead");
  EXPECT_EQ(fetched("g", "t", 0), -1);
  EXPECT_EQ(commit(creq("g", -1, "", "t", 0, 2))->get().at(0).error,
            errc::coordinator_not_available);
  auto [again, cb2] = track<std::vector<group_deletion>>();
  c->delete_groups({"g"}, now, cb2);
  EXPECT_EQ(again->get().at(0).error, errc::group_id_not_found);
  log.complete_all(true);
  EXPECT_TRUE(res->ready());
  EXPECT_EQ(c->find("g"), nullptr);
}

TEST_F(admin_test, CommitInFlightWhenTheGroupIsDeletedIsNotApplied) {
  commit(creq("g", -1, "", "t", 0, 1));
  log.manual = true;
  auto late = commit(creq("g", -1, "", "t", 0, 2));
  auto [res, cb] = track<std::vector<group_deletion>>();
  c->delete_groups({"g"}, now, cb);
  log.complete_next(true);  // the commit: written before the tombstones, so answered fine
  EXPECT_EQ(late->get().at(0).error, errc::none);
  log.complete_next(true);
  EXPECT_EQ(c->find("g"), nullptr);
  EXPECT_EQ(fetched("g", "t", 0), -1);
}

}  // namespace
}  // namespace tern::group::test
