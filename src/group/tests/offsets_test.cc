// OffsetCommit, OffsetFetch, OffsetDelete.

#include "group/tests/test_util.h"

namespace tern::group::test {
namespace {

using offsets_test = coordinator_test;

TEST_F(offsets_test, SimpleCommitCreatesAnEmptyGroupAndFetchReturnsTheOffset) {
  auto r = commit(creq("g", -1, "", "t", 0, 42));
  ASSERT_TRUE(r->ready());
  EXPECT_EQ(r->get(), (std::vector<partition_error>{{{"t", 0}, errc::none}}));
  const classic_group* g = c->find("g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->state(), group_state::empty);
  auto f = c->fetch_offsets("g", std::vector<topic_partition>{{"t", 0}});
  ASSERT_EQ(f.offsets.size(), 1u);
  EXPECT_EQ(f.offsets[0].offset, 42);
  EXPECT_EQ(f.offsets[0].leader_epoch, 3);
  EXPECT_EQ(f.offsets[0].metadata, "meta");
  // One offset record went to the log.
  ASSERT_EQ(log.appended.size(), 1u);
  auto key = decode_key(log.appended[0].key);
  EXPECT_EQ(std::get<offset_key>(*key), (offset_key{"g", "t", 0}));
  EXPECT_EQ(decode_offset_value(*log.appended[0].value)->commit_timestamp_ms, 1700000000000);
}

TEST_F(offsets_test, NullMetadataIsStoredAsEmpty) {
  offset_commit_request r = creq("g", -1, "", "t", 0, 1);
  r.offsets[0].metadata.reset();
  commit(r);
  EXPECT_EQ(c->fetch_offsets("g", std::nullopt).offsets.at(0).metadata, "");
}

TEST_F(offsets_test, SimpleCommitIsRefusedOnceTheGroupHasMembers) {
  form_group("g", 1);
  EXPECT_EQ(commit(creq("g", -1, "", "t", 0, 1))->get().at(0).error, errc::unknown_member_id);
  EXPECT_EQ(c->validate_commit("g", -1, "", std::nullopt), errc::unknown_member_id);
}

TEST_F(offsets_test, CommitWithAGenerationToAnUnknownGroupIsIllegalGeneration) {
  EXPECT_EQ(commit(creq("g", 3, "m", "t", 0, 1))->get().at(0).error, errc::illegal_generation);
  EXPECT_EQ(c->find("g"), nullptr);
  EXPECT_EQ(c->validate_commit("g", 3, "m", std::nullopt), errc::illegal_generation);
  EXPECT_EQ(c->validate_commit("g", -1, "m", std::nullopt), errc::unknown_member_id);
  EXPECT_EQ(c->validate_commit("g", -1, "", std::nullopt), errc::none);
}

TEST_F(offsets_test, MemberCommitIsFencedByGenerationAndMemberId) {
  auto f = form_group("g", 2);
  EXPECT_EQ(commit(creq("g", f.generation, f.ids[1], "t1", 1, 5))->get().at(0).error, errc::none);
  EXPECT_EQ(commit(creq("g", f.generation - 1, f.ids[1], "t1", 1, 6))->get().at(0).error,
            errc::illegal_generation);
  EXPECT_EQ(commit(creq("g", f.generation, "ghost", "t1", 1, 6))->get().at(0).error,
            errc::unknown_member_id);
  EXPECT_EQ(fetched("g", "t1", 1), 5);
}

TEST_F(offsets_test, CommitWhileCompletingTheRebalanceIsRebalanceInProgress) {
  auto a = join_new("g", "a");
  advance(3000ms);
  ASSERT_EQ(c->find("g")->state(), group_state::completing_rebalance);
  auto r = commit(creq("g", 1, a->get().member_id, "t", 0, 1));
  EXPECT_EQ(r->get().at(0).error, errc::rebalance_in_progress);
}

TEST_F(offsets_test, CommitWhilePreparingARebalanceIsAcceptedAndCountsAsAHeartbeat) {
  auto f = form_group("g", 2);
  auto leader = join(jreq("g", f.ids[0]));  // PreparingRebalance, waiting for ids[1]
  advance(9000ms);
  EXPECT_EQ(commit(creq("g", f.generation, f.ids[1], "t", 0, 7))->get().at(0).error, errc::none);
  advance(9000ms);  // 18 s since the last heartbeat, but 9 s since the commit
  EXPECT_NE(c->find("g")->find_member(f.ids[1]), nullptr);
  EXPECT_EQ(fetched("g", "t", 0), 7);
}

TEST_F(offsets_test, FetchOfUnknownGroupsAndPartitionsAnswersMinusOne) {
  auto none = c->fetch_offsets("nogroup", std::vector<topic_partition>{{"t", 0}, {"t", 1}});
  EXPECT_EQ(none.error, errc::none);
  ASSERT_EQ(none.offsets.size(), 2u);
  EXPECT_EQ(none.offsets[1].offset, -1);
  EXPECT_EQ(none.offsets[1].leader_epoch, -1);
  EXPECT_TRUE(c->fetch_offsets("nogroup", std::nullopt).offsets.empty());
  commit(creq("g", -1, "", "t", 0, 5));
  EXPECT_EQ(fetched("g", "t", 9), -1);
}

TEST_F(offsets_test, FetchAllReturnsEveryCommittedPartitionInOrder) {
  offset_commit_request r = creq("g", -1, "", "b", 1, 10);
  r.offsets.push_back({"a", 2, 20, -1, std::nullopt, 0});
  r.offsets.push_back({"b", 0, 30, -1, std::nullopt, 0});
  commit(r);
  auto all = c->fetch_offsets("g", std::nullopt);
  ASSERT_EQ(all.offsets.size(), 3u);
  EXPECT_EQ(all.offsets[0].tp, (topic_partition{"a", 2}));
  EXPECT_EQ(all.offsets[1].tp, (topic_partition{"b", 0}));
  EXPECT_EQ(all.offsets[2].offset, 10);
}

TEST_F(offsets_test, CommitIsInvisibleUntilPersistedAndRequireStableSaysSo) {
  commit(creq("g", -1, "", "t", 0, 5));
  log.manual = true;
  auto r = commit(creq("g", -1, "", "t", 0, 9));
  EXPECT_FALSE(r->ready());
  EXPECT_EQ(fetched("g", "t", 0), 5);
  auto stable = c->fetch_offsets("g", std::vector<topic_partition>{{"t", 0}}, true);
  EXPECT_EQ(stable.offsets[0].error, errc::unstable_offset_commit);
  log.complete_next(true);
  EXPECT_EQ(r->get().at(0).error, errc::none);
  EXPECT_EQ(fetched("g", "t", 0), 9);
  stable = c->fetch_offsets("g", std::vector<topic_partition>{{"t", 0}}, true);
  EXPECT_EQ(stable.offsets[0].error, errc::none);
}

TEST_F(offsets_test, CommitPersistFailureAnswersCoordinatorNotAvailableAndKeepsTheOldOffset) {
  commit(creq("g", -1, "", "t", 0, 5));
  log.fail = true;
  auto r = commit(creq("g", -1, "", "t", 0, 9));
  EXPECT_EQ(r->get().at(0).error, errc::coordinator_not_available);
  EXPECT_EQ(fetched("g", "t", 0), 5);
}

TEST_F(offsets_test, OversizedMetadataIsRefusedPerPartition) {
  offset_commit_request r = creq("g", -1, "", "t", 0, 1);
  r.offsets.push_back({"t", 1, 2, -1, std::string(4097, 'x'), 0});
  auto res = commit(r);
  EXPECT_EQ(res->get().at(0).error, errc::none);
  EXPECT_EQ(res->get().at(1).error, errc::offset_metadata_too_large);
  EXPECT_EQ(fetched("g", "t", 1), -1);
}

TEST_F(offsets_test, CompletionsOutOfOrderKeepTheLaterCommit) {
  log.manual = true;
  auto first = commit(creq("g", -1, "", "t", 0, 1));
  auto second = commit(creq("g", -1, "", "t", 0, 2));
  ASSERT_EQ(log.waiting.size(), 2u);
  fake_log::call older = std::move(log.waiting[0]);
  log.waiting.erase(log.waiting.begin());
  log.complete_next(true);  // the later commit finishes first
  older.done(true);
  EXPECT_EQ(fetched("g", "t", 0), 2);  // as replaying the log (1, then 2) would give
}

TEST_F(offsets_test, SamePartitionTwiceInOneCommitKeepsTheLastEntry) {
  offset_commit_request r = creq("g", -1, "", "t", 0, 1);
  r.offsets.push_back({"t", 0, 2, -1, std::nullopt, 0});
  commit(r);
  EXPECT_EQ(fetched("g", "t", 0), 2);
}

TEST_F(offsets_test, DeleteOffsetsOfAnEmptyGroupWritesTombstones) {
  offset_commit_request r = creq("g", -1, "", "t", 0, 1);
  r.offsets.push_back({"t", 1, 2, -1, std::nullopt, 0});
  commit(r);
  auto [res, cb] = track<offset_delete_result>();
  c->delete_offsets("g", {{"t", 0}, {"never", 0}}, now, cb);
  ASSERT_TRUE(res->ready());
  EXPECT_EQ(res->get().error, errc::none);
  EXPECT_EQ(res->get().partitions,
            (std::vector<partition_error>{{{"t", 0}, errc::none}, {{"never", 0}, errc::none}}));
  EXPECT_EQ(fetched("g", "t", 0), -1);
  EXPECT_EQ(fetched("g", "t", 1), 2);
  ASSERT_FALSE(log.appended.back().value);  // a tombstone, for the offset that existed only
  EXPECT_EQ(std::get<offset_key>(*decode_key(log.appended.back().key)), (offset_key{"g", "t", 0}));
  EXPECT_EQ(log.appended.size(), 3u);  // two commits, one tombstone
}

TEST_F(offsets_test, DeleteOffsetsOfTopicsAnActiveConsumerGroupSubscribesToIsRefused) {
  auto f = form_group("g", 1);  // subscribes to t1
  commit(creq("g", f.generation, f.ids[0], "t1", 0, 1));
  commit(creq("g", f.generation, f.ids[0], "old", 0, 1));
  auto [res, cb] = track<offset_delete_result>();
  c->delete_offsets("g", {{"t1", 0}, {"old", 0}}, now, cb);
  EXPECT_EQ(res->get().error, errc::none);
  EXPECT_EQ(res->get().partitions.at(0).error, errc::group_subscribed_to_topic);
  EXPECT_EQ(res->get().partitions.at(1).error, errc::none);
  EXPECT_EQ(fetched("g", "t1", 0), 1);
  EXPECT_EQ(fetched("g", "old", 0), -1);
}

TEST_F(offsets_test, DeleteOffsetsOfAnActiveNonConsumerGroupIsNonEmptyGroup) {
  join_request r = jreq("g", "", "c", 3);
  r.protocol_type = "connect";
  join(r);
  auto [res, cb] = track<offset_delete_result>();
  c->delete_offsets("g", {{"t", 0}}, now, cb);
  EXPECT_EQ(res->get().error, errc::non_empty_group);
}

TEST_F(offsets_test, UndecodableSubscriptionCountsAsSubscribedToEverything) {
  join_request r = jreq("g", "", "c", 3);
  r.protocols = {{"range", bytes_of("garbage")}};
  auto j = join(r);
  advance(3000ms);
  EXPECT_EQ(c->find("g")->subscribed_topics(), std::nullopt);
  auto [res, cb] = track<offset_delete_result>();
  c->delete_offsets("g", {{"anything", 0}}, now, cb);
  EXPECT_EQ(res->get().partitions.at(0).error, errc::group_subscribed_to_topic);
}

TEST_F(offsets_test, DeleteOffsetsOfAnUnknownGroupIsGroupIdNotFound) {
  auto [res, cb] = track<offset_delete_result>();
  c->delete_offsets("nogroup", {{"t", 0}}, now, cb);
  EXPECT_EQ(res->get().error, errc::group_id_not_found);
  auto [res2, cb2] = track<offset_delete_result>();
  c->delete_offsets("", {{"t", 0}}, now, cb2);
  EXPECT_EQ(res2->get().error, errc::invalid_group_id);
}

TEST_F(offsets_test, DeleteOffsetsPersistFailureKeepsTheOffsets) {
  commit(creq("g", -1, "", "t", 0, 1));
  log.fail = true;
  auto [res, cb] = track<offset_delete_result>();
  c->delete_offsets("g", {{"t", 0}}, now, cb);
  EXPECT_EQ(res->get().error, errc::coordinator_not_available);
  EXPECT_TRUE(res->get().partitions.empty());
  EXPECT_EQ(fetched("g", "t", 0), 1);
}

TEST_F(offsets_test, CommitRacingADeleteEndsAsTheLogOrderSays) {
  commit(creq("g", -1, "", "t", 0, 1));
  log.manual = true;
  auto later = commit(creq("g", -1, "", "t", 0, 2));  // in flight...
  auto [res, cb] = track<offset_delete_result>();
  c->delete_offsets("g", {{"t", 0}}, now, cb);  // ...then the tombstone
  ASSERT_EQ(log.waiting.size(), 2u);
  fake_log::call commit_call = std::move(log.waiting[0]);
  log.waiting.erase(log.waiting.begin());
  log.complete_next(true);  // the tombstone completes first
  commit_call.done(true);   // the older commit must not bring the offset back
  EXPECT_EQ(fetched("g", "t", 0), -1);
  EXPECT_EQ(later->get().at(0).error, errc::none);
}

}  // namespace
}  // namespace tern::group::test
