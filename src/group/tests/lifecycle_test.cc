// Replay, unload, persist completions that come late, twice or never, re-entrant callbacks,
// and a randomized run that checks every callback is answered exactly once.

#include <random>
#include <set>

#include "group/tests/test_util.h"

namespace tern::group::test {
namespace {

using lifecycle_test = coordinator_test;

void expect_same_groups(const coordinator& a, const coordinator& b) {
  auto la = a.list_groups(), lb = b.list_groups();
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) {
    SCOPED_TRACE(la[i].group_id);
    EXPECT_EQ(la[i].group_id, lb[i].group_id);
    EXPECT_EQ(la[i].protocol_type, lb[i].protocol_type);
    EXPECT_EQ(la[i].state, lb[i].state);
    const classic_group& ga = *a.find(la[i].group_id);
    const classic_group& gb = *b.find(lb[i].group_id);
    EXPECT_EQ(ga.generation(), gb.generation());
    EXPECT_EQ(ga.leader(), gb.leader());
    EXPECT_EQ(ga.protocol_name(), gb.protocol_name());
    auto da = a.describe_group(la[i].group_id), db = b.describe_group(lb[i].group_id);
    ASSERT_EQ(da.members.size(), db.members.size());
    for (size_t m = 0; m < da.members.size(); ++m) {
      EXPECT_EQ(da.members[m].member_id, db.members[m].member_id);
      EXPECT_EQ(da.members[m].group_instance_id, db.members[m].group_instance_id);
      EXPECT_EQ(da.members[m].client_id, db.members[m].client_id);
      EXPECT_EQ(da.members[m].client_host, db.members[m].client_host);
      EXPECT_EQ(da.members[m].metadata, db.members[m].metadata);
      EXPECT_EQ(da.members[m].assignment, db.members[m].assignment);
      const member* ma = ga.find_member(da.members[m].member_id);
      const member* mb = gb.find_member(da.members[m].member_id);
      EXPECT_EQ(ma->session_timeout, mb->session_timeout);
      EXPECT_EQ(ma->rebalance_timeout, mb->rebalance_timeout);
    }
    auto oa = a.fetch_offsets(la[i].group_id, std::nullopt);
    auto ob = b.fetch_offsets(lb[i].group_id, std::nullopt);
    ASSERT_EQ(oa.offsets.size(), ob.offsets.size());
    for (size_t o = 0; o < oa.offsets.size(); ++o) {
      EXPECT_EQ(oa.offsets[o].tp, ob.offsets[o].tp);
      EXPECT_EQ(oa.offsets[o].offset, ob.offsets[o].offset);
      EXPECT_EQ(oa.offsets[o].leader_epoch, ob.offsets[o].leader_epoch);
      EXPECT_EQ(oa.offsets[o].metadata, ob.offsets[o].metadata);
    }
  }
}

TEST_F(lifecycle_test, ReplayOfTheLogRebuildsTheSameGroupsAndOffsets) {
  auto dyn = form_group("dynamic", 2);
  auto s1 = join(static_req("static", "i1"));
  advance(3000ms);
  sync_request ss = sreq("static", s1->get().member_id, 1);
  ss.assignments = {{s1->get().member_id, bytes_of("all of it")}};
  sync(ss);
  commit(creq("dynamic", dyn.generation, dyn.ids[0], "t1", 0, 100));
  offset_commit_request simple = creq("simple", -1, "", "x", 3, 7);
  simple.offsets.push_back({"x", 4, 8, -1, std::nullopt, 0});
  commit(simple);
  commit(creq("simple", -1, "", "x", 3, 9));  // a later value of the same key
  c->delete_offsets("simple", {{"x", 4}}, now, [](auto) {});
  auto gone = form_group("gone", 1);
  c->leave({"gone", {{gone.ids[0], {}}}}, now);
  c->delete_groups({"gone"}, now, [](auto) {});
  ASSERT_EQ(c->group_count(), 3u);

  coordinator replica(cfg);
  for (const auto& r : log.appended) {
    auto ok = replica.replay(r, now);
    ASSERT_TRUE(ok) << ok.error().message();
  }
  expect_same_groups(*c, replica);
  EXPECT_EQ(replica.find("dynamic")->state(), group_state::stable);
  EXPECT_EQ(replica.find("simple")->state(), group_state::empty);
  EXPECT_EQ(replica.find("static")->static_member_id("i1"), s1->get().member_id);
  // Members carry on with their generation: no rebalance after a coordinator restart.
  EXPECT_EQ(replica.heartbeat({"dynamic", dyn.generation, dyn.ids[1], {}}, now), errc::none);
  EXPECT_EQ(replica.heartbeat({"static", 1, s1->get().member_id, "i1"}, now), errc::none);
  // ...and OffsetDelete still knows what the group subscribes to.
  EXPECT_TRUE(replica.find("dynamic")->is_subscribed_to("t1"));
  EXPECT_FALSE(replica.find("dynamic")->is_subscribed_to("x"));
}

TEST_F(lifecycle_test, ReplayedSessionsStartAtLoadTime) {
  form_group("g", 2);
  coordinator replica(cfg);
  const time_point load = now + 1h;
  for (const auto& r : log.appended) ASSERT_TRUE(replica.replay(r, load));
  EXPECT_EQ(replica.next_deadline(), load + 10000ms);
  replica.tick(load + 9999ms);
  EXPECT_EQ(replica.find("g")->size(), 2u);
  replica.tick(load + 10000ms);
  EXPECT_EQ(replica.find("g")->size(), 0u);  // nobody came back
  EXPECT_EQ(replica.find("g")->state(), group_state::empty);
}

TEST_F(lifecycle_test, ReplayKeepsTheLastRecordOfEachKeyAndTombstonesDelete) {
  coordinator r(cfg);
  const offset_key k{"g", "t", 0};
  ASSERT_TRUE(r.replay(make_record(k, offset_value{1, -1, "", 0}), now));
  ASSERT_TRUE(r.replay(make_record(k, offset_value{2, -1, "", 0}), now));
  EXPECT_EQ(r.fetch_offsets("g", std::nullopt).offsets.at(0).offset, 2);

  group_value v;
  v.protocol_type = "consumer";
  v.generation = 3;
  v.protocol_name = "range";
  v.leader = "m1";
  v.members = {{"m1", std::nullopt, "c", "h", 30000, 10000, {}, {}}};
  ASSERT_TRUE(r.replay(make_record(group_key{"g"}, v), now));
  EXPECT_EQ(r.find("g")->state(), group_state::stable);
  v.generation = 4;
  v.members.clear();
  v.protocol_name.reset();
  v.leader.reset();
  ASSERT_TRUE(r.replay(make_record(group_key{"g"}, v), now));
  EXPECT_EQ(r.find("g")->state(), group_state::empty);
  EXPECT_EQ(r.find("g")->generation(), 4);

  ASSERT_TRUE(r.replay(make_tombstone(group_key{"g"}), now));
  ASSERT_NE(r.find("g"), nullptr);  // its offsets keep it, as a fresh Empty group
  EXPECT_EQ(r.find("g")->generation(), 0);
  ASSERT_TRUE(r.replay(make_tombstone(k), now));
  EXPECT_EQ(r.find("g"), nullptr);
  ASSERT_TRUE(r.replay(make_tombstone(k), now));  // a tombstone for nothing is fine
}

TEST_F(lifecycle_test, ReplayRefusesRecordsThatDoNotDecode) {
  coordinator r(cfg);
  EXPECT_EQ(r.replay(record{bytes_of("garbage"), std::nullopt}, now).error(),
            decode_errc::unknown_key_type);
  record bad_value{encode_key(group_key{"g"}), bytes::buffer{0, 0, 1}};
  EXPECT_FALSE(r.replay(bad_value, now));
  group_value dup;
  dup.protocol_type = "consumer";
  dup.protocol_name = "range";
  dup.members = {{"m", std::nullopt, "", "", 0, 0, {}, {}},
                 {"m", std::nullopt, "", "", 0, 0, {}, {}}};
  EXPECT_EQ(r.replay(make_record(group_key{"g"}, dup), now).error(), decode_errc::corrupt);
  group_value untyped = dup;  // members, but no protocol type: nobody could ever join
  untyped.protocol_type = "";
  untyped.members.pop_back();
  EXPECT_EQ(r.replay(make_record(group_key{"g"}, untyped), now).error(), decode_errc::corrupt);
  EXPECT_EQ(r.group_count(), 0u);
}

TEST_F(lifecycle_test, UnloadAnswersEverythingPendingWithNotCoordinator) {
  log.manual = true;
  auto p = join_new("b", "p");
  auto q = join_new("b", "q");
  advance(6000ms);
  auto joining = join_new("a");                          // waits out the initial delay
  auto waiting_sync = sync("b", q->get().member_id, 1);  // waits for the leader
  c->commit_offsets(creq("d", -1, "", "t", 0, 1), now, [](auto) {});
  log.complete_all();
  auto in_flight = commit(creq("c", -1, "", "t", 0, 1));
  auto [deleting, cb] = track<std::vector<group_deletion>>();
  c->delete_groups({"d"}, now, cb);
  EXPECT_FALSE(joining->ready() || waiting_sync->ready() || in_flight->ready() ||
               deleting->ready());

  c->unload();
  EXPECT_EQ(joining->get().error, errc::not_coordinator);
  EXPECT_EQ(waiting_sync->get().error, errc::not_coordinator);
  EXPECT_EQ(in_flight->get().at(0).error, errc::not_coordinator);
  EXPECT_EQ(deleting->get().at(0).error, errc::not_coordinator);
  EXPECT_EQ(c->group_count(), 0u);
  EXPECT_EQ(c->next_deadline(), std::nullopt);

  log.complete_all(true);  // completions after unload change nothing, answer nothing twice
  EXPECT_EQ(c->group_count(), 0u);
  EXPECT_EQ(join(jreq("a", "", "c"))->get().error, errc::member_id_required);  // usable again
}

TEST_F(lifecycle_test, DoneCalledTwiceIsIgnored) {
  log.manual = true;
  auto r = commit(creq("g", -1, "", "t", 0, 1));
  auto done = log.waiting.at(0).done;
  done(true);
  done(false);
  EXPECT_EQ(r->calls, 1);
  EXPECT_EQ(r->get().at(0).error, errc::none);
  EXPECT_EQ(fetched("g", "t", 0), 1);
}

TEST_F(lifecycle_test, DoneAfterTheCoordinatorIsGoneIsIgnored) {
  log.manual = true;
  auto r = commit(creq("g", -1, "", "t", 0, 1));
  auto done = log.waiting.at(0).done;
  c.reset();
  EXPECT_EQ(r->get().at(0).error, errc::not_coordinator);
  done(true);  // must not touch the destroyed coordinator
  EXPECT_EQ(r->calls, 1);
}

TEST_F(lifecycle_test, PersistQueuedBeforeAnUnloadIsNeverWritten) {
  auto f = form_group("g", 2);
  bool answered = false;
  c->join(jreq("g", f.ids[0]), now, [this, &answered](join_result r) {
    EXPECT_EQ(r.error, errc::unknown_member_id);
    answered = true;
    c->unload();  // e.g. the group partition moved away while answering
  });
  const size_t calls = log.calls;
  // Both leave: the leader's pending join is answered first, then the now empty generation
  // is queued for persistence, behind it. The unload in that answer must cancel the write.
  c->leave({"g", {{f.ids[0], {}}, {f.ids[1], {}}}}, now);
  EXPECT_TRUE(answered);
  EXPECT_EQ(log.calls, calls);
  EXPECT_EQ(c->group_count(), 0u);
}

TEST_F(lifecycle_test, CallbacksMayCallTheCoordinatorAgain) {
  auto first = join(jreq("g", "", "c"));
  auto got = std::make_shared<std::optional<sync_result>>();
  c->join(jreq("g", first->get().member_id, "c"), now, [this, got](join_result r) {
    sync_request s = sreq("g", r.member_id, r.generation_id);
    s.assignments = {{r.member_id, bytes_of("mine")}};
    c->sync(s, now, [got](sync_result sr) { *got = std::move(sr); });
  });
  advance(3000ms);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->assignment, bytes_of("mine"));
  EXPECT_EQ(c->find("g")->state(), group_state::stable);
}

// Random traffic against a few groups: joins (dynamic, static, stale), syncs, heartbeats,
// leaves, commits, deletions, persist completions that succeed or fail in any order, time
// jumps. Whatever happens, no invariant breaks, and the fixture checks at the end that every
// callback handed in was called exactly once.
TEST_F(lifecycle_test, RandomTrafficAnswersEveryCallbackExactlyOnce) {
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(seed);
    log = fake_log{};
    log.manual = true;
    make();
    std::mt19937 rng(seed);
    auto pick = [&](size_t n) { return size_t(rng() % n); };
    const std::vector<std::string> groups = {"g0", "g1", "g2"};
    auto ids = std::make_shared<std::vector<std::string>>();  // member ids seen so far
    auto remember = [ids](const std::string& id) {
      if (!id.empty()) ids->push_back(id);
    };
    auto some_id = [&]() { return ids->empty() ? std::string("x") : (*ids)[pick(ids->size())]; };
    auto generation = [&](const std::string& g) {
      const classic_group* grp = c->find(g);
      int32_t gen = grp ? grp->generation() : 0;
      return pick(5) == 0 ? gen - 1 : gen;  // mostly right, sometimes stale
    };

    for (int step = 0; step < 3000; ++step) {
      const std::string& g = groups[pick(groups.size())];
      switch (pick(10)) {
        case 0: {  // a new member (dynamic v3/v5, or static)
          join_request r = jreq(g, "", "c" + std::to_string(pick(3)), int16_t(pick(2) ? 5 : 3));
          if (pick(3) == 0) r.group_instance_id = "i" + std::to_string(pick(4));
          if (pick(4) == 0) r.protocols = {{"roundrobin", {}}, {"range", subscription({"t1"})}};
          auto cb = track<join_result>().second;
          c->join(r, now, [cb, remember](join_result jr) {
            remember(jr.member_id);
            cb(std::move(jr));
          });
          break;
        }
        case 1: {  // a known member rejoins
          join_request r = jreq(g, some_id());
          auto cb = track<join_result>().second;
          c->join(r, now, [cb, remember](join_result jr) {
            remember(jr.member_id);
            cb(std::move(jr));
          });
          break;
        }
        case 2: {
          sync_request s = sreq(g, some_id(), generation(g));
          for (int i = 0; i < 3; ++i) s.assignments.push_back({some_id(), bytes_of("a")});
          sync(s);
          break;
        }
        case 3:
          heartbeat(g, some_id(), generation(g));
          break;
        case 4:
          c->leave({g, {{some_id(), {}}, {"", "i" + std::to_string(pick(4))}}}, now);
          break;
        case 5:
          commit(creq(g, pick(2) ? -1 : generation(g), pick(2) ? "" : some_id(), "t1",
                      int32_t(pick(3)), int64_t(step)));
          break;
        case 6:
          if (!log.waiting.empty()) {
            // Complete any waiting persist, not only the oldest.
            size_t i = pick(log.waiting.size());
            fake_log::call call = std::move(log.waiting[i]);
            log.waiting.erase(log.waiting.begin() + long(i));
            call.done(pick(4) != 0);
          }
          break;
        case 7:
          advance(milliseconds(pick(8000)));
          // Everything due has run: the next deadline is in the future.
          if (auto d = c->next_deadline()) ASSERT_GT(*d, now);
          break;
        case 8: {
          if (pick(2)) {
            auto [rep, cb] = track<std::vector<group_deletion>>();
            c->delete_groups({g}, now, cb);
          } else {
            auto [rep, cb] = track<offset_delete_result>();
            c->delete_offsets(g, {{"t1", int32_t(pick(3))}, {"t9", 0}}, now, cb);
          }
          break;
        }
        case 9:
          (void)c->describe_group(g);
          (void)c->list_groups();
          (void)c->fetch_offsets(g, std::nullopt, true);
          break;
      }
      // Invariants of every group.
      for (const auto& ov : c->list_groups()) {
        const classic_group* grp = c->find(ov.group_id);
        ASSERT_NE(grp, nullptr);
        const bool active = grp->state() == group_state::stable ||
                            grp->state() == group_state::completing_rebalance;
        if (active) ASSERT_GT(grp->size(), 0u) << ov.group_id;
        if (grp->state() == group_state::empty || grp->state() == group_state::dead) {
          ASSERT_EQ(grp->size(), 0u) << ov.group_id;
        }
        if (grp->size() > 0) {
          ASSERT_TRUE(grp->leader());
          ASSERT_NE(grp->find_member(*grp->leader()), nullptr);
        } else {
          ASSERT_FALSE(grp->leader());
        }
      }
    }
    while (!log.waiting.empty()) log.complete_next(pick(2) == 0);
    c->unload();  // answers whatever is still pending, while `ids` is alive
  }
}

}  // namespace
}  // namespace tern::group::test
