// Static membership (KIP-345): members named by group.instance.id survive restarts.

#include "group/tests/test_util.h"

namespace tern::group::test {
namespace {

class static_test : public coordinator_test {
 protected:
  // A Stable group of static members "i1".."in" (ids "i1-u1", ...); i1 leads and is assigned
  // partition 0 of t1, i2 partition 1, and so on.
  std::vector<std::string> form_static(int n, std::vector<protocol> protocols = {}) {
    std::vector<std::shared_ptr<reply<join_result>>> joins;
    for (int i = 1; i <= n; ++i) {
      join_request r = static_req("g", "i" + std::to_string(i));
      if (!protocols.empty()) r.protocols = protocols;
      joins.push_back(join(r));
    }
    advance(6000ms);
    std::vector<std::string> ids;
    for (auto& j : joins) ids.push_back(j->get().member_id);
    sync_request lead = sreq("g", ids[0], 1);
    for (int i = 0; i < n; ++i) lead.assignments.push_back({ids[i], assignment_of("t1", {i})});
    sync(lead);
    for (int i = 1; i < n; ++i) sync("g", ids[i], 1);
    EXPECT_EQ(c->find("g")->state(), group_state::stable);
    return ids;
  }
};

TEST_F(static_test, StaticMembersJoinWithoutTheMemberIdRound) {
  auto r = join(static_req("g", "i1"));
  EXPECT_FALSE(r->ready());  // no MEMBER_ID_REQUIRED: straight into the group
  advance(3000ms);
  EXPECT_EQ(r->get().member_id, "i1-u1");  // Kafka prefixes the instance id
}

TEST_F(static_test, RestartKeepsTheAssignmentWithoutARebalance) {
  auto ids = form_static(2);
  const size_t records_before = log.appended.size();
  auto r = join(static_req("g", "i2"));  // i2 restarted: no member id
  ASSERT_TRUE(r->ready());
  EXPECT_EQ(r->get().error, errc::none);
  EXPECT_EQ(r->get().member_id, "i2-u3");
  EXPECT_EQ(r->get().generation_id, 1);
  EXPECT_EQ(r->get().leader, ids[0]);
  EXPECT_TRUE(r->get().members.empty());
  EXPECT_EQ(c->find("g")->state(), group_state::stable);
  EXPECT_EQ(c->find("g")->generation(), 1);
  // The new member id was made durable before the answer.
  ASSERT_EQ(log.appended.size(), records_before + 1);
  auto v = decode_group_value(*log.appended.back().value);
  EXPECT_EQ(v->members[1].member_id, "i2-u3");
  EXPECT_EQ(v->members[1].assignment, assignment_of("t1", {1}));

  auto s = sync("g", "i2-u3", 1);
  EXPECT_EQ(s->get().assignment, assignment_of("t1", {1}));
  EXPECT_EQ(heartbeat("g", "i2-u3", 1, "i2"), errc::none);
  EXPECT_EQ(heartbeat("g", ids[0], 1, "i1"), errc::none);  // the other member never noticed
}

TEST_F(static_test, TheOldMemberIdIsFencedAfterARestart) {
  auto ids = form_static(2);
  join(static_req("g", "i2"));
  EXPECT_EQ(heartbeat("g", ids[1], 1, "i2"), errc::fenced_instance_id);
  EXPECT_EQ(heartbeat("g", ids[1], 1), errc::unknown_member_id);  // without instance id
  sync_request s = sreq("g", ids[1], 1);
  s.group_instance_id = "i2";
  EXPECT_EQ(sync(s)->get().error, errc::fenced_instance_id);
  EXPECT_EQ(join(static_req("g", "i2", ids[1]))->get().error, errc::fenced_instance_id);
  offset_commit_request cr = creq("g", 1, ids[1], "t1", 1, 10);
  cr.group_instance_id = "i2";
  EXPECT_EQ(commit(cr)->get().at(0).error, errc::fenced_instance_id);
}

TEST_F(static_test, RestartedLeaderIsNotToldItLeads) {
  auto ids = form_static(2);
  auto r = join(static_req("g", "i1"));
  ASSERT_TRUE(r->ready());
  EXPECT_EQ(r->get().member_id, "i1-u3");
  EXPECT_EQ(r->get().leader, ids[0]);  // the old id: it acts as a follower, no reassignment
  EXPECT_EQ(c->find("g")->leader(), "i1-u3");
  EXPECT_EQ(sync("g", "i1-u3", 1)->get().assignment, assignment_of("t1", {0}));
}

TEST_F(static_test, RestartThatChangesTheSelectedProtocolRebalances) {
  auto ids = form_static(2, {{"range", {}}, {"roundrobin", {}}});
  join_request r = static_req("g", "i2");
  r.protocols = {{"roundrobin", {}}};
  auto j = join(r);
  EXPECT_FALSE(j->ready());
  EXPECT_EQ(c->find("g")->state(), group_state::preparing_rebalance);
  join_request leader = static_req("g", "i1", ids[0]);
  leader.protocols = {{"range", {}}, {"roundrobin", {}}};
  join(leader);
  ASSERT_TRUE(j->ready());
  EXPECT_EQ(j->get().generation_id, 2);
  EXPECT_EQ(j->get().protocol_name, "roundrobin");
}

TEST_F(static_test, RejoinWhileCompletingRebalancesAndFencesTheOldSync) {
  auto a = join(static_req("g", "i1"));
  auto b = join(static_req("g", "i2"));
  advance(6000ms);
  auto old_sync = sync("g", b->get().member_id, 1);
  EXPECT_FALSE(old_sync->ready());
  auto restarted = join(static_req("g", "i2"));
  ASSERT_TRUE(old_sync->ready());
  EXPECT_EQ(old_sync->get().error, errc::fenced_instance_id);
  EXPECT_EQ(c->find("g")->state(), group_state::preparing_rebalance);
  join(static_req("g", "i1", a->get().member_id));
  ASSERT_TRUE(restarted->ready());
  EXPECT_EQ(restarted->get().generation_id, 2);
  EXPECT_EQ(restarted->get().member_id, "i2-u3");
}

TEST_F(static_test, RejoinWhileAnOldJoinIsPendingFencesThatJoin) {
  auto ids = form_static(2);
  auto old_join = join(static_req("g", "i1", ids[0]));  // the leader starts a rebalance
  auto restarted = join(static_req("g", "i1"));
  ASSERT_TRUE(old_join->ready());
  EXPECT_EQ(old_join->get().error, errc::fenced_instance_id);
  EXPECT_EQ(old_join->get().member_id, ids[0]);
  join(static_req("g", "i2", ids[1]));
  ASSERT_TRUE(restarted->ready());
  EXPECT_EQ(restarted->get().error, errc::none);
  EXPECT_EQ(restarted->get().leader, restarted->get().member_id);  // it kept the leadership
}

TEST_F(static_test, RestartPersistFailureKeepsTheOldMemberId) {
  auto ids = form_static(2);
  log.fail = true;
  auto r = join(static_req("g", "i2"));
  ASSERT_TRUE(r->ready());
  EXPECT_EQ(r->get().error, errc::coordinator_not_available);
  EXPECT_EQ(r->get().member_id, "");
  EXPECT_EQ(c->find("g")->static_member_id("i2"), ids[1]);
  EXPECT_EQ(heartbeat("g", ids[1], 1, "i2"), errc::none);
  EXPECT_EQ(c->find("g")->state(), group_state::stable);
}

TEST_F(static_test, RebalanceDuringTheRestartPersistAnswersTheJoinWithTheNewGeneration) {
  auto ids = form_static(2);
  log.manual = true;
  auto r = join(static_req("g", "i2"));
  EXPECT_FALSE(r->ready());
  join(static_req("g", "i1", ids[0]));  // the leader rebalances meanwhile: i2 counts as joined
  ASSERT_TRUE(r->ready());
  EXPECT_EQ(r->get().generation_id, 2);
  log.complete_all(true);  // the late completion changes nothing
  EXPECT_EQ(r->calls, 1);
}

TEST_F(static_test, StaticMembersStayThroughARebalanceTimeout) {
  auto ids = form_static(2);
  auto a = join(static_req("g", "i1", ids[0]));
  for (int i = 0; i < 6; ++i) {
    advance(5000ms);
    heartbeat("g", ids[1], 1, "i2");  // alive, never rejoins
  }
  ASSERT_TRUE(a->ready());
  EXPECT_EQ(a->get().generation_id, 2);
  EXPECT_EQ(a->get().members.size(), 2u);  // unlike a dynamic member, i2 is kept
  EXPECT_EQ(heartbeat("g", ids[1], 1, "i2"), errc::illegal_generation);
}

TEST_F(static_test, StaticMemberIsRemovedByItsSessionTimeout) {
  auto ids = form_static(2);
  for (int i = 0; i < 2; ++i) {
    advance(5000ms);
    heartbeat("g", ids[0], 1, "i1");
  }
  EXPECT_EQ(c->find("g")->static_member_id("i2"), std::nullopt);
  EXPECT_EQ(c->find("g")->state(), group_state::preparing_rebalance);
}

TEST_F(static_test, WrongMemberIdIsFencedAndUnknownInstanceIsUnknown) {
  auto ids = form_static(1);
  EXPECT_EQ(join(static_req("g", "i1", "i1-bogus"))->get().error, errc::fenced_instance_id);
  EXPECT_EQ(join(static_req("g", "i9", "i9-x"))->get().error, errc::unknown_member_id);
  EXPECT_EQ(heartbeat("g", ids[0], 1, "i9"), errc::unknown_member_id);
}

TEST_F(static_test, KnownInstanceMayRejoinAFullGroup) {
  cfg.max_group_size = 2;
  make();
  form_static(2);
  auto r = join(static_req("g", "i2"));
  EXPECT_EQ(r->get().error, errc::none);
  EXPECT_EQ(join(static_req("g", "i3"))->get().error, errc::group_max_size_reached);
}

TEST_F(static_test, AdministrativeRemovalByInstanceIdRebalances) {
  auto ids = form_static(2);
  auto r = c->leave({"g", {{"", "i2"}}}, now);
  EXPECT_EQ(r.members.at(0).error, errc::none);
  EXPECT_EQ(c->find("g")->state(), group_state::preparing_rebalance);
  EXPECT_EQ(heartbeat("g", ids[1], 1, "i2"), errc::unknown_member_id);
}

}  // namespace
}  // namespace tern::group::test
