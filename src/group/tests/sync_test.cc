// SyncGroup, Heartbeat, LeaveGroup and the timers that remove members.

#include "group/tests/test_util.h"

namespace tern::group::test {
namespace {

class sync_test : public coordinator_test {
 protected:
  // Waits out the initial delay of two fresh members: generation 1, CompletingRebalance.
  // Returns {leader, follower}.
  std::pair<std::string, std::string> joined_pair(std::shared_ptr<reply<join_result>> a,
                                                  std::shared_ptr<reply<join_result>> b) {
    advance(6000ms);
    EXPECT_TRUE(a->ready() && b->ready());
    return {a->get().member_id, b->get().member_id};
  }
};

TEST_F(sync_test, FollowersWaitForTheLeaderThenEveryoneGetsTheirAssignment) {
  auto [leader, follower] = joined_pair(join_new("g", "a"), join_new("g", "b"));
  auto fs = sync("g", follower, 1);
  EXPECT_FALSE(fs->ready());
  sync_request lead = sreq("g", leader, 1);
  lead.assignments = {{leader, assignment_of("t1", {0})}, {follower, assignment_of("t1", {1})}};
  auto ls = sync(lead);
  ASSERT_TRUE(ls->ready() && fs->ready());
  EXPECT_EQ(ls->get().error, errc::none);
  EXPECT_EQ(ls->get().assignment, assignment_of("t1", {0}));
  EXPECT_EQ(fs->get().assignment, assignment_of("t1", {1}));
  EXPECT_EQ(fs->get().protocol_type, "consumer");
  EXPECT_EQ(fs->get().protocol_name, "range");
  EXPECT_EQ(c->find("g")->state(), group_state::stable);
  // The generation was persisted with its assignments.
  ASSERT_EQ(log.appended.size(), 1u);
  auto v = decode_group_value(*log.appended[0].value);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->generation, 1);
  EXPECT_EQ(v->leader, leader);
  ASSERT_EQ(v->members.size(), 2u);
  EXPECT_EQ(v->members[1].assignment, assignment_of("t1", {1}));
  EXPECT_EQ(v->members[1].subscription, subscription({"t1"}));
}

TEST_F(sync_test, MembersTheLeaderLeftOutGetAnEmptyAssignment) {
  auto [leader, follower] = joined_pair(join_new("g", "a"), join_new("g", "b"));
  auto fs = sync("g", follower, 1);
  sync_request lead = sreq("g", leader, 1);
  lead.assignments = {{leader, assignment_of("t1", {0, 1})}, {"stranger", bytes_of("x")}};
  sync(lead);
  ASSERT_TRUE(fs->ready());
  EXPECT_EQ(fs->get().error, errc::none);
  EXPECT_TRUE(fs->get().assignment.empty());
}

TEST_F(sync_test, SyncInAStableGroupReturnsTheCurrentAssignment) {
  auto f = form_group("g", 2);
  auto again = sync("g", f.ids[1], f.generation);
  ASSERT_TRUE(again->ready());
  EXPECT_EQ(again->get().assignment, assignment_of("t1", {1}));
}

TEST_F(sync_test, SyncErrorsForUnknownMembersGenerationsAndStates) {
  EXPECT_EQ(sync("nogroup", "m", 1)->get().error, errc::unknown_member_id);
  auto f = form_group("g", 2);
  EXPECT_EQ(sync("g", "ghost", f.generation)->get().error, errc::unknown_member_id);
  EXPECT_EQ(sync("g", f.ids[1], f.generation + 1)->get().error, errc::illegal_generation);
  EXPECT_EQ(sync("g", f.ids[1], f.generation - 1)->get().error, errc::illegal_generation);
  join(jreq("g", f.ids[0]));  // the leader starts a rebalance
  EXPECT_EQ(sync("g", f.ids[1], f.generation)->get().error, errc::rebalance_in_progress);
}

TEST_F(sync_test, SyncV5ChecksProtocolTypeAndNameWhenPresent) {
  auto f = form_group("g", 1);
  sync_request r = sreq("g", f.ids[0], f.generation);
  r.protocol_type = "consumer";
  r.protocol_name = "range";
  EXPECT_EQ(sync(r)->get().error, errc::none);
  r.protocol_name = "roundrobin";
  EXPECT_EQ(sync(r)->get().error, errc::inconsistent_group_protocol);
  r.protocol_name.reset();
  r.protocol_type = "connect";
  EXPECT_EQ(sync(r)->get().error, errc::inconsistent_group_protocol);
}

TEST_F(sync_test, GroupTurnsStableOnlyOnceTheAssignmentIsPersisted) {
  log.manual = true;
  auto [leader, follower] = joined_pair(join_new("g", "a"), join_new("g", "b"));
  auto fs = sync("g", follower, 1);
  auto ls = sync("g", leader, 1);
  EXPECT_FALSE(ls->ready());
  EXPECT_EQ(c->find("g")->state(), group_state::completing_rebalance);
  ASSERT_EQ(log.waiting.size(), 1u);
  log.complete_next(true);
  EXPECT_TRUE(ls->ready() && fs->ready());
  EXPECT_EQ(c->find("g")->state(), group_state::stable);
}

TEST_F(sync_test, PersistFailureAnswersCoordinatorNotAvailableAndRebalances) {
  log.manual = true;
  auto [leader, follower] = joined_pair(join_new("g", "a"), join_new("g", "b"));
  auto fs = sync("g", follower, 1);
  auto ls = sync("g", leader, 1);
  log.complete_next(false);
  ASSERT_TRUE(ls->ready() && fs->ready());
  EXPECT_EQ(ls->get().error, errc::coordinator_not_available);
  EXPECT_EQ(fs->get().error, errc::coordinator_not_available);
  EXPECT_EQ(c->find("g")->state(), group_state::preparing_rebalance);
  EXPECT_EQ(c->find("g")->generation(), 1);
  auto a = join(jreq("g", leader));
  auto b = join(jreq("g", follower));
  ASSERT_TRUE(a->ready());
  EXPECT_EQ(a->get().generation_id, 2);
}

TEST_F(sync_test, JoinWhileTheAssignmentIsBeingPersistedRestartsTheRebalance) {
  log.manual = true;
  auto [leader, follower] = joined_pair(join_new("g", "a"), join_new("g", "b"));
  auto ls = sync("g", leader, 1);
  auto newcomer = join(jreq("g", "", "c", 3));
  ASSERT_TRUE(ls->ready());
  EXPECT_EQ(ls->get().error, errc::rebalance_in_progress);
  log.complete_all(true);  // too late: the group moved on
  EXPECT_EQ(c->find("g")->state(), group_state::preparing_rebalance);
  EXPECT_FALSE(newcomer->ready());
}

TEST_F(sync_test, SecondSyncOfTheSameMemberSupersedesTheFirst) {
  auto [leader, follower] = joined_pair(join_new("g", "a"), join_new("g", "b"));
  auto first = sync("g", follower, 1);
  auto second = sync("g", follower, 1);
  EXPECT_EQ(first->get().error, errc::rebalance_in_progress);
  sync("g", leader, 1);
  EXPECT_EQ(second->get().error, errc::none);
}

TEST_F(sync_test, HeartbeatAnswersDependOnTheGroupState) {
  EXPECT_EQ(heartbeat("nogroup", "m", 1), errc::unknown_member_id);
  auto [leader, follower] = joined_pair(join_new("g", "a"), join_new("g", "b"));
  EXPECT_EQ(heartbeat("g", follower, 1), errc::none);  // CompletingRebalance, Kafka 2.4+
  sync("g", leader, 1);
  EXPECT_EQ(heartbeat("g", follower, 1), errc::none);
  EXPECT_EQ(heartbeat("g", follower, 0), errc::illegal_generation);
  EXPECT_EQ(heartbeat("g", "ghost", 1), errc::unknown_member_id);
  join(jreq("g", leader));
  EXPECT_EQ(heartbeat("g", follower, 1), errc::rebalance_in_progress);
}

TEST_F(sync_test, SessionTimeoutRemovesASilentMemberAndRebalances) {
  auto f = form_group("g", 2);
  advance(5000ms);
  EXPECT_EQ(heartbeat("g", f.ids[0], f.generation), errc::none);
  advance(4999ms);
  EXPECT_EQ(heartbeat("g", f.ids[0], f.generation), errc::none);
  EXPECT_NE(c->find("g")->find_member(f.ids[1]), nullptr);
  advance(1ms);
  EXPECT_EQ(c->find("g")->find_member(f.ids[1]), nullptr);
  EXPECT_EQ(c->find("g")->state(), group_state::preparing_rebalance);
  EXPECT_EQ(heartbeat("g", f.ids[0], f.generation), errc::rebalance_in_progress);
  EXPECT_EQ(heartbeat("g", f.ids[1], f.generation), errc::unknown_member_id);
  auto r = join(jreq("g", f.ids[0]));
  ASSERT_TRUE(r->ready());  // the only member left rejoined: done at once
  EXPECT_EQ(r->get().generation_id, f.generation + 1);
  EXPECT_EQ(r->get().members.size(), 1u);
}

TEST_F(sync_test, RegularHeartbeatsKeepAMemberForever) {
  auto f = form_group("g", 1);
  for (int i = 0; i < 100; ++i) {
    advance(9000ms);
    ASSERT_EQ(heartbeat("g", f.ids[0], f.generation), errc::none);
  }
  EXPECT_EQ(c->find("g")->state(), group_state::stable);
}

TEST_F(sync_test, MembersWaitingInAJoinAreNotExpired) {
  auto f = form_group("g", 2);
  auto leader = join(jreq("g", f.ids[0]));  // waits for the follower
  for (int i = 0; i < 5; ++i) {
    advance(5000ms);  // 25 s: far past the leader's 10 s session
    EXPECT_EQ(heartbeat("g", f.ids[1], f.generation), errc::rebalance_in_progress);
  }
  EXPECT_NE(c->find("g")->find_member(f.ids[0]), nullptr);
  join(jreq("g", f.ids[1]));
  ASSERT_TRUE(leader->ready());
  EXPECT_EQ(leader->get().members.size(), 2u);
}

TEST_F(sync_test, RebalanceTimeoutRemovesMembersThatDidNotRejoin) {
  auto f = form_group("g", 3);
  auto a = join(jreq("g", f.ids[0]));
  auto b = join(jreq("g", f.ids[1]));
  for (int i = 0; i < 5; ++i) {
    advance(5000ms);
    // Alive, told to rejoin, but never does.
    EXPECT_EQ(heartbeat("g", f.ids[2], f.generation), errc::rebalance_in_progress);
  }
  EXPECT_FALSE(a->ready());
  advance(5000ms);  // the 30 s rebalance timeout
  ASSERT_TRUE(a->ready() && b->ready());
  EXPECT_EQ(a->get().generation_id, f.generation + 1);
  EXPECT_EQ(a->get().members.size(), 2u);
  EXPECT_EQ(heartbeat("g", f.ids[2], f.generation), errc::unknown_member_id);
}

TEST_F(sync_test, CleanLeaveTriggersAnImmediateRebalance) {
  auto f = form_group("g", 3);
  auto r = c->leave({"g", {{f.ids[2], {}}}}, now);
  EXPECT_EQ(r.error, errc::none);
  ASSERT_EQ(r.members.size(), 1u);
  EXPECT_EQ(r.members[0].error, errc::none);
  EXPECT_EQ(c->find("g")->state(), group_state::preparing_rebalance);
  auto a = join(jreq("g", f.ids[0]));
  auto b = join(jreq("g", f.ids[1]));
  ASSERT_TRUE(a->ready());  // no waiting for the rebalance timeout
  EXPECT_EQ(a->get().generation_id, f.generation + 1);
  EXPECT_EQ(a->get().members.size(), 2u);
}

TEST_F(sync_test, LeaderLeavingHandsLeadershipToTheNextMember) {
  auto f = form_group("g", 3);
  c->leave({"g", {{f.ids[0], {}}}}, now);
  auto a = join(jreq("g", f.ids[1]));
  auto b = join(jreq("g", f.ids[2]));
  ASSERT_TRUE(a->ready());
  EXPECT_EQ(a->get().leader, f.ids[1]);
  EXPECT_EQ(a->get().members.size(), 2u);
}

TEST_F(sync_test, LastMemberLeavingEmptiesTheGroupAndPersistsTheEmptyGeneration) {
  auto f = form_group("g", 1);
  c->leave({"g", {{f.ids[0], {}}}}, now);
  const classic_group* g = c->find("g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->state(), group_state::empty);
  EXPECT_EQ(g->generation(), f.generation + 1);
  EXPECT_EQ(g->protocol_type(), "consumer");
  auto v = decode_group_value(*log.appended.back().value);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->generation, f.generation + 1);
  EXPECT_TRUE(v->members.empty());
  EXPECT_FALSE(v->protocol_name);
}

TEST_F(sync_test, LeaveV3ReportsAnErrorPerMember) {
  auto i1 = join(static_req("g", "i1"));
  auto i2 = join(static_req("g", "i2"));
  advance(6000ms);
  leave_request req{"g",
                    {{"", "i1"},               // by instance id alone: fine
                     {"ghost", std::nullopt},  // unknown member
                     {"x", "nobody"},          // unknown instance
                     {"wrong-id", "i2"}}};     // instance maps to another member id
  auto r = c->leave(req, now);
  EXPECT_EQ(r.error, errc::none);
  ASSERT_EQ(r.members.size(), 4u);
  EXPECT_EQ(r.members[0].error, errc::none);
  EXPECT_EQ(r.members[1].error, errc::unknown_member_id);
  EXPECT_EQ(r.members[2].error, errc::unknown_member_id);
  EXPECT_EQ(r.members[3].error, errc::fenced_instance_id);
  EXPECT_EQ(r.members[3].group_instance_id, "i2");
  EXPECT_EQ(c->find("g")->size(), 1u);
}

TEST_F(sync_test, LeaveFromAnUnknownGroupReportsUnknownMembers) {
  auto r = c->leave({"nogroup", {{"a", {}}, {"", "i"}}}, now);
  EXPECT_EQ(r.error, errc::none);
  ASSERT_EQ(r.members.size(), 2u);
  EXPECT_EQ(r.members[1].error, errc::unknown_member_id);
  EXPECT_EQ(r.v0_error(), errc::unknown_member_id);  // what v0-2 put in their single field
}

TEST_F(sync_test, LeavingPendingMemberLetsTheRebalanceComplete) {
  auto f = form_group("g", 1);
  auto pending = join(jreq("g", "", "newcomer"));
  auto leader = join(jreq("g", f.ids[0]));
  EXPECT_FALSE(leader->ready());
  auto r = c->leave({"g", {{pending->get().member_id, {}}}}, now);
  EXPECT_EQ(r.members[0].error, errc::none);
  EXPECT_TRUE(leader->ready());
}

TEST_F(sync_test, MemberLeavingWhileWaitingInAJoinGetsUnknownMemberId) {
  auto f = form_group("g", 2);
  auto leader = join(jreq("g", f.ids[0]));
  c->leave({"g", {{f.ids[0], {}}}}, now);
  ASSERT_TRUE(leader->ready());
  EXPECT_EQ(leader->get().error, errc::unknown_member_id);
  auto follower = join(jreq("g", f.ids[1]));
  ASSERT_TRUE(follower->ready());
  EXPECT_EQ(follower->get().leader, f.ids[1]);
}

TEST_F(sync_test, MembersThatNeverSyncAreRemovedAfterTheRebalanceTimeout) {
  auto [leader, follower] = joined_pair(join_new("g", "a"), join_new("g", "b"));
  sync("g", leader, 1);
  EXPECT_EQ(c->find("g")->state(), group_state::stable);
  for (int i = 0; i < 5; ++i) {
    advance(5000ms);
    EXPECT_EQ(heartbeat("g", follower, 1), errc::none);  // alive, but never syncs
    EXPECT_EQ(heartbeat("g", leader, 1), errc::none);
  }
  advance(5000ms);  // 30 s after the join completed
  EXPECT_EQ(c->find("g")->find_member(follower), nullptr);
  EXPECT_EQ(heartbeat("g", leader, 1), errc::rebalance_in_progress);
}

TEST_F(sync_test, NextDeadlineFollowsTheEarliestTimer) {
  EXPECT_EQ(c->next_deadline(), std::nullopt);
  auto f = form_group("g", 1);
  EXPECT_EQ(c->next_deadline(), now + 10000ms);  // the member's session
  advance(4000ms);
  heartbeat("g", f.ids[0], f.generation);
  EXPECT_EQ(c->next_deadline(), now + 10000ms);
  c->leave({"g", {{f.ids[0], {}}}}, now);
  EXPECT_EQ(c->next_deadline(), std::nullopt);
}

TEST_F(sync_test, LateTickGivesTheSameOutcomeAsTimelyTicks) {
  auto a = join_new("g", "a");
  auto b = join_new("g", "b");
  now += 60000ms;  // the caller was busy: one tick long after every deadline
  c->tick(now);
  ASSERT_TRUE(a->ready() && b->ready());
  EXPECT_EQ(a->get().generation_id, 1);
  // The join completed at its deadline (6 s); the sessions started then, and, nobody having
  // synced or heartbeaten since, have run out by now: both members are gone.
  EXPECT_EQ(c->find("g")->size(), 0u);
  EXPECT_EQ(c->find("g")->state(), group_state::empty);
}

}  // namespace
}  // namespace tern::group::test
