#pragma once
// The queue side of the broker (RabbitMQ's model): vhosts, each with its exchanges and
// bindings (routing_table) and its queues (queue.h), their durable metadata, and publishing:
// routing a message and handing it to the queues it goes to.
//
// Threading. One service per process, shared by every shard.
//   - Metadata (vhosts, exchanges, bindings, queue declarations) sits behind one mutex; the
//     operations on it are synchronous and may be called from any shard. A queue is opened
//     while the mutex is held (a few file creations) and handed to its owner shard.
//   - A queue object is used only on its owner shard (queue_ref::shard): callers post to it
//     (shard_set::post_to) or await it (invoke_on). publish() does that itself.
//   - Routing reads the table under the mutex; the lock is held only for route().
//
// Durability. Durable exchanges, bindings, queue declarations and vhosts are written to
// data/amqp/metadata.json (write to a temporary file, fdatasync, rename, sync the directory)
// before the operation returns, so a declare-ok means the declaration survives a crash.
// Non-durable queues and exclusive queues are forgotten (and their files deleted) at start.
//
//   data/amqp/metadata.json
//   data/amqp/queues/<vhost>/<queue>/{log,journal}/    names %-escaped (queue_dir_name)

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "broker/queue.h"
#include "broker/routing_table.h"
#include "net/shard.h"
#include "storage/file.h"
#include "storage/flusher.h"

namespace tern::broker {

// Errors of the queue service: the routing table's, plus the ones only queues have.
enum class service_errc {
  ok = 0,
  not_found,            // AMQP 404
  access_refused,       // 403
  precondition_failed,  // 406
  resource_locked,      // 405: an exclusive queue of another connection
  resource_error,       // 506: the disk refused
};

struct service_status {
  service_errc code = service_errc::ok;
  std::string message;
  bool ok() const { return code == service_errc::ok; }
  explicit operator bool() const { return ok(); }
  static service_status from(const routing_status& s);
};

struct queue_service_config {
  std::filesystem::path data_dir;  // the broker's; the service uses data_dir/amqp
  storage::log_config log_defaults;
  unsigned flusher_threads = 2;
  int64_t housekeeping_interval_ms = 1000;
};

struct queue_declaration {
  std::string name;
  bool passive = false;
  bool durable = false;
  bool exclusive = false;
  bool auto_delete = false;
  header_table arguments;  // as declared (x-message-ttl, x-max-length, ...)
  uint64_t owner = 0;      // the declaring connection (exclusive queues)
  // The client sent an empty name and the protocol generated `name` (amq.gen-...): the
  // reserved "amq." prefix is then the broker's own, not refused.
  bool server_named = false;
};

struct queue_declare_ok {
  std::string name;
  uint64_t message_count = 0;
  uint32_t consumer_count = 0;
};

// A queue and the shard that owns it. Dereference `q` only on that shard.
struct queue_ref {
  std::shared_ptr<queue> q;
  unsigned shard = 0;
};

struct publish_outcome {
  size_t queues = 0;    // how many queues it was routed to
  size_t rejected = 0;  // refused by x-overflow=reject-publish
  size_t failed = 0;    // the disk refused
  service_status status;  // routing errors (no such exchange, internal exchange)
};

// What a protocol supplies for dead-lettering: the message as it must be re-published
// (RabbitMQ adds the x-death header), and its headers for a headers exchange.
struct dead_letter_event {
  std::string vhost;
  std::string queue;
  removal_reason reason;
  std::string exchange;  // where the message goes
  std::string routing_key;
};
// The returned headers must carry RabbitMQ's x-death (an array of tables with "queue" and
// "reason", most recent first, this death included): cycle detection reads it.
using dead_letter_rewrite =
    std::function<std::pair<message_ptr, header_table>(const queue_message&,
                                                       const dead_letter_event&)>;

// RabbitMQ's dead-letter cycle detection (rabbit_dead_letter): a message dead-lettered for a
// reason other than `rejected` is dropped instead of entering a queue it already died in,
// unless a rejection happened since (a cycle a client takes part in is allowed; a fully
// automatic one, e.g. a TTL queue dead-lettering to itself, would loop forever). Returns the
// queues the message must not enter, from the x-death of `routing_headers`.
std::vector<std::string> dead_letter_cycle_queues(const header_table& routing_headers,
                                                  removal_reason why);

class queue_service {
 public:
  queue_service(net::shard_set& shards, storage::file_system& fs, queue_service_config cfg);
  ~queue_service();

  // Loads the metadata and opens every durable queue on its shard (recovering it); deletes
  // what non-durable queues left. Starts the housekeeping timers. Run on shard 0.
  net::awaitable<result<void>> start();
  // Closes every queue on its shard. Run on shard 0.
  net::awaitable<void> stop();

  void set_dead_letter_rewrite(dead_letter_rewrite fn) { _rewrite = std::move(fn); }
  // Awaited first by stop(), while every queue is still open: a protocol closes its
  // connections there, so what their channels hold goes back to the queues (and no channel
  // outlives the service). Set before start, cleared (nullptr) before the protocol goes.
  void set_before_stop(std::function<net::awaitable<void>()> fn) { _before_stop = std::move(fn); }

  // ---- vhosts ----
  bool has_vhost(const std::string& name) const;
  std::vector<std::string> list_vhosts() const;
  service_status add_vhost(const std::string& name);
  service_status delete_vhost(const std::string& name);

  // ---- exchanges and bindings (RabbitMQ's rules: routing_table.h) ----
  service_status declare_exchange(const std::string& vhost, const exchange_declaration& d);
  service_status delete_exchange(const std::string& vhost, const std::string& name,
                                 bool if_unused);
  service_status bind(const std::string& vhost, const binding& b);
  service_status unbind(const std::string& vhost, const binding& b);

  // ---- queues ----
  // queue.declare: a new queue is created (and opened); an existing one must be equivalent
  // (durable, exclusive, auto_delete, the x- arguments RabbitMQ compares), and an exclusive
  // one must belong to `d.owner`. An empty name is the caller's to generate.
  result<queue_declare_ok> declare_queue(const std::string& vhost, const queue_declaration& d,
                                         service_status* why);
  // queue.delete: returns the number of messages deleted. `why` must stay valid until it
  // completes.
  net::awaitable<result<uint64_t>> delete_queue(std::string vhost, std::string name,
                                                bool if_unused, bool if_empty, uint64_t owner,
                                                service_status* why);
  // The queue, if it exists and `owner` may use it (exclusive queues).
  std::optional<queue_ref> find_queue(const std::string& vhost, const std::string& name,
                                      uint64_t owner, service_status* why);
  // Deletes the exclusive queues of a connection that closed.
  void drop_exclusive(uint64_t owner);

  struct queue_summary {
    std::string vhost;
    std::string name;
    bool durable = false;
    bool exclusive = false;
    bool auto_delete = false;
    queue_stats stats;
  };
  // Every queue with its counters (gathers from every shard).
  net::awaitable<std::vector<queue_summary>> list_queues();

  // ---- publishing ----
  using publish_done = std::function<void(publish_outcome)>;
  // Routes `m` (published to `exchange` with `routing_key` and `headers`) and appends it to
  // every queue it goes to. `done` runs on the calling shard once every queue has answered
  // (persistent messages in durable queues: once durable). With no destination it runs at
  // once with queues == 0 (the caller returns it if mandatory).
  void publish(const std::string& vhost, const std::string& exchange,
               const std::string& routing_key, const header_table& headers, message_ptr m,
               publish_done done, const route_options& options = {});

  net::shard_set& shards() { return _shards; }

  // Unique ids for consumers and holders (channels), process-wide.
  uint64_t next_id() { return _next_id.fetch_add(1, std::memory_order_relaxed); }

 private:
  struct queue_entry {
    queue_declaration decl;
    queue_settings settings;
    queue_ref ref;
  };
  struct vhost_state {
    explicit vhost_state(const std::string& name) : table(name) {}
    routing_table table;
    std::map<std::string, queue_entry> queues;
  };

  std::filesystem::path queue_dir(const std::string& vhost, const std::string& name) const;
  queue_env env_for(unsigned shard);
  unsigned shard_for(const std::string& vhost, const std::string& name) const;
  // Opens a queue for `entry` (on the calling thread; the queue then belongs to its shard).
  result<void> open_queue(const std::string& vhost, queue_entry& entry);
  // Removes a queue from the registry and closes it on its shard (deleting its files).
  void remove_queue_locked(vhost_state& vh, const std::string& name);
  result<void> write_metadata_locked();
  result<void> load_metadata();
  void on_dead_letter(const std::string& vhost, const queue& from, message_ptr m,
                      removal_reason why);
  // Appends `m` to each of `targets` (on their shards); `done` runs on the calling shard once
  // all have answered. `outcome` holds what routing found.
  void append_to(std::vector<queue_ref> targets, message_ptr m, publish_outcome outcome,
                 publish_done done);
  void on_unused(const std::string& vhost, const std::string& name);
  net::awaitable<void> housekeeping_loop(unsigned shard);

  net::shard_set& _shards;
  storage::file_system& _fs;
  queue_service_config _cfg;
  std::unique_ptr<storage::flusher> _flusher;
  dead_letter_rewrite _rewrite;
  std::function<net::awaitable<void>()> _before_stop;

  mutable std::mutex _mutex;  // guards _vhosts and the metadata file
  std::map<std::string, std::unique_ptr<vhost_state>> _vhosts;

  std::atomic<uint64_t> _next_id{1};
  std::vector<std::unique_ptr<net::asio::steady_timer>> _timers;  // [shard]
  std::atomic<bool> _stopping{false};
};

// The queue_settings a queue.declare's arguments ask for (RabbitMQ's x- arguments), or
// precondition_failed naming the bad argument.
service_status parse_queue_arguments(const header_table& args, queue_settings& out);
// A file-name-safe form of a vhost or queue name: [A-Za-z0-9._-] kept, others %XX.
std::string queue_dir_name(std::string_view name);

}  // namespace tern::broker
