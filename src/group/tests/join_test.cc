// JoinGroup: member ids, validation, the initial delay, protocol selection, rebalances.

#include "group/tests/test_util.h"

namespace tern::group::test {
namespace {

using join_test = coordinator_test;

TEST_F(join_test, FirstJoinV4AnswersMemberIdRequiredThenJoinsWithThatId) {
  auto first = join(jreq("g", "", "consumer-1"));
  ASSERT_TRUE(first->ready());
  EXPECT_EQ(first->get().error, errc::member_id_required);
  EXPECT_EQ(first->get().member_id, "consumer-1-u1");
  const classic_group* g = c->find("g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->state(), group_state::empty);
  EXPECT_TRUE(g->is_pending_member("consumer-1-u1"));

  auto second = join(jreq("g", "consumer-1-u1", "consumer-1"));
  EXPECT_FALSE(second->ready());  // the initial rebalance delay
  EXPECT_EQ(g->state(), group_state::preparing_rebalance);
  EXPECT_FALSE(g->is_pending_member("consumer-1-u1"));
  advance(2999ms);
  EXPECT_FALSE(second->ready());
  advance(1ms);
  ASSERT_TRUE(second->ready());
  const join_result& r = second->get();
  EXPECT_EQ(r.error, errc::none);
  EXPECT_EQ(r.generation_id, 1);
  EXPECT_EQ(r.member_id, "consumer-1-u1");
  EXPECT_EQ(r.leader, "consumer-1-u1");
  EXPECT_EQ(r.protocol_type, "consumer");
  EXPECT_EQ(r.protocol_name, "range");
  ASSERT_EQ(r.members.size(), 1u);
  EXPECT_EQ(r.members[0].metadata, subscription({"t1"}));
  EXPECT_EQ(g->state(), group_state::completing_rebalance);
}

TEST_F(join_test, JoinBelowV4GetsAMemberIdWithoutTheExtraRound) {
  auto r = join(jreq("g", "", "old-client", 3));
  EXPECT_FALSE(r->ready());
  advance(3000ms);
  ASSERT_TRUE(r->ready());
  EXPECT_EQ(r->get().error, errc::none);
  EXPECT_EQ(r->get().member_id, "old-client-u1");
}

TEST_F(join_test, V0JoinUsesTheSessionTimeoutAsRebalanceTimeout) {
  join_request req = jreq("g", "", "c", 0);
  req.rebalance_timeout_ms = -1;
  join(req);
  const member* m = c->find("g")->members().at(0);
  EXPECT_EQ(m->rebalance_timeout, 10000ms);
}

TEST_F(join_test, InitialDelayHoldsTheFirstRebalanceEvenWhenEveryoneJoined) {
  auto r = join_new("g");
  EXPECT_EQ(c->next_deadline(), now + 3000ms);
  advance(1000ms);
  EXPECT_FALSE(r->ready());
  advance(2000ms);
  EXPECT_TRUE(r->ready());
}

TEST_F(join_test, InitialDelayIsExtendedForEachNewMember) {
  const time_point t0 = now;
  auto a = join_new("g", "a");
  advance(2000ms);
  auto b = join_new("g", "b");  // arrives during the delay: extends it once
  advance(1000ms);              // t0 + 3000: extended to t0 + 6000
  EXPECT_FALSE(a->ready());
  advance(1000ms);
  auto cc = join_new("g", "c");  // t0 + 4000: extends again, to t0 + 9000
  advance(2000ms);
  EXPECT_FALSE(a->ready());
  advance(2999ms);
  EXPECT_FALSE(a->ready());
  advance(1ms);
  EXPECT_EQ(now - t0, 9000ms);
  ASSERT_TRUE(a->ready() && b->ready() && cc->ready());
  EXPECT_EQ(a->get().members.size(), 3u);
  EXPECT_EQ(a->get().generation_id, 1);
}

TEST_F(join_test, InitialDelayExtensionsStopAtTheRebalanceTimeout) {
  const time_point t0 = now;
  auto req = [&](const std::string& client) {
    join_request r = jreq("g", "", client, 3);
    r.rebalance_timeout_ms = 5000;
    return r;
  };
  auto a = join(req("a"));
  advance(1000ms);
  join(req("b"));
  advance(2000ms);  // t0 + 3000: extended by min(3000, 2000 remaining)
  advance(1000ms);
  join(req("c"));  // t0 + 4000: would extend, but nothing remains
  advance(999ms);
  EXPECT_FALSE(a->ready());
  advance(1ms);
  EXPECT_EQ(now - t0, 5000ms);
  ASSERT_TRUE(a->ready());
  EXPECT_EQ(a->get().members.size(), 3u);
}

TEST_F(join_test, LeaderGetsEveryMembersMetadataFollowersGetNone) {
  auto a = join_new("g", "a");
  auto b = join_new("g", "b");
  auto d = join_new("g", "d");
  advance(6000ms);
  ASSERT_TRUE(a->ready() && b->ready() && d->ready());
  const std::string leader = a->get().member_id;
  for (auto* r : {&a->get(), &b->get(), &d->get()}) {
    EXPECT_EQ(r->error, errc::none);
    EXPECT_EQ(r->generation_id, 1);
    EXPECT_EQ(r->leader, leader);
  }
  ASSERT_EQ(a->get().members.size(), 3u);
  EXPECT_EQ(a->get().members[0].member_id, leader);  // join order
  EXPECT_EQ(a->get().members[1].member_id, b->get().member_id);
  EXPECT_EQ(a->get().members[2].member_id, d->get().member_id);
  EXPECT_TRUE(b->get().members.empty());
  EXPECT_TRUE(d->get().members.empty());
}

TEST_F(join_test, ProtocolIsChosenByVoteAmongThoseEveryMemberSupports) {
  auto with = [&](const std::string& client, std::vector<std::string> names) {
    join_request r = jreq("g", "", client, 3);
    r.protocols.clear();
    for (auto& n : names) r.protocols.push_back({n, bytes_of(n + "-" + client)});
    return join(r);
  };
  auto a = with("a", {"roundrobin", "range"});
  auto b = with("b", {"range", "roundrobin", "sticky"});  // sticky: not everyone has it
  auto d = with("d", {"range", "roundrobin"});
  advance(6000ms);
  ASSERT_TRUE(a->ready());
  EXPECT_EQ(a->get().protocol_name, "range");  // 2 votes against 1
  // The leader sees each member's metadata for the chosen protocol.
  EXPECT_EQ(a->get().members[0].metadata, bytes_of("range-a"));
  EXPECT_EQ(a->get().members[1].metadata, bytes_of("range-b"));
}

TEST_F(join_test, ProtocolVoteTieGoesToTheEarliestMembersChoice) {
  auto with = [&](const std::string& client, std::vector<std::string> names) {
    join_request r = jreq("g", "", client, 3);
    r.protocols.clear();
    for (auto& n : names) r.protocols.push_back({n, {}});
    return join(r);
  };
  auto a = with("a", {"x", "y"});
  with("b", {"y", "x"});
  advance(6000ms);
  ASSERT_TRUE(a->ready());
  EXPECT_EQ(a->get().protocol_name, "x");
}

TEST_F(join_test, IncompatibleProtocolTypeOrProtocolsAreInconsistent) {
  auto a = join(jreq("g", "", "a", 3));
  join_request other_type = jreq("g", "", "b", 3);
  other_type.protocol_type = "connect";
  auto b = join(other_type);
  EXPECT_EQ(b->get().error, errc::inconsistent_group_protocol);
  EXPECT_EQ(b->get().member_id, "");
  join_request no_common = jreq("g", "", "d", 3);
  no_common.protocols = {{"sticky", {}}};
  EXPECT_EQ(join(no_common)->get().error, errc::inconsistent_group_protocol);
  join_request none = jreq("h", "", "e", 3);
  none.protocols.clear();  // an empty group still needs a protocol
  EXPECT_EQ(join(none)->get().error, errc::inconsistent_group_protocol);
  advance(3000ms);
  EXPECT_EQ(a->get().error, errc::none);
}

TEST_F(join_test, SessionTimeoutOutsideTheConfiguredRangeIsInvalid) {
  join_request low = jreq("g", "", "c");
  low.session_timeout_ms = 5999;
  auto r = join(low);
  EXPECT_EQ(r->get().error, errc::invalid_session_timeout);
  join_request high = jreq("g", "", "c");
  high.session_timeout_ms = 1800001;
  EXPECT_EQ(join(high)->get().error, errc::invalid_session_timeout);
  EXPECT_EQ(c->find("g"), nullptr);  // refused before the group is created

  cfg.min_session_timeout = 1000ms;
  make();
  EXPECT_EQ(join(low)->get().error, errc::member_id_required);
}

TEST_F(join_test, EmptyGroupIdIsInvalidForMembershipApis) {
  EXPECT_EQ(join(jreq("", "", "c"))->get().error, errc::invalid_group_id);
  EXPECT_EQ(sync("", "m", 1)->get().error, errc::invalid_group_id);
  EXPECT_EQ(heartbeat("", "m", 1), errc::invalid_group_id);
  EXPECT_EQ(c->leave({"", {{"m", {}}}}, now).error, errc::invalid_group_id);
  EXPECT_EQ(c->group_count(), 0u);
}

TEST_F(join_test, KnownMemberIdForAnUnknownGroupOrMemberIsUnknown) {
  EXPECT_EQ(join(jreq("g", "ghost", "c"))->get().error, errc::unknown_member_id);
  EXPECT_EQ(c->find("g"), nullptr);
  form_group("g", 1);
  auto r = join(jreq("g", "ghost", "c"));
  EXPECT_EQ(r->get().error, errc::unknown_member_id);
  EXPECT_EQ(r->get().member_id, "ghost");
}

TEST_F(join_test, GroupMaxSizeRefusesExtraMembers) {
  cfg.max_group_size = 2;
  make();
  form_group("g", 2);
  auto r = join(jreq("g", "", "third"));
  EXPECT_EQ(r->get().error, errc::group_max_size_reached);
  EXPECT_EQ(c->find("g")->size(), 2u);
  EXPECT_EQ(c->find("g")->state(), group_state::stable);
}

TEST_F(join_test, FourthMemberTriggersARebalanceAndTheGenerationGoesUp) {
  auto f = form_group("g", 3);
  auto fourth = join_new("g", "fourth");
  EXPECT_EQ(c->find("g")->state(), group_state::preparing_rebalance);
  EXPECT_FALSE(fourth->ready());
  std::vector<std::shared_ptr<reply<join_result>>> rejoins;
  for (const auto& id : f.ids) {
    EXPECT_EQ(heartbeat("g", id, f.generation), errc::rebalance_in_progress);
    rejoins.push_back(join(jreq("g", id)));
  }
  // The last existing member rejoined: no need to wait for the rebalance timeout.
  ASSERT_TRUE(fourth->ready());
  EXPECT_EQ(fourth->get().generation_id, f.generation + 1);
  EXPECT_EQ(rejoins[0]->get().leader, f.ids[0]);  // the leader stays the leader
  EXPECT_EQ(rejoins[0]->get().members.size(), 4u);
  EXPECT_TRUE(fourth->get().members.empty());
}

TEST_F(join_test, FollowerRejoiningAStableGroupUnchangedGetsTheCurrentGeneration) {
  auto f = form_group("g", 2);
  auto r = join(jreq("g", f.ids[1]));
  ASSERT_TRUE(r->ready());
  EXPECT_EQ(r->get().error, errc::none);
  EXPECT_EQ(r->get().generation_id, f.generation);
  EXPECT_EQ(r->get().leader, f.ids[0]);
  EXPECT_TRUE(r->get().members.empty());
  EXPECT_EQ(c->find("g")->state(), group_state::stable);
}

TEST_F(join_test, FollowerRejoiningWithNewMetadataForcesARebalance) {
  auto f = form_group("g", 2);
  join_request req = jreq("g", f.ids[1]);
  req.protocols = {{"range", subscription({"t1", "t2"})}};
  auto r = join(req);
  EXPECT_FALSE(r->ready());
  EXPECT_EQ(c->find("g")->state(), group_state::preparing_rebalance);
  join(jreq("g", f.ids[0]));
  ASSERT_TRUE(r->ready());
  EXPECT_EQ(r->get().generation_id, f.generation + 1);
}

TEST_F(join_test, LeaderRejoiningAStableGroupForcesARebalance) {
  auto f = form_group("g", 2);
  auto leader = join(jreq("g", f.ids[0]));
  EXPECT_FALSE(leader->ready());
  EXPECT_EQ(c->find("g")->state(), group_state::preparing_rebalance);
  EXPECT_EQ(heartbeat("g", f.ids[1], f.generation), errc::rebalance_in_progress);
  auto follower = join(jreq("g", f.ids[1]));
  ASSERT_TRUE(leader->ready() && follower->ready());
  EXPECT_EQ(leader->get().generation_id, f.generation + 1);
}

TEST_F(join_test, RejoinWhileCompletingWithSameMetadataReturnsTheCurrentGeneration) {
  auto a = join_new("g", "a");
  auto b = join_new("g", "b");
  advance(6000ms);
  ASSERT_EQ(c->find("g")->state(), group_state::completing_rebalance);
  auto again = join(jreq("g", b->get().member_id, "b"));
  ASSERT_TRUE(again->ready());
  EXPECT_EQ(again->get().generation_id, 1);
  EXPECT_TRUE(again->get().members.empty());
  auto leader_again = join(jreq("g", a->get().member_id, "a"));
  EXPECT_EQ(leader_again->get().members.size(), 2u);  // a lost response is given again
  EXPECT_EQ(c->find("g")->state(), group_state::completing_rebalance);
}

TEST_F(join_test, RejoinWhileCompletingWithNewMetadataRestartsTheRebalance) {
  auto a = join_new("g", "a");
  auto b = join_new("g", "b");
  advance(6000ms);
  join_request req = jreq("g", b->get().member_id, "b");
  req.protocols = {{"range", subscription({"other"})}};
  auto r = join(req);
  EXPECT_FALSE(r->ready());
  EXPECT_EQ(c->find("g")->state(), group_state::preparing_rebalance);
  join(jreq("g", a->get().member_id, "a"));
  EXPECT_EQ(r->get().generation_id, 2);
}

TEST_F(join_test, SecondJoinOfTheSameMemberSupersedesTheFirst) {
  auto f = form_group("g", 2);
  auto first = join(jreq("g", f.ids[0]));
  auto second = join(jreq("g", f.ids[0]));
  ASSERT_TRUE(first->ready());
  EXPECT_EQ(first->get().error, errc::coordinator_not_available);
  EXPECT_FALSE(second->ready());
  join(jreq("g", f.ids[1]));
  ASSERT_TRUE(second->ready());
  EXPECT_EQ(second->get().error, errc::none);
  EXPECT_EQ(second->get().members.size(), 2u);
}

TEST_F(join_test, PendingMemberIdExpiresAfterTheSessionTimeout) {
  auto first = join(jreq("g", "", "c"));
  EXPECT_EQ(c->next_deadline(), now + 10000ms);
  advance(10000ms);
  EXPECT_EQ(c->find("g"), nullptr);  // nothing left: the group is dropped
  auto late = join(jreq("g", first->get().member_id, "c"));
  EXPECT_EQ(late->get().error, errc::unknown_member_id);
}

TEST_F(join_test, RebalanceWaitsForAPendingMemberToJoin) {
  auto f = form_group("g", 1);
  auto pending = join(jreq("g", "", "newcomer"));
  EXPECT_EQ(pending->get().error, errc::member_id_required);
  auto leader = join(jreq("g", f.ids[0]));
  EXPECT_FALSE(leader->ready());  // everyone joined, but a pending id may still come
  auto newcomer = join(jreq("g", pending->get().member_id, "newcomer"));
  ASSERT_TRUE(leader->ready());
  EXPECT_EQ(leader->get().members.size(), 2u);
  EXPECT_TRUE(newcomer->ready());
}

TEST_F(join_test, RebalanceCompletesWhenAPendingMemberIdExpires) {
  auto f = form_group("g", 1);
  join(jreq("g", "", "newcomer"));
  advance(5000ms);
  auto leader = join(jreq("g", f.ids[0]));
  EXPECT_FALSE(leader->ready());
  advance(5000ms);  // the pending id's session timeout
  ASSERT_TRUE(leader->ready());
  EXPECT_EQ(leader->get().members.size(), 1u);
}

TEST_F(join_test, NewMemberWhoseJoinNeverCompletesExpires) {
  cfg.new_member_join_timeout = 5000ms;
  make();
  auto f = form_group("g", 1);
  auto newcomer = join_new("g", "newcomer");  // the rebalance waits for the old member
  for (int i = 0; i < 4; ++i) {
    advance(1000ms);
    EXPECT_EQ(heartbeat("g", f.ids[0], f.generation), errc::rebalance_in_progress);
  }
  EXPECT_FALSE(newcomer->ready());
  advance(1000ms);
  ASSERT_TRUE(newcomer->ready());
  EXPECT_EQ(newcomer->get().error, errc::unknown_member_id);
  EXPECT_EQ(newcomer->get().member_id, "");
  EXPECT_EQ(c->find("g")->size(), 1u);
}

TEST_F(join_test, JoinToAGroupBeingDeletedIsCoordinatorNotAvailable) {
  log.manual = true;
  c->commit_offsets(creq("g", -1, "", "t", 0, 5), now, [](auto) {});
  log.complete_all();
  c->delete_groups({"g"}, now, [](auto) {});
  EXPECT_EQ(c->find("g")->state(), group_state::dead);
  EXPECT_EQ(join(jreq("g", "", "c"))->get().error, errc::coordinator_not_available);
  log.complete_all();
  EXPECT_EQ(join(jreq("g", "", "c"))->get().error, errc::member_id_required);
}

}  // namespace
}  // namespace tern::group::test
