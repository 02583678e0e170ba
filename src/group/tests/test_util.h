#pragma once
// Test helpers for the group coordinator: an injected clock, a fake internal log behind the
// persist hook (completing at once, failing, or holding completions for the test to release),
// and a fixture that checks, when each test ends, that every callback it handed out was
// called exactly once.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "group/consumer_protocol.h"
#include "group/coordinator.h"

namespace tern::group::test {

using namespace std::chrono_literals;

// A callback's outcome: how often it ran, and the last value it got.
template <class R>
struct reply {
  int calls = 0;
  std::optional<R> value;
  bool ready() const { return calls > 0; }
  // The value; a test failure (and a default value) when the callback has not run.
  const R& get() const {
    if (!value) {
      ADD_FAILURE() << "callback not called yet";
      static const R none{};
      return none;
    }
    return *value;
  }
};

// The internal log as the persist hook sees it.
class fake_log {
 public:
  struct call {
    std::vector<record> records;
    std::function<void(bool)> done;
  };

  bool manual = false;  // hold completions until complete_next()/complete_all()
  bool fail = false;    // outcome of immediate completions
  std::vector<call> waiting;
  std::vector<record> appended;  // records of successful persists, in completion order
  size_t calls = 0;

  coordinator::persist_fn hook() {
    return [this](std::vector<record> rs, std::function<void(bool)> done) {
      ++calls;
      if (manual) {
        waiting.push_back({std::move(rs), std::move(done)});
      } else {
        finish({std::move(rs), std::move(done)}, !fail);
      }
    };
  }
  void complete_next(bool ok = true) {
    ASSERT_FALSE(waiting.empty());
    call c = std::move(waiting.front());
    waiting.erase(waiting.begin());
    finish(std::move(c), ok);
  }
  void complete_all(bool ok = true) {
    while (!waiting.empty()) complete_next(ok);
  }

 private:
  void finish(call c, bool ok) {
    if (ok) appended.insert(appended.end(), c.records.begin(), c.records.end());
    c.done(ok);
  }
};

inline bytes::buffer subscription(std::vector<std::string> topics) {
  consumer_protocol::subscription s;
  s.version = 1;
  s.topics = std::move(topics);
  return consumer_protocol::encode_subscription(s);
}

inline bytes::buffer assignment_of(const std::string& topic, std::vector<int32_t> partitions) {
  consumer_protocol::assignment a;
  a.version = 1;
  a.partitions.push_back({topic, std::move(partitions)});
  return consumer_protocol::encode_assignment(a);
}

inline bytes::buffer bytes_of(std::string_view s) { return bytes::buffer(s.begin(), s.end()); }

class coordinator_test : public ::testing::Test {
 protected:
  coordinator_test() {
    cfg.uuid = [this] { return "u" + std::to_string(++uuids); };
  }
  void SetUp() override { make(); }
  void TearDown() override {
    c.reset();  // the destructor unloads: every pending callback gets its answer
    for (auto& check : _checks) check();
  }
  void make() { c = std::make_unique<coordinator>(cfg, log.hook()); }

  // A callback that records its calls; checked for exactly one call at the end of the test.
  template <class R>
  std::pair<std::shared_ptr<reply<R>>, std::function<void(R)>> track() {
    auto r = std::make_shared<reply<R>>();
    size_t n = _checks.size();
    _checks.push_back([r, n] { EXPECT_EQ(r->calls, 1) << "callback #" << n; });
    return {r, [r](R v) {
              ++r->calls;
              r->value = std::move(v);
            }};
  }

  join_request jreq(const std::string& group, const std::string& member_id,
                    const std::string& client = "client", int16_t version = 5) {
    join_request r;
    r.api_version = version;
    r.group_id = group;
    r.member_id = member_id;
    r.client_id = client;
    r.client_host = "/127.0.0.1";
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 30000;
    r.protocol_type = "consumer";
    r.protocols = {{"range", subscription({"t1"})}};
    return r;
  }
  join_request static_req(const std::string& group, const std::string& instance,
                          const std::string& member_id = "") {
    join_request r = jreq(group, member_id, "client-" + instance);
    r.group_instance_id = instance;
    return r;
  }

  std::shared_ptr<reply<join_result>> join(join_request req) {
    auto [r, cb] = track<join_result>();
    c->join(std::move(req), now, cb);
    return r;
  }
  // A dynamic member's first JoinGroup (v4+): the MEMBER_ID_REQUIRED round, then the real join.
  std::shared_ptr<reply<join_result>> join_new(const std::string& group,
                                               const std::string& client = "client") {
    auto first = join(jreq(group, "", client));
    EXPECT_EQ(first->get().error, errc::member_id_required);
    return join(jreq(group, first->get().member_id, client));
  }

  sync_request sreq(const std::string& group, const std::string& member, int32_t generation) {
    sync_request r;
    r.group_id = group;
    r.member_id = member;
    r.generation_id = generation;
    return r;
  }
  std::shared_ptr<reply<sync_result>> sync(sync_request req) {
    auto [r, cb] = track<sync_result>();
    c->sync(std::move(req), now, cb);
    return r;
  }
  std::shared_ptr<reply<sync_result>> sync(const std::string& group, const std::string& member,
                                           int32_t generation) {
    return sync(sreq(group, member, generation));
  }

  errc heartbeat(const std::string& group, const std::string& member, int32_t generation,
                 std::optional<std::string> instance = std::nullopt) {
    return c->heartbeat({group, generation, member, std::move(instance)}, now);
  }

  std::shared_ptr<reply<std::vector<partition_error>>> commit(offset_commit_request req) {
    auto [r, cb] = track<std::vector<partition_error>>();
    c->commit_offsets(std::move(req), now, cb);
    return r;
  }
  offset_commit_request creq(const std::string& group, int32_t generation,
                             const std::string& member, const std::string& topic, int32_t partition,
                             int64_t offset) {
    offset_commit_request r;
    r.group_id = group;
    r.generation_id = generation;
    r.member_id = member;
    r.offsets.push_back({topic, partition, offset, 3, "meta", 1700000000000});
    return r;
  }
  int64_t fetched(const std::string& group, const std::string& topic, int32_t partition) {
    auto r = c->fetch_offsets(group, std::vector<topic_partition>{{topic, partition}});
    return r.offsets.at(0).offset;
  }

  // Moves the clock and lets the coordinator run what is due.
  void advance(milliseconds d) {
    now += d;
    c->tick(now);
  }

  struct formed {
    std::vector<std::string> ids;  // join order; ids[0] is the leader
    int32_t generation = 0;
  };
  // A Stable group of `n` dynamic members, each assigned partition i of "t1".
  formed form_group(const std::string& group, int n) {
    std::vector<std::shared_ptr<reply<join_result>>> joins;
    for (int i = 0; i < n; ++i) joins.push_back(join_new(group, "client" + std::to_string(i)));
    for (int i = 0; i < 100 && !joins.back()->ready(); ++i) advance(1000ms);
    formed f;
    for (auto& j : joins) {
      EXPECT_EQ(j->calls, 1);
      EXPECT_EQ(j->get().error, errc::none);
      f.ids.push_back(j->get().member_id);
    }
    f.generation = joins[0]->get().generation_id;
    EXPECT_EQ(joins[0]->get().leader, f.ids[0]);
    sync_request lead = sreq(group, f.ids[0], f.generation);
    for (int i = 0; i < n; ++i) lead.assignments.push_back({f.ids[i], assignment_of("t1", {i})});
    auto ls = sync(lead);
    for (int i = 1; i < n; ++i) sync(group, f.ids[i], f.generation);
    EXPECT_TRUE(ls->ready());
    EXPECT_EQ(c->find(group)->state(), group_state::stable);
    return f;
  }

  coordinator_config cfg;
  fake_log log;
  time_point now = time_point{} + std::chrono::hours(1);
  std::unique_ptr<coordinator> c;
  int uuids = 0;

 private:
  std::vector<std::function<void()>> _checks;
};

}  // namespace tern::group::test
