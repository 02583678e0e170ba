// tern-bench: a Kafka load generator on librdkafka's C API, for Tern (or any Kafka broker).
//
//   tern-bench produce --bootstrap 127.0.0.1:9092 --topic t --partitions 2 --msg-size 100
//              --count 5000000 --acks all
//   tern-bench consume --topic t --count 5000000
//   tern-bench e2e --topic t --rate 20000 --duration 10
//
// produce  P producer threads (one librdkafka client each) send as fast as the client can,
//          round-robin over the partitions; the rate counts delivered (acknowledged) messages
//          from the first send to the last delivery report.
// consume  C consumer threads (one client each, partitions dealt out round-robin) read from
//          the beginning until --count messages, or everything present at start, have arrived;
//          the rate is from the first message received to the last.
// e2e      producers send at a fixed total --rate while consumers read from the end; each
//          payload carries the time it was *scheduled* to be sent (not when it was sent, so a
//          stalled producer shows as latency rather than hiding it), and the consumer records
//          now - that time in a fixed-size histogram.
// group    TODO: N consumers in one consumer group (needs JoinGroup/SyncGroup/Heartbeat and
//          OffsetCommit in the broker); see run_group().
//
// Every run is bounded: by --count and by --duration (or, with only --count, by --timeout).
// Output: one human-readable line, then one JSON line (the last line of stdout) for scripts.
// The client's own CPU time is reported too, since on a small machine the load generator
// shares the cores with the broker and may be what limits the figure.

#include <librdkafka/rdkafka.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "histogram.h"

namespace tern::bench {
namespace {

using clock_type = std::chrono::steady_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
      .count();
}

struct options {
  std::string mode;
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic = "tern-bench";
  int partitions = 2;
  size_t msg_size = 100;
  int64_t count = -1;      // total messages; -1 = not given
  double duration_s = 0;   // 0 = not given
  double timeout_s = 300;  // hard bound when only --count is given
  double warmup_s = 1;     // e2e: samples before this are not recorded
  std::string acks = "all";
  int linger_ms = -1;   // -1 = librdkafka's default (5 ms in 2.0.2)
  int batch_size = -1;  // bytes; -1 = default (1,000,000)
  std::string compression = "none";
  double rate = 20000;  // e2e (and produce when --rate is given): total msgs/s
  bool rate_given = false;
  int producers = 1;
  int consumers = 1;
  std::vector<std::string> props;           // extra librdkafka properties, key=value
  std::vector<std::string> producer_props;  // producers only
  std::vector<std::string> consumer_props;  // consumers only
  std::vector<std::string> topic_configs;   // key=value, when the topic is created
  bool quiet = false;
};

// ---------------------------------------------------------------------------------------------
// librdkafka helpers

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "tern-bench: %s\n", msg.c_str());
  std::exit(1);
}

void set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
    die("config " + key + "=" + value + ": " + err);
}

void error_cb(rd_kafka_t*, int err, const char* reason, void*) {
  // Transport errors repeat quickly when the broker is down; a few lines are enough.
  static std::atomic<int> printed{0};
  if (printed.fetch_add(1) < 20)
    std::fprintf(stderr, "tern-bench: librdkafka error %s: %s\n",
                 rd_kafka_err2name(rd_kafka_resp_err_t(err)), reason);
}

rd_kafka_conf_t* base_conf(const options& o) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", o.bootstrap);
  // Small produce requests must not wait for Nagle; the Java client also sets TCP_NODELAY.
  set(conf, "socket.nagle.disable", "true");
  rd_kafka_conf_set_error_cb(conf, error_cb);
  return conf;
}

void apply_props(rd_kafka_conf_t* conf, const std::vector<std::string>& props) {
  for (const auto& p : props) {
    auto eq = p.find('=');
    if (eq == std::string::npos) die("--prop wants key=value, got " + p);
    set(conf, p.substr(0, eq), p.substr(eq + 1));
  }
}

rd_kafka_t* new_client(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) die(std::string("rd_kafka_new: ") + err);
  return rk;
}

// Partition count of `topic` as the broker reports it, or -1 when the topic is unknown.
int partition_count(rd_kafka_t* rk, const std::string& topic) {
  const rd_kafka_metadata_t* md = nullptr;
  // all_topics=1: asking for one topic by name could auto-create it with default partitions.
  if (rd_kafka_metadata(rk, 1, nullptr, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
  int n = -1;
  for (int i = 0; i < md->topic_cnt; ++i)
    if (topic == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
      n = md->topics[i].partition_cnt;
  rd_kafka_metadata_destroy(md);
  return n;
}

// Creates the topic with o.partitions partitions unless it exists; returns its partition count.
int ensure_topic(const options& o) {
  rd_kafka_t* rk = new_client(RD_KAFKA_PRODUCER, base_conf(o));
  int have = partition_count(rk, o.topic);
  if (have < 0) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, 1, nullptr, 0);
    for (const auto& kv : o.topic_configs) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) die("--topic-config wants key=value, got " + kv);
      rd_kafka_NewTopic_set_config(nt, kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str());
    }
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
    if (!ev) die("CreateTopics timed out");
    if (rd_kafka_event_error(ev))
      die(std::string("CreateTopics: ") + rd_kafka_event_error_string(ev));
    size_t n = 0;
    const rd_kafka_topic_result_t** res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
      if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        die("CreateTopics " + o.topic + ": " + rd_kafka_err2name(e));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    // Wait until the metadata shows the new topic.
    for (int i = 0; i < 100 && (have = partition_count(rk, o.topic)) < 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (have < 0) die("topic " + o.topic + " did not appear in metadata");
  }
  if (have != o.partitions && !o.quiet)
    std::fprintf(stderr, "tern-bench: topic %s has %d partitions (asked for %d); using %d\n",
                 o.topic.c_str(), have, o.partitions, have);
  rd_kafka_destroy(rk);
  return have;
}

struct watermarks {
  int64_t low = 0, high = 0;
};

std::vector<watermarks> query_watermarks(const options& o, int partitions) {
  rd_kafka_t* rk = new_client(RD_KAFKA_PRODUCER, base_conf(o));
  std::vector<watermarks> w(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(rk, o.topic.c_str(), p, &w[p].low, &w[p].high, 10000);
    if (e) die("watermarks of partition " + std::to_string(p) + ": " + rd_kafka_err2name(e));
  }
  rd_kafka_destroy(rk);
  return w;
}

// ---------------------------------------------------------------------------------------------
// Results

struct cpu_times {
  double user = 0, sys = 0;
};

cpu_times process_cpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return {double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) / 1e6,
          double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) / 1e6};
}

struct result {
  uint64_t msgs = 0;   // delivered (produce) or received (consume, e2e)
  uint64_t bytes = 0;  // payload bytes of those messages
  uint64_t errors = 0;
  uint64_t sent = 0;   // e2e: messages produced
  double seconds = 0;  // the interval the rate is measured over
  cpu_times cpu;       // the load generator's CPU time over the whole run
  double wall = 0;     // the whole run, for the CPU share
  histogram latency;   // e2e only: scheduled send -> received by a consumer
  histogram ack;       // produce, e2e: scheduled send -> acknowledged (delivery report)
  bool has_latency = false;
};

void print_latency_json(const char* name, const histogram& h) {
  std::printf(",\"%s\":{\"samples\":%" PRIu64
              ",\"min\":%.1f,\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
              "\"p99_9\":%.1f,\"max\":%.1f}",
              name, h.count(), h.min() / 1e3, h.mean() / 1e3, h.quantile(0.5) / 1e3,
              h.quantile(0.9) / 1e3, h.quantile(0.99) / 1e3, h.quantile(0.999) / 1e3,
              h.max() / 1e3);
}

void print_latency_human(const char* name, const histogram& h) {
  std::printf("; %s us p50 %.0f p99 %.0f p99.9 %.0f max %.0f", name, h.quantile(0.5) / 1e3,
              h.quantile(0.99) / 1e3, h.quantile(0.999) / 1e3, h.max() / 1e3);
}

void report(const options& o, const result& r) {
  double secs = r.seconds > 0 ? r.seconds : 1e-9;
  double mps = double(r.msgs) / secs;
  double mbs = double(r.bytes) / secs / 1e6;
  double cpu = r.cpu.user + r.cpu.sys;
  double cpu_pct = r.wall > 0 ? 100.0 * cpu / r.wall : 0;
  std::printf("%s: %" PRIu64 " msgs x %zu B in %.3f s = %.0f msgs/s, %.1f MB/s; errors %" PRIu64
              "; client CPU %.2f s (%.0f%% of one core)",
              o.mode.c_str(), r.msgs, o.msg_size, secs, mps, mbs, r.errors, cpu, cpu_pct);
  if (r.has_latency) {
    std::printf("; sent %" PRIu64, r.sent);
    print_latency_human("e2e", r.latency);
  }
  if (r.ack.count()) print_latency_human("ack", r.ack);
  std::printf("\n");
  std::printf(
      "{\"mode\":\"%s\",\"topic\":\"%s\",\"partitions\":%d,\"msg_size\":%zu,\"acks\":\"%s\","
      "\"linger_ms\":%d,\"batch_size\":%d,\"compression\":\"%s\",\"producers\":%d,"
      "\"consumers\":%d,\"msgs\":%" PRIu64 ",\"errors\":%" PRIu64
      ",\"seconds\":%.6f,"
      "\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,\"client_cpu_user_s\":%.3f,"
      "\"client_cpu_sys_s\":%.3f,\"client_wall_s\":%.3f,\"client_cpu_pct\":%.1f",
      o.mode.c_str(), o.topic.c_str(), o.partitions, o.msg_size, o.acks.c_str(), o.linger_ms,
      o.batch_size, o.compression.c_str(), o.producers, o.consumers, r.msgs, r.errors, secs, mps,
      mbs, r.cpu.user, r.cpu.sys, r.wall, cpu_pct);
  if (r.has_latency) {
    std::printf(",\"rate\":%.0f,\"sent\":%" PRIu64, o.rate, r.sent);
    print_latency_json("latency_us", r.latency);
  }
  if (r.ack.count()) print_latency_json("ack_latency_us", r.ack);
  std::printf("}\n");
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------
// Producer

// The payload starts with the scheduled send time and a sequence number; the rest is filler.
constexpr size_t header_size = 16;

struct producer_state {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<int64_t> last_dr_ns{0};
  std::atomic<int> first_error{0};
  histogram ack_latency;        // scheduled send -> delivery report; written by the polling thread
  int64_t record_after_ns = 0;  // messages scheduled before this are not sampled (warm-up)
};

void dr_msg_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<producer_state*>(opaque);
  int64_t now = now_ns();
  if (m->err) {
    st->failed.fetch_add(1, std::memory_order_relaxed);
    int zero = 0;
    st->first_error.compare_exchange_strong(zero, m->err);
  } else {
    st->delivered.fetch_add(1, std::memory_order_relaxed);
    if (m->len >= header_size) {
      int64_t ts;
      std::memcpy(&ts, m->payload, 8);
      if (ts >= st->record_after_ns)
        st->ack_latency.record(uint64_t(std::max<int64_t>(now - ts, 0)));
    }
  }
  st->last_dr_ns.store(now, std::memory_order_relaxed);
}

rd_kafka_t* new_producer(const options& o, producer_state* st) {
  rd_kafka_conf_t* conf = base_conf(o);
  set(conf, "acks", o.acks);
  if (o.linger_ms >= 0) set(conf, "linger.ms", std::to_string(o.linger_ms));
  if (o.batch_size > 0) set(conf, "batch.size", std::to_string(o.batch_size));
  set(conf, "compression.type", o.compression);
  // Let the client queue deep enough that it never waits on its own buffer limits.
  set(conf, "queue.buffering.max.messages", "2000000");
  set(conf, "queue.buffering.max.kbytes", "1048576");
  apply_props(conf, o.props);
  apply_props(conf, o.producer_props);
  rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
  rd_kafka_conf_set_opaque(conf, st);
  return new_client(RD_KAFKA_PRODUCER, conf);
}

// Sends `n` messages (n < 0: until `deadline`), partition = sequence % partitions. With
// rate > 0, message i is scheduled at start + i/rate and carries that time; otherwise it
// carries the time it is handed to librdkafka. Returns the number handed over.
uint64_t produce_loop(const options& o, rd_kafka_t* rk, int partitions, int64_t n, double rate,
                      int64_t start_ns, int64_t deadline_ns, const std::atomic<bool>& stop) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
  std::vector<char> buf(std::max(o.msg_size, header_size), 'x');
  const double interval_ns = rate > 0 ? 1e9 / rate : 0;
  uint64_t i = 0;
  for (; n < 0 || int64_t(i) < n; ++i) {
    int64_t ts;
    if (rate > 0) {
      ts = start_ns + int64_t(double(i) * interval_ns);
      int64_t now = now_ns();
      while (now < ts) {
        // Poll for delivery reports while waiting; sleep in steps of at most 1 ms.
        rd_kafka_poll(rk, 0);
        int64_t wait = ts - now;
        if (wait > 20000)
          std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(wait, 1000000)));
        now = now_ns();
      }
    } else {
      ts = now_ns();
    }
    std::memcpy(buf.data(), &ts, 8);  // buf is at least header_size long
    std::memcpy(buf.data() + 8, &i, 8);
    int32_t part = int32_t(i % uint64_t(partitions));
    while (rd_kafka_produce(rkt, part, RD_KAFKA_MSG_F_COPY, buf.data(), o.msg_size, nullptr, 0,
                            nullptr) == -1) {
      rd_kafka_resp_err_t e = rd_kafka_last_error();
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die(std::string("produce: ") + rd_kafka_err2str(e));
      rd_kafka_poll(rk, 1);
    }
    if ((i & 255) == 0) {
      rd_kafka_poll(rk, 0);
      if (now_ns() >= deadline_ns || stop.load(std::memory_order_relaxed)) {
        ++i;
        break;
      }
    }
  }
  rd_kafka_topic_destroy(rkt);
  return i;
}

// Runs o.producers producer threads; `n` total messages (< 0: until the deadline), total
// `rate` msgs/s (0: unpaced). Fills r.sent/msgs/bytes/errors/seconds and r.ack (the
// acknowledgement latency of messages scheduled at or after record_after_ns).
void run_producers(const options& o, int partitions, int64_t n, double rate, int64_t start_ns,
                   int64_t deadline_ns, int64_t record_after_ns, result& r) {
  const std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<producer_state>> states;
  std::vector<rd_kafka_t*> clients;
  for (int t = 0; t < o.producers; ++t) {
    states.push_back(std::make_unique<producer_state>());
    states.back()->record_after_ns = record_after_ns;
    clients.push_back(new_producer(o, states.back().get()));
  }
  std::vector<uint64_t> handed(o.producers, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.producers; ++t) {
    threads.emplace_back([&, t] {
      int64_t mine = n < 0 ? -1 : n / o.producers + (t < n % o.producers ? 1 : 0);
      // Stagger the threads' schedules so the total arrival stays evenly spaced.
      double per = rate / o.producers;
      int64_t my_start = start_ns + (rate > 0 ? int64_t(1e9 / rate * t) : 0);
      handed[t] = produce_loop(o, clients[t], partitions, mine, per, my_start, deadline_ns, stop);
      // Wait for the outstanding acknowledgements, but not forever.
      int64_t left_ms = std::max<int64_t>((deadline_ns - now_ns()) / 1000000, 0) + 30000;
      rd_kafka_flush(clients[t], int(std::min<int64_t>(left_ms, 120000)));
    });
  }
  for (auto& th : threads) th.join();
  int64_t last = start_ns;
  for (int t = 0; t < o.producers; ++t) {
    auto& st = *states[t];
    r.sent += handed[t];
    r.errors += st.failed.load() + (handed[t] - st.delivered.load() - st.failed.load());
    if (int e = st.first_error.load())
      std::fprintf(stderr, "tern-bench: first delivery error: %s\n",
                   rd_kafka_err2name(rd_kafka_resp_err_t(e)));
    last = std::max(last, st.last_dr_ns.load());
    r.ack.merge(st.ack_latency);
    r.msgs += st.delivered.load();
    rd_kafka_destroy(clients[t]);
  }
  r.bytes = r.msgs * o.msg_size;
  r.seconds = double(last - start_ns) / 1e9;
}

// ---------------------------------------------------------------------------------------------
// Consumer (librdkafka's simple consumer: explicit partitions and offsets, no group)

struct consume_shared {
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> target{UINT64_MAX};  // stop once this many have arrived
  std::atomic<int64_t> first_ns{INT64_MAX};
  std::atomic<int64_t> last_ns{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
};

void consume_thread(const options& o, int index, const std::vector<int64_t>& start_offsets,
                    int64_t deadline_ns, const std::atomic<int64_t>& record_after, bool e2e,
                    consume_shared& sh, histogram& hist) {
  rd_kafka_conf_t* conf = base_conf(o);
  set(conf, "enable.auto.commit", "false");
  set(conf, "enable.auto.offset.store", "false");
  set(conf, "enable.partition.eof", "false");
  apply_props(conf, o.props);
  apply_props(conf, o.consumer_props);
  rd_kafka_t* rk = new_client(RD_KAFKA_CONSUMER, conf);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
  std::vector<int> mine;
  for (int p = index; p < int(start_offsets.size()); p += o.consumers) {
    mine.push_back(p);
    if (rd_kafka_consume_start_queue(rkt, p, start_offsets[p], q) == -1)
      die("consume_start: " + std::string(rd_kafka_err2str(rd_kafka_last_error())));
  }
  sh.ready.fetch_add(1);
  std::vector<rd_kafka_message_t*> msgs(8192);
  uint64_t local_errors = 0;
  while (!mine.empty() && !sh.stop.load(std::memory_order_relaxed)) {
    if (sh.received.load(std::memory_order_relaxed) >= sh.target.load(std::memory_order_relaxed))
      break;
    int64_t now = now_ns();
    if (now >= deadline_ns) break;
    // rd_kafka_consume_batch_queue() waits until the batch is full or the timeout expires,
    // which would add up to the timeout to every e2e sample: wait for one message, then take
    // whatever else is already queued without waiting.
    rd_kafka_message_t* one = rd_kafka_consume_queue(q, 100);
    if (!one) continue;
    msgs[0] = one;
    ssize_t more = rd_kafka_consume_batch_queue(q, 0, msgs.data() + 1, msgs.size() - 1);
    ssize_t got = 1 + std::max<ssize_t>(more, 0);
    now = now_ns();
    const int64_t record_after_ns = record_after.load(std::memory_order_relaxed);
    uint64_t ok = 0;
    for (ssize_t i = 0; i < got; ++i) {
      rd_kafka_message_t* m = msgs[i];
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && local_errors++ < 5)
          std::fprintf(stderr, "tern-bench: consume error: %s\n", rd_kafka_message_errstr(m));
      } else {
        ++ok;
        if (e2e && m->len >= header_size) {
          int64_t ts;
          std::memcpy(&ts, m->payload, 8);
          if (ts >= record_after_ns) hist.record(uint64_t(std::max<int64_t>(now - ts, 0)));
        }
      }
      rd_kafka_message_destroy(m);
    }
    if (ok) {
      int64_t first = sh.first_ns.load(std::memory_order_relaxed);
      while (now < first && !sh.first_ns.compare_exchange_weak(first, now)) {
      }
      int64_t last = sh.last_ns.load(std::memory_order_relaxed);
      while (now > last && !sh.last_ns.compare_exchange_weak(last, now)) {
      }
      sh.received.fetch_add(ok, std::memory_order_relaxed);
    }
  }
  sh.errors.fetch_add(local_errors);
  for (int p : mine) rd_kafka_consume_stop(rkt, p);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}

// ---------------------------------------------------------------------------------------------
// Modes

int64_t deadline_from(const options& o, int64_t start_ns) {
  double s = o.duration_s > 0 ? o.duration_s : o.timeout_s;
  return start_ns + int64_t(s * 1e9);
}

result run_produce(const options& o, int partitions) {
  result r;
  int64_t start = now_ns();
  int64_t n = o.count > 0 ? o.count : (o.duration_s > 0 ? -1 : 1000000);
  run_producers(o, partitions, n, o.rate_given ? o.rate : 0, start, deadline_from(o, start), 0, r);
  return r;
}

result run_consume(const options& o, int partitions) {
  auto wm = query_watermarks(o, partitions);
  uint64_t available = 0;
  std::vector<int64_t> starts;
  for (auto& w : wm) {
    available += uint64_t(w.high - w.low);
    starts.push_back(w.low);
  }
  if (available == 0) die("topic " + o.topic + " is empty; run `produce` first");
  consume_shared sh;
  sh.target = o.count > 0 ? std::min<uint64_t>(uint64_t(o.count), available) : available;
  int64_t start = now_ns();
  int64_t deadline = deadline_from(o, start);
  std::vector<histogram> unused(o.consumers);
  const std::atomic<int64_t> record_after{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < o.consumers; ++t)
    threads.emplace_back(
        [&, t] { consume_thread(o, t, starts, deadline, record_after, false, sh, unused[t]); });
  for (auto& th : threads) th.join();
  result r;
  r.msgs = sh.received.load();
  r.bytes = r.msgs * o.msg_size;  // all messages of a bench topic have the same size
  r.errors = sh.errors.load() + (r.msgs < sh.target.load() ? sh.target.load() - r.msgs : 0);
  if (r.msgs) r.seconds = double(sh.last_ns.load() - sh.first_ns.load()) / 1e9;
  return r;
}

result run_e2e(const options& o, int partitions) {
  if (o.msg_size < header_size) die("e2e needs --msg-size >= 16 (the timestamp header)");
  if (o.rate <= 0) die("e2e needs --rate > 0");
  auto wm = query_watermarks(o, partitions);
  std::vector<int64_t> starts;
  for (auto& w : wm) starts.push_back(w.high);  // only what this run sends

  consume_shared sh;
  int64_t n = o.count > 0 ? o.count : -1;
  double run_s = o.duration_s > 0 ? o.duration_s : (o.count > 0 ? o.timeout_s : 10);
  std::vector<histogram> hists(o.consumers);
  // Set before the first message is sent; consumers read it per batch.
  std::atomic<int64_t> record_after{INT64_MAX};
  // Consumers are bounded by setup + the producers' run + flush + drain allowances.
  int64_t c_deadline = now_ns() + int64_t((run_s + 60) * 1e9);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.consumers; ++t)
    threads.emplace_back(
        [&, t] { consume_thread(o, t, starts, c_deadline, record_after, true, sh, hists[t]); });
  // Producers start once every consumer has started its partitions, after a short settle so
  // that the consumers' first fetches are already waiting at the broker.
  while (sh.ready.load() < o.consumers) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  int64_t start = now_ns() + int64_t(0.3e9);
  record_after = start + int64_t(o.warmup_s * 1e9);
  while (now_ns() < start) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  result r;
  run_producers(o, partitions, n, o.rate, start, start + int64_t(run_s * 1e9), record_after.load(),
                r);
  uint64_t delivered = r.msgs;
  // Let the consumers drain what was acknowledged, for at most 5 more seconds.
  sh.target = delivered;
  int64_t drain_until = now_ns() + int64_t(5e9);
  while (sh.received.load() < delivered && now_ns() < drain_until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sh.stop = true;
  for (auto& th : threads) th.join();

  r.has_latency = true;
  for (auto& h : hists) r.latency.merge(h);
  r.msgs = sh.received.load();
  r.bytes = r.msgs * o.msg_size;
  r.errors += sh.errors.load() + (delivered > r.msgs ? delivered - r.msgs : 0);
  return r;
}

// One member of the benchmark's consumer group: subscribes, publishes how many partitions it
// owns after every poll, and counts what it receives until told to stop.
struct group_shared {
  consume_shared consume;
  std::vector<std::atomic<int>> owned;  // [member]: partitions currently assigned
  std::vector<std::atomic<bool>> leave;  // [member]: close (LeaveGroup) and exit
  explicit group_shared(int members) : owned(members), leave(members) {}
  int total_owned() const {
    int n = 0;
    for (auto& o : owned) n += o.load();
    return n;
  }
};

void group_member(const options& o, int index, const std::string& group, int64_t deadline_ns,
                  group_shared& gs) {
  rd_kafka_conf_t* conf = base_conf(o);
  set(conf, "group.id", group);
  set(conf, "auto.offset.reset", "earliest");
  set(conf, "enable.auto.commit", "false");
  set(conf, "enable.partition.eof", "false");
  apply_props(conf, o.props);
  apply_props(conf, o.consumer_props);
  rd_kafka_t* rk = new_client(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, o.topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(rk, topics)) die("subscribe: " + std::string(rd_kafka_err2str(err)));
  rd_kafka_topic_partition_list_destroy(topics);
  auto& sh = gs.consume;
  // Batches from the consumer queue (which also serves rebalances); the assignment is looked
  // up at most every 5 ms, since rd_kafka_assignment() copies the list under a lock.
  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk);
  std::vector<rd_kafka_message_t*> msgs(8192);
  int64_t next_assignment_check = 0;
  while (!sh.stop.load() && !gs.leave[index].load() && now_ns() < deadline_ns) {
    ssize_t got = rd_kafka_consume_batch_queue(q, 20, msgs.data(), msgs.size());
    int64_t now = now_ns();
    if (now >= next_assignment_check) {
      next_assignment_check = now + 5'000'000;
      rd_kafka_topic_partition_list_t* mine = nullptr;
      if (rd_kafka_assignment(rk, &mine) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        gs.owned[index].store(mine->cnt);
        rd_kafka_topic_partition_list_destroy(mine);
      }
    }
    uint64_t ok = 0;
    for (ssize_t i = 0; i < got; ++i) {
      if (!msgs[i]->err) ++ok;
      rd_kafka_message_destroy(msgs[i]);
    }
    if (ok) {
      int64_t first = sh.first_ns.load(std::memory_order_relaxed);
      while (now < first && !sh.first_ns.compare_exchange_weak(first, now)) {
      }
      int64_t last = sh.last_ns.load(std::memory_order_relaxed);
      while (now > last && !sh.last_ns.compare_exchange_weak(last, now)) {
      }
      sh.received.fetch_add(ok, std::memory_order_relaxed);
    }
  }
  rd_kafka_queue_destroy(q);
  // A clean leave. librdkafka 2.0.2 closing a cooperative-sticky member sends no LeaveGroup
  // (the group then waits for its session timeout), but unsubscribe() does: unsubscribe, let
  // the incremental revoke complete, then close.
  rd_kafka_unsubscribe(rk);
  for (int i = 0; i < 100; ++i) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 10);
    if (m) rd_kafka_message_destroy(m);
    rd_kafka_topic_partition_list_t* mine = nullptr;
    bool empty = rd_kafka_assignment(rk, &mine) == RD_KAFKA_RESP_ERR_NO_ERROR && mine->cnt == 0;
    if (mine) rd_kafka_topic_partition_list_destroy(mine);
    if (empty) break;
  }
  gs.owned[index].store(0);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

// Polls until `done()` or the deadline; returns the seconds waited, or -1 on timeout.
template <class F>
double wait_until(F done, int64_t deadline_ns) {
  int64_t t0 = now_ns();
  while (!done()) {
    if (now_ns() >= deadline_ns) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return double(now_ns() - t0) / 1e9;
}

// --consumers members in a fresh group drain the topic. Measures: join -> every partition
// assigned; the drain rate once assigned; and, after the drain, the rebalance when one member
// leaves cleanly (leave -> the others own every partition again).
result run_group(const options& o, int partitions) {
  auto wm = query_watermarks(o, partitions);
  uint64_t available = 0;
  for (auto& w : wm) available += uint64_t(w.high - w.low);
  if (available == 0) die("topic " + o.topic + " is empty; run `produce` first");
  const std::string group = "tern-bench-" + std::to_string(::getpid()) + "-" +
                            std::to_string(now_ns() / 1000000);
  group_shared gs(o.consumers);
  gs.consume.target = o.count > 0 ? std::min<uint64_t>(uint64_t(o.count), available) : available;
  int64_t start = now_ns();
  int64_t deadline = deadline_from(o, start);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.consumers; ++t)
    threads.emplace_back([&, t] { group_member(o, t, group, deadline, gs); });
  double assigned_s = wait_until([&] { return gs.total_owned() == partitions; }, deadline);
  wait_until([&] { return gs.consume.received.load() >= gs.consume.target.load(); }, deadline);
  double leave_s = -1;
  if (o.consumers > 1 && gs.total_owned() == partitions) {
    gs.leave[o.consumers - 1] = true;
    // The leaver drops its partitions first; then wait for the others to own them all.
    wait_until([&] { return gs.owned[o.consumers - 1].load() == 0; }, deadline);
    leave_s = wait_until([&] { return gs.total_owned() == partitions; }, deadline);
  }
  gs.consume.stop = true;
  for (auto& th : threads) th.join();
  std::printf("{\"group_members\":%d,\"partitions\":%d,\"join_to_assigned_ms\":%.1f,"
                "\"leave_rebalance_ms\":%.1f}\n",
                o.consumers, partitions, assigned_s * 1e3, leave_s < 0 ? -1.0 : leave_s * 1e3);
  result r;
  r.msgs = gs.consume.received.load();
  r.bytes = r.msgs * o.msg_size;
  r.errors = r.msgs < gs.consume.target.load() ? gs.consume.target.load() - r.msgs : 0;
  if (r.msgs) r.seconds = double(gs.consume.last_ns.load() - gs.consume.first_ns.load()) / 1e9;
  return r;
}

}  // namespace
}  // namespace tern::bench

int main(int argc, char** argv) {
  using namespace tern::bench;
  options o;
  CLI::App app{"tern-bench: Kafka load generator (librdkafka)"};
  app.add_option("mode", o.mode, "produce | consume | e2e | group")
      ->required()
      ->check(CLI::IsMember({"produce", "consume", "e2e", "group"}));
  app.add_option("--bootstrap", o.bootstrap, "bootstrap servers")->capture_default_str();
  app.add_option("--topic", o.topic, "topic (created if missing)")->capture_default_str();
  app.add_option("--partitions", o.partitions, "partitions when creating the topic")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--msg-size", o.msg_size, "payload bytes per message")->capture_default_str();
  app.add_option("--count", o.count,
                 "total messages (produce default 1,000,000; consume: "
                 "default everything in the topic)");
  app.add_option("--duration", o.duration_s, "seconds to run (instead of, or with, --count)");
  app.add_option("--timeout", o.timeout_s, "upper bound in seconds when only --count is given")
      ->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "e2e: seconds at the start not recorded")
      ->capture_default_str();
  app.add_option("--acks", o.acks, "0 | 1 | all")
      ->capture_default_str()
      ->check(CLI::IsMember({"0", "1", "all", "-1"}));
  app.add_option("--linger-ms", o.linger_ms, "producer linger.ms (default: librdkafka's, 5)");
  app.add_option("--batch-size", o.batch_size, "producer batch.size in bytes (default: 1000000)");
  app.add_option("--compression", o.compression, "none | gzip | snappy | lz4 | zstd")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  auto* rate = app.add_option("--rate", o.rate, "total msgs/s (e2e; caps produce when given)")
                   ->capture_default_str();
  app.add_option("--producers", o.producers, "producer threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--consumers", o.consumers, "consumer threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--prop", o.props, "extra librdkafka property key=value, all clients");
  app.add_option("--producer-prop", o.producer_props, "extra librdkafka property, producers");
  app.add_option("--consumer-prop", o.consumer_props, "extra librdkafka property, consumers");
  app.add_option("--topic-config", o.topic_configs,
                 "topic config key=value when creating the topic, e.g. flush.policy=never");
  app.add_flag("--quiet", o.quiet, "no warnings on stderr");
  CLI11_PARSE(app, argc, argv);
  o.rate_given = rate->count() > 0;
  if (o.acks == "-1") o.acks = "all";

  int64_t wall0 = now_ns();
  cpu_times cpu0 = process_cpu();
  int partitions = ensure_topic(o);
  o.partitions = partitions;
  result r;
  if (o.mode == "produce")
    r = run_produce(o, partitions);
  else if (o.mode == "consume")
    r = run_consume(o, partitions);
  else if (o.mode == "e2e")
    r = run_e2e(o, partitions);
  else
    r = run_group(o, partitions);
  cpu_times cpu1 = process_cpu();
  r.cpu = {cpu1.user - cpu0.user, cpu1.sys - cpu0.sys};
  r.wall = double(now_ns() - wall0) / 1e9;
  report(o, r);
  return r.msgs == 0 ? 1 : 0;
}
