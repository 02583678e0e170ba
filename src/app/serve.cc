#include "app/serve.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "app/config.h"
#include "amqp/convert.h"
#include "amqp/server.h"
#include "app/version.h"
#include "base/logger.h"
#include "broker/broker.h"
#include "broker/queue_service.h"
#include "http/admin_api.h"
#include "http/router.h"
#include "http/server.h"
#include "kafka/group_service.h"
#include "kafka/server.h"
#include "net/budget.h"
#include "net/listener.h"
#include "net/shard.h"
#include "storage/file.h"

namespace tern::app {
namespace {

spdlog::logger& log() { return module_logger("app"); }

broker::broker_config make_broker_config(const config& cfg) {
  broker::broker_config b;
  b.data_dir = std::filesystem::absolute(cfg.data_dir);
  b.node_id = cfg.node_id;
  b.auto_create_topics = cfg.auto_create_topics;
  b.default_partitions = cfg.default_partitions;
  b.flusher_threads = cfg.flusher_threads;
  b.retention_check_interval_ms = cfg.retention_check_interval_ms;
  b.compaction_check_interval_ms = cfg.compaction_check_interval_ms;
  auto& l = b.log_defaults;
  l.segment_bytes = cfg.segment_bytes;
  l.segment_ms = cfg.segment_ms;
  l.retention_ms = cfg.retention_ms;
  l.retention_bytes = cfg.retention_bytes;
  l.flush = cfg.flush == "never"      ? storage::flush_policy::never
            : cfg.flush == "interval" ? storage::flush_policy::interval
                                      : storage::flush_policy::always;
  l.flush_interval_ms = cfg.flush_interval_ms;
  l.max_message_bytes = cfg.max_message_bytes;
  return b;
}

// The host clients are told to connect to: the configured one, else the listen host, else
// (listening on every interface) this machine's name.
std::string advertised_host(const config& cfg, const std::string& listen_host) {
  if (!cfg.advertised_host.empty()) return cfg.advertised_host;
  if (listen_host != "0.0.0.0" && listen_host != "::" && !listen_host.empty()) return listen_host;
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0 && name[0]) return name;
  return "127.0.0.1";
}

}  // namespace

int run_serve(const config& cfg) {
  // A peer that closes while sendfile() writes must be an EPIPE error, not a dead broker.
  std::signal(SIGPIPE, SIG_IGN);
  unsigned smp = cfg.smp ? cfg.smp : std::max(1u, std::thread::hardware_concurrency());
  auto shards = std::make_unique<net::shard_set>(smp);
  storage::posix_file_system fs;
  auto core = std::make_unique<broker::broker>(*shards, make_broker_config(cfg), fs);
  net::global_budget budget(int64_t(cfg.global_memory_bytes));

  kafka::group_service_config gcfg;
  gcfg.coordinator.initial_rebalance_delay =
      std::chrono::milliseconds(cfg.group_initial_rebalance_delay_ms);
  gcfg.coordinator.min_session_timeout = std::chrono::milliseconds(cfg.group_min_session_timeout_ms);
  gcfg.coordinator.max_session_timeout = std::chrono::milliseconds(cfg.group_max_session_timeout_ms);
  gcfg.offsets_partitions = cfg.offsets_topic_partitions;
  gcfg.offsets_segment_bytes = cfg.offsets_segment_bytes;
  auto groups = std::make_unique<kafka::group_service>(*core, *shards, gcfg);

  broker::queue_service_config qcfg;
  qcfg.data_dir = std::filesystem::absolute(cfg.data_dir);
  qcfg.log_defaults = make_broker_config(cfg).log_defaults;
  qcfg.flusher_threads = cfg.flusher_threads;
  auto queues = std::make_unique<broker::queue_service>(*shards, fs, qcfg);
  queues->set_dead_letter_rewrite(amqp::dead_letter_rewrite);
  std::unique_ptr<amqp::server> amqp_server;
  std::shared_ptr<net::listener> amqp_listener;
  std::optional<host_port> amqp_listen;
  if (!cfg.amqp_listen.empty()) {
    amqp_listen = parse_host_port(cfg.amqp_listen);
    if (!amqp_listen) {
      log().error("bad amqp listen address '{}'", cfg.amqp_listen);
      return 2;
    }
    amqp::server_config a;
    a.frame_max = cfg.amqp_frame_max;
    a.heartbeat_s = cfg.amqp_heartbeat_s;
    a.version = std::string(version());
    amqp_server = std::make_unique<amqp::server>(*queues, a);
  }

  // The HTTP admin API: routes built once here, read-only afterwards (every shard shares them).
  std::optional<host_port> http_listen;
  if (!cfg.http_listen.empty()) {
    http_listen = parse_host_port(cfg.http_listen);
    if (!http_listen) {
      log().error("bad http listen address '{}'", cfg.http_listen);
      return 2;
    }
  }
  http::admin_api admin(*queues, std::string(version()));
  http::router routes;
  admin.add_routes(routes);
  http::server http_server(routes, {});
  std::shared_ptr<net::listener> http_listener;

  std::unique_ptr<kafka::server> kafka_server;
  std::shared_ptr<net::listener> kafka_listener;
  std::optional<host_port> listen;
  if (!cfg.kafka_listen.empty()) {
    listen = parse_host_port(cfg.kafka_listen);
    if (!listen) {
      log().error("bad kafka listen address '{}'", cfg.kafka_listen);
      return 2;
    }
    kafka::server_config k;
    k.max_request_bytes = cfg.max_request_bytes;
    k.connection_memory_bytes = int64_t(cfg.connection_memory_bytes);
    k.request_timeout_ms = cfg.request_timeout_ms;
    k.idle_timeout_ms = cfg.idle_timeout_ms;
    k.advertised_host = advertised_host(cfg, listen->host);
    kafka_server = std::make_unique<kafka::server>(*core, *groups, k, budget);
  }

  int exit_code = 0;
  auto signals = std::make_unique<net::asio::signal_set>(shards->context(0), SIGINT, SIGTERM);
  bool stopping = false;
  auto shutdown = [&]() -> net::awaitable<void> {
    if (stopping) co_return;
    stopping = true;
    // The admin API first: its handlers use the queue service, which stops below.
    if (http_listener) co_await http_listener->close();
    http_server.stop();
    if (kafka_listener) co_await kafka_listener->close();
    if (amqp_listener) co_await amqp_listener->close();
    co_await groups->stop();
    co_await queues->stop();
    co_await core->stop();
    shards->stop();
  };

  shards->start();
  net::asio::co_spawn(shards->context(0), [&]() -> net::awaitable<void> {
    auto started = co_await core->start();
    if (!started) {
      log().error("cannot start: {}", started.error().message());
      exit_code = 1;
      co_await shutdown();
      co_return;
    }
    if (auto g = co_await groups->start(); !g) {
      log().error("cannot start the group coordinator: {}", g.error().message());
      exit_code = 1;
      co_await shutdown();
      co_return;
    }
    if (auto q = co_await queues->start(); !q) {
      log().error("cannot start the queues: {}", q.error().message());
      exit_code = 1;
      co_await shutdown();
      co_return;
    }
    if (http_listen) {
      auto ep = net::parse_endpoint(http_listen->host + ":" + std::to_string(http_listen->port));
      if (!ep) {
        log().error("cannot resolve http listen address '{}'", cfg.http_listen);
        exit_code = 2;
        co_await shutdown();
        co_return;
      }
      auto* srv = &http_server;
      auto l = co_await net::listener::start(
          *shards, *ep, "http", [srv](net::tcp::socket s) { return srv->serve(std::move(s)); });
      if (!l) {
        log().error("cannot listen on {}: {}", cfg.http_listen, l.error().message());
        exit_code = 1;
        co_await shutdown();
        co_return;
      }
      http_listener = *l;
      auto bound = http_listener->local_endpoint();
      admin.add_listener({"http", bound.address().to_string(), bound.port()});
      std::printf("tern: HTTP admin API on %s:%u\n", bound.address().to_string().c_str(),
                  unsigned(bound.port()));
      std::fflush(stdout);
    }
    if (amqp_server) {
      auto ep = net::parse_endpoint(amqp_listen->host + ":" + std::to_string(amqp_listen->port));
      if (!ep) {
        log().error("cannot resolve amqp listen address '{}'", cfg.amqp_listen);
        exit_code = 2;
        co_await shutdown();
        co_return;
      }
      auto* srv = amqp_server.get();
      auto l = co_await net::listener::start(
          *shards, *ep, "amqp", [srv](net::tcp::socket s) { return srv->serve(std::move(s)); });
      if (!l) {
        log().error("cannot listen on {}: {}", cfg.amqp_listen, l.error().message());
        exit_code = 1;
        co_await shutdown();
        co_return;
      }
      amqp_listener = *l;
      auto bound = amqp_listener->local_endpoint();
      admin.add_listener({"amqp", bound.address().to_string(), bound.port()});
      std::printf("tern: listening for AMQP 0-9-1 clients on %s:%u\n",
                  bound.address().to_string().c_str(), unsigned(bound.port()));
      std::fflush(stdout);
    }
    if (kafka_server) {
      auto ep = net::parse_endpoint(listen->host + ":" + std::to_string(listen->port));
      if (!ep) {
        log().error("cannot resolve kafka listen address '{}'", cfg.kafka_listen);
        exit_code = 2;
        co_await shutdown();
        co_return;
      }
      auto* srv = kafka_server.get();
      auto l = co_await net::listener::start(
          *shards, *ep, "kafka",
          [srv](net::tcp::socket s) { return srv->serve(std::move(s)); });
      if (!l) {
        log().error("cannot listen on {}: {}", cfg.kafka_listen, l.error().message());
        exit_code = 1;
        co_await shutdown();
        co_return;
      }
      kafka_listener = *l;
      auto bound = kafka_listener->local_endpoint();
      kafka_server->config().advertised_port = bound.port();
      admin.add_listener({"kafka", bound.address().to_string(), bound.port()});
      std::printf("tern %.*s: listening for Kafka clients on %s:%u (advertised as %s:%u); "
                  "data in %s; %u shards\n",
                  int(version().size()), version().data(), bound.address().to_string().c_str(),
                  unsigned(bound.port()), kafka_server->config().advertised_host.c_str(),
                  unsigned(bound.port()), core->config().data_dir.c_str(), smp);
      std::fflush(stdout);
    }
    signals->async_wait([&](const net::error_code& ec, int sig) {
      if (ec) return;
      log().info("signal {} received: shutting down", sig);
      net::asio::co_spawn(shards->context(0), shutdown(), net::asio::detached);
    });
  }, net::asio::detached);

  shards->run();
  shards->join();
  signals.reset();
  amqp_server.reset();
  queues.reset();
  groups.reset();  // its timers belong to the shards' event loops, still alive here
  // Destroy the event loops (and any coroutine still parked in them) while the broker they
  // may refer to is still alive.
  shards.reset();
  core.reset();
  if (exit_code == 0) log().info("stopped cleanly");
  return exit_code;
}

}  // namespace tern::app
