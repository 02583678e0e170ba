// admin_client against a scripted broker (fake_broker.h), so the client's requests and its
// reading of the answers are checked without a real broker.

#include "app/admin_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "app/tests/fake_broker.h"

namespace tern::app {
namespace {

using kafka::api_key;
using namespace std::chrono_literals;
using test::fake_broker;

admin_options options_for(const fake_broker& b) {
  admin_options o;
  o.bootstrap = b.address();
  o.timeout = 5s;
  return o;
}

using metadata_topic = kafka::metadata_response::metadata_response_topic;

metadata_topic make_topic(std::string name, int partitions, int16_t error = 0) {
  metadata_topic t;
  t.name = std::move(name);
  t.error_code = error;
  for (int i = 0; i < partitions; ++i) {
    auto& p = t.partitions.emplace_back();
    p.partition_index = i;
    p.leader_id = 0;
    p.replica_nodes = {0};
    p.isr_nodes = {0};
  }
  return t;
}

TEST(AdminClient, ConnectRefusedIsOneLine) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);  // a port nobody listens on: bound, not listening
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  admin_options o;
  o.bootstrap = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  auto c = admin_client::connect(o);
  ::close(fd);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "connect to " + o.bootstrap + ": Connection refused");
}

TEST(AdminClient, NegotiatesHighestCommonVersion) {
  fake_broker b;
  b.on(api_key::api_versions,
       [](const kafka::request_header& h, bytes::byte_reader&, bytes::chunked_buffer& out) {
         kafka::api_versions_response resp;
         resp.api_keys = {{18, 0, 3}, {3, 1, 4}, {19, 0, 99}};  // no DeleteTopics at all
         kafka::encode_response(resp, h.version, out);
         return true;
       });
  b.start();
  auto c = admin_client::connect(options_for(b));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->version_of(api_key::metadata), 4);
  EXPECT_EQ(c->version_of(api_key::create_topics),
            kafka::find_api(api_key::create_topics)->max_version);
  EXPECT_EQ(c->version_of(api_key::delete_topics), std::nullopt);
  auto r = c->delete_topic("t");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "the broker does not support DeleteTopics");
}

// A broker without ApiVersions v3 answers UNSUPPORTED_VERSION in the v0 layout, with its list.
TEST(AdminClient, ApiVersionsFallsBackToV0Layout) {
  fake_broker b;
  b.on(api_key::api_versions,
       [](const kafka::request_header& h, bytes::byte_reader&, bytes::chunked_buffer& out) {
         EXPECT_EQ(h.version, 3);
         kafka::api_versions_response resp;
         resp.error_code = 35;
         resp.api_keys = {{18, 0, 2}, {3, 0, 5}};
         kafka::encode_response(resp, 0, out);
         return true;
       });
  b.start();
  auto c = admin_client::connect(options_for(b));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->version_of(api_key::metadata), 5);
}

TEST(AdminClient, ListTopicsSortedWithoutAutoCreate) {
  fake_broker b;
  b.answer<kafka::metadata_request, kafka::metadata_response>(
      [](const kafka::metadata_request& req, int16_t, kafka::metadata_response& resp) {
        EXPECT_FALSE(req.topics.has_value());  // null: all topics
        EXPECT_FALSE(req.allow_auto_topic_creation);
        resp.topics = {make_topic("orders", 3), make_topic("audit", 1)};
        resp.topics[1].is_internal = true;
      });
  b.start();
  auto c = admin_client::connect(options_for(b));
  ASSERT_TRUE(c) << c.error().message;
  auto topics = c->list_topics();
  ASSERT_TRUE(topics) << topics.error().message;
  ASSERT_EQ(topics->size(), 2u);
  EXPECT_EQ((*topics)[0].name, "audit");
  EXPECT_TRUE((*topics)[0].internal);
  EXPECT_EQ((*topics)[1].name, "orders");
  EXPECT_EQ((*topics)[1].partition_count, 3);
}

TEST(AdminClient, CreateTopicAlreadyExistsNamesTheError) {
  fake_broker b;
  b.answer<kafka::create_topics_request, kafka::create_topics_response>(
      [](const kafka::create_topics_request& req, int16_t v, kafka::create_topics_response& resp) {
        ASSERT_EQ(req.topics.size(), 1u);
        EXPECT_EQ(req.topics[0].num_partitions, -1);  // broker default, v4+
        ASSERT_EQ(req.topics[0].configs.size(), 1u);
        EXPECT_EQ(req.topics[0].configs[0].name, "retention.ms");
        EXPECT_EQ(req.topics[0].configs[0].value, "1000");
        auto& t = resp.topics.emplace_back();
        t.name = req.topics[0].name;
        t.error_code = 36;
        t.error_message = "Topic 'orders' already exists.";
      });
  b.start();
  auto c = admin_client::connect(options_for(b));
  ASSERT_TRUE(c) << c.error().message;
  auto r = c->create_topic("orders", -1, {{"retention.ms", "1000"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kafka_code, 36);
  EXPECT_EQ(r.error().message, "TOPIC_ALREADY_EXISTS: Topic 'orders' already exists.");
}

TEST(AdminClient, CreateTopicReportsPartitions) {
  fake_broker b;
  b.answer<kafka::create_topics_request, kafka::create_topics_response>(
      [](const kafka::create_topics_request& req, int16_t, kafka::create_topics_response& resp) {
        EXPECT_EQ(req.topics[0].num_partitions, 4);
        auto& t = resp.topics.emplace_back();
        t.name = req.topics[0].name;
        t.num_partitions = 4;
      });
  b.start();
  auto c = admin_client::connect(options_for(b));
  ASSERT_TRUE(c) << c.error().message;
  auto r = c->create_topic("orders", 4, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->partition_count, 4);
}

TEST(AdminClient, DeleteUnknownTopic) {
  fake_broker b;
  b.answer<kafka::delete_topics_request, kafka::delete_topics_response>(
      [](const kafka::delete_topics_request& req, int16_t, kafka::delete_topics_response& resp) {
        EXPECT_EQ(req.topic_names, std::vector<std::string>{"gone"});
        auto& t = resp.responses.emplace_back();
        t.name = "gone";
        t.error_code = 3;
      });
  b.start();
  auto c = admin_client::connect(options_for(b));
  ASSERT_TRUE(c) << c.error().message;
  auto r = c->delete_topic("gone");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "UNKNOWN_TOPIC_OR_PARTITION: topic 'gone' does not exist");
}

TEST(AdminClient, DescribeGathersOffsetsAndConfigs) {
  fake_broker b;
  b.answer<kafka::metadata_request, kafka::metadata_response>(
      [](const kafka::metadata_request& req, int16_t, kafka::metadata_response& resp) {
        ASSERT_TRUE(req.topics && req.topics->size() == 1);
        EXPECT_FALSE(req.allow_auto_topic_creation);
        resp.topics = {make_topic("orders", 2)};
      });
  b.answer<kafka::list_offsets_request, kafka::list_offsets_response>(
      [](const kafka::list_offsets_request& req, int16_t, kafka::list_offsets_response& resp) {
        auto& t = resp.topics.emplace_back();
        t.name = req.topics.at(0).name;
        for (auto& p : req.topics.at(0).partitions) {
          auto& rp = t.partitions.emplace_back();
          rp.partition_index = p.partition_index;
          rp.offset = p.timestamp == -2 ? 10 * p.partition_index : 100 + p.partition_index;
        }
      });
  b.answer<kafka::describe_configs_request, kafka::describe_configs_response>(
      [](const kafka::describe_configs_request& req, int16_t,
         kafka::describe_configs_response& resp) {
        EXPECT_EQ(req.resources.at(0).resource_type, 2);
        auto& r = resp.results.emplace_back();
        r.resource_type = 2;
        r.resource_name = req.resources.at(0).resource_name;
        auto& c1 = r.configs.emplace_back();
        c1.name = "retention.ms";
        c1.value = "1000";
        c1.config_source = 1;
        auto& c2 = r.configs.emplace_back();
        c2.name = "cleanup.policy";
        c2.value = "delete";
        c2.config_source = 5;
      });
  b.start();
  auto c = admin_client::connect(options_for(b));
  ASSERT_TRUE(c) << c.error().message;
  auto t = c->describe_topic("orders");
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_EQ(t->partitions.size(), 2u);
  EXPECT_EQ(t->partitions[1].earliest_offset, 10);
  EXPECT_EQ(t->partitions[1].latest_offset, 101);
  ASSERT_EQ(t->configs.size(), 2u);
  EXPECT_EQ(t->configs[0].name, "cleanup.policy");  // sorted
  EXPECT_EQ(t->configs[0].source, "DEFAULT_CONFIG");
  EXPECT_EQ(t->configs[1].source, "DYNAMIC_TOPIC_CONFIG");
}

TEST(AdminClient, DescribeUnknownTopic) {
  fake_broker b;
  b.answer<kafka::metadata_request, kafka::metadata_response>(
      [](const kafka::metadata_request&, int16_t, kafka::metadata_response& resp) {
        resp.topics = {make_topic("nope", 0, 3)};
      });
  b.start();
  auto c = admin_client::connect(options_for(b));
  ASSERT_TRUE(c) << c.error().message;
  auto t = c->describe_topic("nope");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().message, "UNKNOWN_TOPIC_OR_PARTITION: topic 'nope' does not exist");
}

TEST(AdminClient, SilentBrokerTimesOut) {
  fake_broker b;
  b.on(api_key::metadata, [](auto&, auto&, auto&) { return false; });
  b.start();
  auto o = options_for(b);
  o.timeout = 300ms;
  auto c = admin_client::connect(o);
  ASSERT_TRUE(c) << c.error().message;
  auto start = std::chrono::steady_clock::now();
  auto r = c->list_topics();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "receive: timed out");
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
}

}  // namespace
}  // namespace tern::app
