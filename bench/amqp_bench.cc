// tern-amqp-bench: an AMQP 0-9-1 load generator on librabbitmq (rabbitmq-c 0.11, Debian's
// librabbitmq-dev), for Tern or RabbitMQ.
//
//   tern-amqp-bench publish --port 5672 --queue q --msg-size 100 --count 1000000 --window 1000
//   tern-amqp-bench consume --queue q --prefetch 1000
//   tern-amqp-bench fanout  --queue f --queues 4 --msg-size 100 --count 500000
//   tern-amqp-bench latency --queue lat --rate 10000 --duration 15 --warmup 2
//
// publish  one connection, one channel in confirm mode (confirm.select), basic.publish to the
//          default exchange with the queue's name as routing key; at most --window messages
//          unconfirmed at a time. Confirms are read as they arrive (basic.ack with or without
//          `multiple`; a basic.nack counts as an error). The rate counts confirmed messages
//          from the first publish to the last confirm.
// consume  one connection, basic.qos(--prefetch), basic.consume, acknowledges every message
//          (or, with --ack-every K, every K-th with multiple=true) until --count messages, or
//          everything the queue held at start (queue.declare-ok's message-count), have arrived.
//          Then checks that the queue is empty. The rate is first delivery -> last delivery.
// fanout   declares a durable fanout exchange bound to --queues durable queues (purged first),
//          publishes like `publish`, then checks that every queue holds every confirmed message.
//          The rate counts confirmed messages published (each is stored --queues times).
// latency  a publisher (confirm mode) at a fixed --rate and a consumer (its own connection and
//          thread, basic.consume with --prefetch, acks). Each body carries the time its message
//          was *scheduled* to be published, so a stalled publisher shows as latency (no
//          coordinated omission); the consumer records now - that time in a fixed-size histogram
//          (histogram.h). Samples from the first --warmup seconds are dropped.
// delete   deletes --queue (cleanup for scripts).
//
// Messages are persistent (delivery-mode 2) unless --transient; queues and exchanges are
// durable. With confirms, that is RabbitMQ's "confirmed after fsync" guarantee, and Tern's
// default (acknowledged after fdatasync).
//
// Every run is bounded by --count and --duration (or, with only --count, --timeout). Output:
// one human-readable line, then one JSON line (the last line of stdout) for scripts. The exit
// status is non-zero when any message was lost, nacked, unconfirmed or not received.

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
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
  std::string host = "127.0.0.1";
  int port = 5672;
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  std::string queue = "tern-amqp-bench";
  std::string queue_type;  // x-queue-type when declaring (classic, quorum); empty = none
  size_t msg_size = 100;
  int64_t count = -1;      // messages; -1 = not given
  double duration_s = 0;   // 0 = not given
  double timeout_s = 300;  // hard bound when only --count is given
  double warmup_s = 1;     // latency: samples scheduled before start + warmup are dropped
  int window = 1000;       // unconfirmed publishes in flight
  int prefetch = 1000;     // basic.qos prefetch-count
  int ack_every = 1;       // consumer: ack every message (1) or every K-th with multiple
  int fanout_queues = 4;
  double rate = 10000;  // latency (and publish when given): msgs/s
  bool rate_given = false;
  bool transient = false;  // delivery-mode 1 instead of 2
  bool purge = false;      // publish: purge the queue first
  bool delete_after = false;  // consume/fanout/latency: delete the queue(s) at the end
  int frame_max = 131072;
  bool quiet = false;
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "tern-amqp-bench: %s\n", msg.c_str());
  std::exit(2);
}

// ---------------------------------------------------------------------------------------------
// librabbitmq helpers

std::string reply_text(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "missing RPC reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        return "connection.close " + std::to_string(m->reply_code) + " " +
               std::string(static_cast<char*>(m->reply_text.bytes), m->reply_text.len);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return "channel.close " + std::to_string(m->reply_code) + " " +
               std::string(static_cast<char*>(m->reply_text.bytes), m->reply_text.len);
      }
      return "server exception, method " + std::to_string(r.reply.id);
  }
  return "?";
}

void check_rpc(amqp_connection_state_t c, const char* what) {
  amqp_rpc_reply_t r = amqp_get_rpc_reply(c);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) die(std::string(what) + ": " + reply_text(r));
}

void check_status(int status, const char* what) {
  if (status != AMQP_STATUS_OK) die(std::string(what) + ": " + amqp_error_string2(status));
}

amqp_bytes_t bytes_of(const std::string& s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

constexpr amqp_channel_t ch = 1;

struct connection {
  amqp_connection_state_t c = nullptr;

  explicit connection(const options& o) {
    c = amqp_new_connection();
    amqp_socket_t* s = amqp_tcp_socket_new(c);
    if (!s) die("amqp_tcp_socket_new failed");
    timeval tv{10, 0};
    int st = amqp_socket_open_noblock(s, o.host.c_str(), o.port, &tv);
    if (st != AMQP_STATUS_OK)
      die("connect " + o.host + ":" + std::to_string(o.port) + ": " + amqp_error_string2(st));
    amqp_rpc_reply_t r = amqp_login(c, o.vhost.c_str(), 0, o.frame_max, 0, AMQP_SASL_METHOD_PLAIN,
                                    o.user.c_str(), o.password.c_str());
    if (r.reply_type != AMQP_RESPONSE_NORMAL) die("login: " + reply_text(r));
    amqp_channel_open(c, ch);
    check_rpc(c, "channel.open");
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  ~connection() {
    if (!c) return;
    // Best effort: a broker that already closed the connection makes these fail quietly.
    amqp_channel_close(c, ch, AMQP_REPLY_SUCCESS);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
  }

  // Declares (or, passive, looks up) a queue; returns its message count (ready messages).
  uint32_t declare_queue(const options& o, const std::string& name, bool passive = false) {
    amqp_table_entry_t e;
    amqp_table_t args = amqp_empty_table;
    if (!o.queue_type.empty() && !passive) {
      e.key = amqp_cstring_bytes("x-queue-type");
      e.value.kind = AMQP_FIELD_KIND_UTF8;
      e.value.value.bytes = bytes_of(o.queue_type);
      args.num_entries = 1;
      args.entries = &e;
    }
    amqp_queue_declare_ok_t* ok =
        amqp_queue_declare(c, ch, bytes_of(name), passive, /*durable=*/1, 0, 0, args);
    check_rpc(c, ("queue.declare " + name).c_str());
    return ok->message_count;
  }
  void purge(const std::string& name) {
    amqp_queue_purge(c, ch, bytes_of(name));
    check_rpc(c, ("queue.purge " + name).c_str());
  }
  void delete_queue(const std::string& name) {
    amqp_queue_delete(c, ch, bytes_of(name), 0, 0);
    check_rpc(c, ("queue.delete " + name).c_str());
  }
};

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
  uint64_t msgs = 0;    // confirmed (publish, fanout) or received (consume, latency)
  uint64_t errors = 0;  // nacked, unconfirmed, lost, missing from a queue, never received
  uint64_t sent = 0;    // published (publish, fanout, latency)
  uint64_t redelivered = 0;
  uint64_t seq_gaps = 0;  // consume/latency: a message whose sequence number is not prev + 1
  double seconds = 0;
  cpu_times cpu;
  double wall = 0;
  histogram latency;  // latency: scheduled publish -> received
  histogram ack;      // publish, fanout, latency: publish (scheduled) -> confirm
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
  double mbs = double(r.msgs) * double(o.msg_size) / secs / 1e6;
  double cpu = r.cpu.user + r.cpu.sys;
  double cpu_pct = r.wall > 0 ? 100.0 * cpu / r.wall : 0;
  std::printf("%s: %" PRIu64 " msgs x %zu B in %.3f s = %.0f msgs/s, %.1f MB/s; errors %" PRIu64
              "; client CPU %.2f s (%.0f%% of one core)",
              o.mode.c_str(), r.msgs, o.msg_size, secs, mps, mbs, r.errors, cpu, cpu_pct);
  if (r.sent) std::printf("; published %" PRIu64, r.sent);
  if (r.redelivered) std::printf("; redelivered %" PRIu64, r.redelivered);
  if (r.seq_gaps) std::printf("; sequence gaps %" PRIu64, r.seq_gaps);
  if (r.has_latency) print_latency_human("e2e", r.latency);
  if (r.ack.count()) print_latency_human("confirm", r.ack);
  std::printf("\n");
  std::printf(
      "{\"mode\":\"%s\",\"queue\":\"%s\",\"msg_size\":%zu,\"persistent\":%s,\"window\":%d,"
      "\"prefetch\":%d,\"ack_every\":%d,\"queues\":%d,\"msgs\":%" PRIu64 ",\"published\":%" PRIu64
      ",\"errors\":%" PRIu64 ",\"redelivered\":%" PRIu64 ",\"seq_gaps\":%" PRIu64
      ",\"seconds\":%.6f,\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,\"client_cpu_user_s\":%.3f,"
      "\"client_cpu_sys_s\":%.3f,\"client_wall_s\":%.3f,\"client_cpu_pct\":%.1f",
      o.mode.c_str(), o.queue.c_str(), o.msg_size, o.transient ? "false" : "true", o.window,
      o.prefetch, o.ack_every, o.mode == "fanout" ? o.fanout_queues : 1, r.msgs, r.sent, r.errors,
      r.redelivered, r.seq_gaps, secs, mps, mbs, r.cpu.user, r.cpu.sys, r.wall, cpu_pct);
  if (r.has_latency) {
    std::printf(",\"rate\":%.0f", o.rate);
    print_latency_json("latency_us", r.latency);
  }
  if (r.ack.count()) print_latency_json("confirm_latency_us", r.ack);
  std::printf("}\n");
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------
// Publisher with confirms

// The body starts with the (scheduled) publish time and a sequence number; the rest is filler.
constexpr size_t header_size = 16;

struct publisher {
  const options& o;
  connection& conn;
  std::string exchange, routing_key;
  amqp_basic_properties_t props{};
  std::vector<char> body;
  // Per message (index = delivery tag - 1): publish time, and whether a confirm arrived.
  std::vector<int64_t> sent_ns;
  std::vector<uint8_t> confirmed;
  uint64_t published = 0, acked = 0, nacked = 0, bogus = 0;
  uint64_t lowest_open = 1;  // every tag below this is confirmed
  int64_t last_confirm_ns = 0;
  int64_t record_after_ns = 0;
  histogram ack_latency;

  publisher(const options& opt, connection& cn, std::string ex, std::string rk)
      : o(opt), conn(cn), exchange(std::move(ex)), routing_key(std::move(rk)) {
    amqp_confirm_select(conn.c, ch);
    check_rpc(conn.c, "confirm.select");
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = o.transient ? 1 : 2;
    body.assign(std::max(o.msg_size, header_size), 'x');
  }

  uint64_t in_flight() const { return published - acked - nacked; }

  void publish(int64_t ts) {
    uint64_t seq = published;
    std::memcpy(body.data(), &ts, 8);
    std::memcpy(body.data() + 8, &seq, 8);
    int st = amqp_basic_publish(conn.c, ch, bytes_of(exchange), bytes_of(routing_key), 0, 0,
                                &props, amqp_bytes_t{o.msg_size, body.data()});
    check_status(st, "basic.publish");
    ++published;
    sent_ns.push_back(ts);
    confirmed.push_back(0);
  }

  void confirm_one(uint64_t tag, bool ok, int64_t now) {
    uint8_t& c = confirmed[tag - 1];
    if (c) {
      ++bogus;  // confirmed twice
      return;
    }
    c = 1;
    if (ok) {
      ++acked;
      int64_t ts = sent_ns[tag - 1];
      if (ts >= record_after_ns) ack_latency.record(uint64_t(std::max<int64_t>(now - ts, 0)));
    } else {
      ++nacked;
    }
  }

  void on_confirm(uint64_t tag, bool multiple, bool ok) {
    int64_t now = now_ns();
    last_confirm_ns = now;
    if (tag == 0 || tag > published) {
      if (bogus++ < 5)
        std::fprintf(stderr, "tern-amqp-bench: confirm for unknown delivery tag %" PRIu64 "\n",
                     tag);
      return;
    }
    if (!ok && nacked == 0)
      std::fprintf(stderr, "tern-amqp-bench: basic.nack for delivery tag %" PRIu64 "\n", tag);
    if (multiple) {
      for (uint64_t t = lowest_open; t <= tag; ++t)
        if (!confirmed[t - 1]) confirm_one(t, ok, now);
    } else {
      confirm_one(tag, ok, now);
    }
    while (lowest_open <= published && confirmed[lowest_open - 1]) ++lowest_open;
  }

  // Handles one frame; false on timeout. Dies on a closed channel or connection.
  bool read_frame(const timeval* tv) {
    amqp_frame_t f;
    int st = tv ? amqp_simple_wait_frame_noblock(conn.c, &f, const_cast<timeval*>(tv))
                : amqp_simple_wait_frame(conn.c, &f);
    if (st == AMQP_STATUS_TIMEOUT) return false;
    check_status(st, "reading confirms");
    if (f.frame_type == AMQP_FRAME_METHOD) {
      switch (f.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
          auto* m = static_cast<amqp_basic_ack_t*>(f.payload.method.decoded);
          on_confirm(m->delivery_tag, m->multiple, true);
          break;
        }
        case AMQP_BASIC_NACK_METHOD: {
          auto* m = static_cast<amqp_basic_nack_t*>(f.payload.method.decoded);
          on_confirm(m->delivery_tag, m->multiple, false);
          break;
        }
        case AMQP_CHANNEL_CLOSE_METHOD: {
          auto* m = static_cast<amqp_channel_close_t*>(f.payload.method.decoded);
          die("broker closed the channel: " + std::to_string(m->reply_code) + " " +
              std::string(static_cast<char*>(m->reply_text.bytes), m->reply_text.len));
        }
        case AMQP_CONNECTION_CLOSE_METHOD: {
          auto* m = static_cast<amqp_connection_close_t*>(f.payload.method.decoded);
          die("broker closed the connection: " + std::to_string(m->reply_code) + " " +
              std::string(static_cast<char*>(m->reply_text.bytes), m->reply_text.len));
        }
        case AMQP_CONNECTION_BLOCKED_METHOD:
          std::fprintf(stderr, "tern-amqp-bench: connection.blocked\n");
          break;
        case AMQP_CONNECTION_UNBLOCKED_METHOD:
          break;
        default:
          std::fprintf(stderr, "tern-amqp-bench: unexpected method 0x%08x while publishing\n",
                       unsigned(f.payload.method.id));
      }
    }
    amqp_maybe_release_buffers_on_channel(conn.c, f.channel);
    return true;
  }

  // Reads every frame that is already here without blocking (one recv at most).
  void poll() {
    timeval zero{0, 0};
    while (read_frame(&zero)) {
    }
  }

  // Waits for a frame until deadline; false when the deadline passed.
  bool wait(int64_t deadline_ns) {
    int64_t left = deadline_ns - now_ns();
    if (left <= 0) return false;
    left = std::min<int64_t>(left, 1'000'000'000);
    timeval tv{time_t(left / 1'000'000'000), suseconds_t(left % 1'000'000'000 / 1000)};
    read_frame(&tv);
    return true;
  }

  // Waits (until deadline_ns) for the confirms of everything published.
  void drain(int64_t deadline_ns) {
    while (in_flight() > 0 && wait(deadline_ns)) {
    }
  }
};

int64_t deadline_from(const options& o, int64_t start_ns) {
  double s = o.duration_s > 0 ? o.duration_s : o.timeout_s;
  return start_ns + int64_t(s * 1e9);
}

// Publishes n messages (n < 0: until deadline) with at most o.window unconfirmed; at `rate`
// msgs/s when rate > 0, each body carrying its scheduled time.
void publish_loop(const options& o, publisher& p, int64_t n, double rate, int64_t start_ns,
                  int64_t deadline_ns, const std::atomic<bool>* stop = nullptr) {
  const double interval_ns = rate > 0 ? 1e9 / rate : 0;
  const uint64_t window = uint64_t(std::max(o.window, 1));
  for (uint64_t i = 0; n < 0 || int64_t(i) < n; ++i) {
    int64_t ts;
    if (rate > 0) {
      ts = start_ns + int64_t(double(i) * interval_ns);
      // Until it is time: handle confirms as they arrive (ppoll on the socket, ns timeout;
      // librabbitmq's own waits have millisecond resolution).
      for (int64_t now = now_ns(); now < ts; now = now_ns()) {
        p.poll();
        now = now_ns();
        if (now >= ts) break;
        pollfd pfd{amqp_get_sockfd(p.conn.c), POLLIN, 0};
        int64_t wait = std::min<int64_t>(ts - now, 100'000'000);
        timespec tsp{time_t(wait / 1'000'000'000), long(wait % 1'000'000'000)};
        ::ppoll(&pfd, 1, &tsp, nullptr);
      }
      if (ts >= deadline_ns) break;
    } else {
      ts = now_ns();
    }
    while (p.in_flight() >= window) {
      if (!p.wait(deadline_ns)) break;
    }
    if (p.in_flight() >= window) break;  // deadline passed with the window full
    p.publish(ts);
    // Unpaced: look for confirms every 64 publishes (a recv each time). Paced: the wait above
    // does it, so confirm latencies are taken when the confirm arrives.
    if ((i & 63) == 63) {
      p.poll();
      if (now_ns() >= deadline_ns || (stop && stop->load(std::memory_order_relaxed))) break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Consumer

struct consumer_stats {
  uint64_t received = 0, redelivered = 0, seq_gaps = 0, bad_size = 0;
  int64_t first_ns = 0, last_ns = 0;
  std::atomic<uint64_t> progress{0};  // `received`, for another thread to watch
};

// Consumes from `queue` on `conn` until `target` messages arrived, `stop` is set or the
// deadline passes. Latency samples (now - timestamp in the body) go to `hist` when given.
void consume_loop(const options& o, connection& conn, const std::string& queue, uint64_t target,
                  int64_t deadline_ns, const std::atomic<bool>& stop,
                  const std::atomic<int64_t>* record_after, histogram* hist, consumer_stats& s,
                  std::atomic<bool>* ready = nullptr) {
  amqp_basic_qos(conn.c, ch, 0, uint16_t(std::clamp(o.prefetch, 0, 65535)), 0);
  check_rpc(conn.c, "basic.qos");
  amqp_basic_consume(conn.c, ch, bytes_of(queue), amqp_empty_bytes, 0, /*no_ack=*/0, 0,
                     amqp_empty_table);
  check_rpc(conn.c, "basic.consume");
  if (ready) ready->store(true);
  const uint64_t ack_every = uint64_t(std::max(o.ack_every, 1));
  uint64_t unacked = 0, last_tag = 0;
  bool have_prev = false;
  uint64_t prev_seq = 0;
  // A message in assembly: deliver, then a content header, then body frames.
  uint64_t tag = 0, body_left = 0, body_size = 0;
  bool in_message = false;
  char head[header_size];
  size_t head_have = 0;
  while (s.received < target && !stop.load(std::memory_order_relaxed)) {
    int64_t now = now_ns();
    if (now >= deadline_ns) break;
    timeval tv{0, 100'000};
    amqp_frame_t f;
    int st = amqp_simple_wait_frame_noblock(conn.c, &f, &tv);
    if (st == AMQP_STATUS_TIMEOUT) continue;
    check_status(st, "reading deliveries");
    bool complete = false;
    if (f.frame_type == AMQP_FRAME_METHOD) {
      switch (f.payload.method.id) {
        case AMQP_BASIC_DELIVER_METHOD: {
          auto* m = static_cast<amqp_basic_deliver_t*>(f.payload.method.decoded);
          tag = m->delivery_tag;
          if (m->redelivered) ++s.redelivered;
          in_message = true;
          head_have = 0;
          body_left = body_size = 0;
          break;
        }
        case AMQP_BASIC_CANCEL_METHOD:
          die("broker cancelled the consumer (basic.cancel)");
        case AMQP_CHANNEL_CLOSE_METHOD: {
          auto* m = static_cast<amqp_channel_close_t*>(f.payload.method.decoded);
          die("broker closed the channel: " + std::to_string(m->reply_code) + " " +
              std::string(static_cast<char*>(m->reply_text.bytes), m->reply_text.len));
        }
        case AMQP_CONNECTION_CLOSE_METHOD: {
          auto* m = static_cast<amqp_connection_close_t*>(f.payload.method.decoded);
          die("broker closed the connection: " + std::to_string(m->reply_code) + " " +
              std::string(static_cast<char*>(m->reply_text.bytes), m->reply_text.len));
        }
        default:
          std::fprintf(stderr, "tern-amqp-bench: unexpected method 0x%08x while consuming\n",
                       unsigned(f.payload.method.id));
      }
    } else if (f.frame_type == AMQP_FRAME_HEADER && in_message) {
      body_size = body_left = f.payload.properties.body_size;
      complete = body_left == 0;
    } else if (f.frame_type == AMQP_FRAME_BODY && in_message) {
      const amqp_bytes_t& b = f.payload.body_fragment;
      size_t take = std::min(b.len, header_size - head_have);
      std::memcpy(head + head_have, b.bytes, take);
      head_have += take;
      body_left -= std::min<uint64_t>(b.len, body_left);
      complete = body_left == 0;
    }
    amqp_maybe_release_buffers_on_channel(conn.c, f.channel);
    if (!complete) continue;
    in_message = false;
    now = now_ns();
    ++s.received;
    s.progress.store(s.received, std::memory_order_relaxed);
    if (s.first_ns == 0) s.first_ns = now;
    s.last_ns = now;
    if (body_size != o.msg_size) ++s.bad_size;
    if (head_have == header_size) {
      int64_t ts;
      uint64_t seq;
      std::memcpy(&ts, head, 8);
      std::memcpy(&seq, head + 8, 8);
      if (have_prev && seq != prev_seq + 1 && seq != 0) ++s.seq_gaps;
      have_prev = true;
      prev_seq = seq;
      if (hist && ts >= record_after->load(std::memory_order_relaxed))
        hist->record(uint64_t(std::max<int64_t>(now - ts, 0)));
    }
    last_tag = tag;
    if (++unacked >= ack_every) {
      check_status(amqp_basic_ack(conn.c, ch, last_tag, ack_every > 1), "basic.ack");
      unacked = 0;
    }
  }
  if (unacked) check_status(amqp_basic_ack(conn.c, ch, last_tag, ack_every > 1), "basic.ack");
}

// Waits until `name` reports `want` ready messages (counts can trail the confirms briefly).
uint32_t wait_for_count(const options& o, connection& conn, const std::string& name,
                        uint32_t want) {
  uint32_t have = 0;
  for (int i = 0; i < 50; ++i) {
    have = conn.declare_queue(o, name, /*passive=*/true);
    if (have == want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return have;
}

// ---------------------------------------------------------------------------------------------
// Modes

void finish_publish(const publisher& p, int64_t start, result& r) {
  r.sent = p.published;
  r.msgs = p.acked;
  r.errors = p.nacked + p.bogus + (p.published - p.acked - p.nacked);
  if (p.published != p.acked + p.nacked)
    std::fprintf(stderr, "tern-amqp-bench: %" PRIu64 " of %" PRIu64 " publishes never confirmed\n",
                 p.published - p.acked - p.nacked, p.published);
  r.seconds = double((p.last_confirm_ns ? p.last_confirm_ns : now_ns()) - start) / 1e9;
  r.ack.merge(p.ack_latency);
}

result run_publish(const options& o) {
  connection conn(o);
  conn.declare_queue(o, o.queue);
  if (o.purge) conn.purge(o.queue);
  publisher p(o, conn, "", o.queue);
  int64_t n = o.count > 0 ? o.count : (o.duration_s > 0 ? -1 : 1000000);
  if (n > 0) {
    p.sent_ns.reserve(size_t(n));
    p.confirmed.reserve(size_t(n));
  }
  result r;
  int64_t start = now_ns();
  int64_t deadline = deadline_from(o, start);
  publish_loop(o, p, n, o.rate_given ? o.rate : 0, start, deadline);
  p.drain(std::max(deadline, now_ns()) + int64_t(30e9));
  finish_publish(p, start, r);
  return r;
}

result run_consume(const options& o) {
  connection conn(o);
  uint32_t available = conn.declare_queue(o, o.queue, /*passive=*/true);
  if (available == 0 && o.count <= 0) die("queue " + o.queue + " is empty; run `publish` first");
  uint64_t target = o.count > 0 ? uint64_t(o.count) : available;
  if (o.count > 0 && uint64_t(o.count) > available)
    std::fprintf(stderr, "tern-amqp-bench: queue %s holds %u messages; waiting for %" PRIu64 "\n",
                 o.queue.c_str(), available, target);
  consumer_stats s;
  const std::atomic<bool> stop{false};
  int64_t start = now_ns();
  consume_loop(o, conn, o.queue, target, deadline_from(o, start), stop, nullptr, nullptr, s);
  result r;
  r.msgs = s.received;
  r.redelivered = s.redelivered;
  r.seq_gaps = s.seq_gaps;
  r.errors = s.bad_size + (s.received < target ? target - s.received : 0);
  if (s.received < target)
    std::fprintf(stderr, "tern-amqp-bench: received %" PRIu64 " of %" PRIu64 " messages\n",
                 s.received, target);
  if (s.bad_size)
    std::fprintf(stderr, "tern-amqp-bench: %" PRIu64 " bodies were not %zu bytes\n", s.bad_size,
                 o.msg_size);
  if (s.received > 1) r.seconds = double(s.last_ns - s.first_ns) / 1e9;
  // Everything consumed and acknowledged: a drained queue must be empty (the acks were sent
  // before this declare on the same channel, so the broker has processed them).
  if (o.count <= 0 && s.received == target) {
    uint32_t left = wait_for_count(o, conn, o.queue, 0);
    if (left) {
      std::fprintf(stderr, "tern-amqp-bench: queue %s still holds %u messages after the drain\n",
                   o.queue.c_str(), left);
      r.errors += left;
    }
  }
  if (o.delete_after) conn.delete_queue(o.queue);
  return r;
}

result run_fanout(const options& o) {
  connection conn(o);
  const std::string ex = o.queue + "-fanout";
  amqp_exchange_declare(conn.c, ch, bytes_of(ex), amqp_cstring_bytes("fanout"), 0, /*durable=*/1,
                        0, 0, amqp_empty_table);
  check_rpc(conn.c, "exchange.declare");
  std::vector<std::string> queues;
  for (int i = 0; i < o.fanout_queues; ++i) {
    queues.push_back(o.queue + "-" + std::to_string(i));
    conn.declare_queue(o, queues.back());
    conn.purge(queues.back());
    amqp_queue_bind(conn.c, ch, bytes_of(queues.back()), bytes_of(ex), amqp_empty_bytes,
                    amqp_empty_table);
    check_rpc(conn.c, "queue.bind");
  }
  publisher p(o, conn, ex, "");
  int64_t n = o.count > 0 ? o.count : (o.duration_s > 0 ? -1 : 500000);
  if (n > 0) {
    p.sent_ns.reserve(size_t(n));
    p.confirmed.reserve(size_t(n));
  }
  result r;
  int64_t start = now_ns();
  int64_t deadline = deadline_from(o, start);
  publish_loop(o, p, n, o.rate_given ? o.rate : 0, start, deadline);
  p.drain(std::max(deadline, now_ns()) + int64_t(30e9));
  finish_publish(p, start, r);
  // Every queue must hold every confirmed message.
  for (const auto& q : queues) {
    uint32_t have = wait_for_count(o, conn, q, uint32_t(p.acked));
    if (have != p.acked) {
      std::fprintf(stderr, "tern-amqp-bench: queue %s holds %u messages, %" PRIu64 " confirmed\n",
                   q.c_str(), have, p.acked);
      r.errors += have > p.acked ? have - p.acked : p.acked - have;
    }
  }
  if (o.delete_after) {
    for (const auto& q : queues) conn.delete_queue(q);
    amqp_exchange_delete(conn.c, ch, bytes_of(ex), 0);
    check_rpc(conn.c, "exchange.delete");
  }
  return r;
}

result run_latency(const options& o) {
  if (o.msg_size < header_size) die("latency needs --msg-size >= 16 (the timestamp header)");
  if (o.rate <= 0) die("latency needs --rate > 0");
  connection pub_conn(o);
  pub_conn.declare_queue(o, o.queue);
  pub_conn.purge(o.queue);
  double run_s = o.duration_s > 0 ? o.duration_s : (o.count > 0 ? o.timeout_s : 10);
  int64_t n = o.count > 0 ? o.count : -1;

  std::atomic<int64_t> record_after{INT64_MAX};
  std::atomic<bool> stop{false}, ready{false};
  consumer_stats s;
  histogram hist;
  int64_t c_deadline = now_ns() + int64_t((run_s + 60) * 1e9);
  std::thread consumer([&] {
    connection conn(o);
    // The consumer stops at `stop` (set after the publisher's confirms and a drain period).
    consume_loop(o, conn, o.queue, UINT64_MAX, c_deadline, stop, &record_after, &hist, s, &ready);
  });
  while (!ready.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  int64_t start = now_ns() + int64_t(0.3e9);
  record_after = start + int64_t(o.warmup_s * 1e9);
  while (now_ns() < start) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  publisher p(o, pub_conn, "", o.queue);
  p.record_after_ns = record_after.load();
  publish_loop(o, p, n, o.rate, start, start + int64_t(run_s * 1e9));
  p.drain(now_ns() + int64_t(30e9));
  result r;
  finish_publish(p, start, r);
  // Let the consumer receive what was confirmed, for at most 5 more seconds.
  int64_t drain_until = now_ns() + int64_t(5e9);
  while (now_ns() < drain_until) {
    if (s.progress.load(std::memory_order_relaxed) >= p.acked) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  consumer.join();
  r.has_latency = true;
  r.latency.merge(hist);
  r.redelivered = s.redelivered;
  r.seq_gaps = s.seq_gaps;
  uint64_t confirmed = r.msgs;
  r.msgs = s.received;
  r.errors += s.bad_size + (confirmed > s.received ? confirmed - s.received : 0);
  if (confirmed > s.received)
    std::fprintf(stderr,
                 "tern-amqp-bench: %" PRIu64 " confirmed messages were never received\n",
                 confirmed - s.received);
  // The rate is the publisher's run (from the first scheduled publish to the last confirm).
  if (o.delete_after) pub_conn.delete_queue(o.queue);
  return r;
}

// Deletes --queue (for scripts that do not consume what they published).
result run_delete(const options& o) {
  connection conn(o);
  result r;
  r.msgs = conn.declare_queue(o, o.queue, /*passive=*/true);
  conn.delete_queue(o.queue);
  return r;
}

}  // namespace
}  // namespace tern::bench

int main(int argc, char** argv) {
  using namespace tern::bench;
  options o;
  CLI::App app{"tern-amqp-bench: AMQP 0-9-1 load generator (librabbitmq)"};
  app.add_option("mode", o.mode, "publish | consume | fanout | latency | delete")
      ->required()
      ->check(CLI::IsMember({"publish", "consume", "fanout", "latency", "delete"}));
  app.add_option("--host", o.host, "broker host")->capture_default_str();
  app.add_option("--port", o.port, "broker AMQP port")->capture_default_str();
  app.add_option("--user", o.user, "user (SASL PLAIN)")->capture_default_str();
  app.add_option("--password", o.password, "password")->capture_default_str();
  app.add_option("--vhost", o.vhost, "virtual host")->capture_default_str();
  app.add_option("--queue", o.queue,
                 "queue (durable, declared if missing); fanout: prefix of the queues and "
                 "exchange")
      ->capture_default_str();
  app.add_option("--queue-type", o.queue_type,
                 "x-queue-type argument when declaring (e.g. classic, quorum); default none");
  app.add_option("--msg-size", o.msg_size, "body bytes per message (>= 16 for latency)")
      ->capture_default_str();
  app.add_option("--count", o.count,
                 "messages (publish default 1,000,000, fanout 500,000; consume: default "
                 "everything in the queue)");
  app.add_option("--duration", o.duration_s, "seconds to run (instead of, or with, --count)");
  app.add_option("--timeout", o.timeout_s, "upper bound in seconds when only --count is given")
      ->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "latency: seconds at the start not recorded")
      ->capture_default_str();
  app.add_option("--window", o.window, "unconfirmed publishes in flight")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--prefetch", o.prefetch, "consumer prefetch count (basic.qos)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--ack-every", o.ack_every,
                 "consumer: ack every K-th message with multiple=true (1 = ack each)")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  app.add_option("--queues", o.fanout_queues, "fanout: queues bound to the exchange")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  auto* rate = app.add_option("--rate", o.rate, "msgs/s (latency; caps publish/fanout when given)")
                   ->capture_default_str();
  app.add_flag("--transient", o.transient, "delivery-mode 1 (default: 2, persistent)");
  app.add_flag("--purge", o.purge, "publish: purge the queue first");
  app.add_flag("--delete", o.delete_after,
               "consume, fanout, latency: delete the queue(s) (and fanout exchange) at the end");
  app.add_option("--frame-max", o.frame_max, "frame_max asked for at login")
      ->capture_default_str();
  app.add_flag("--quiet", o.quiet, "accepted for symmetry with tern-bench");
  CLI11_PARSE(app, argc, argv);
  o.rate_given = rate->count() > 0;
  if (o.ack_every > o.prefetch && o.prefetch > 0)
    die("--ack-every must not exceed --prefetch (the broker would stop delivering)");

  int64_t wall0 = now_ns();
  cpu_times cpu0 = process_cpu();
  result r;
  if (o.mode == "publish")
    r = run_publish(o);
  else if (o.mode == "consume")
    r = run_consume(o);
  else if (o.mode == "fanout")
    r = run_fanout(o);
  else if (o.mode == "latency")
    r = run_latency(o);
  else {
    r = run_delete(o);
    std::printf("deleted queue %s (%" PRIu64 " messages)\n", o.queue.c_str(), r.msgs);
    return 0;
  }
  cpu_times cpu1 = process_cpu();
  r.cpu = {cpu1.user - cpu0.user, cpu1.sys - cpu0.sys};
  r.wall = double(now_ns() - wall0) / 1e9;
  report(o, r);
  return (r.msgs == 0 || r.errors > 0) ? 1 : 0;
}
