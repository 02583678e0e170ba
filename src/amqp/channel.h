#pragma once
// One AMQP channel (internal to src/amqp): its methods, content assembly for basic.publish,
// consumers, unacknowledged deliveries, prefetch, publisher confirms and transactions. Lives
// on its connection's shard.
//
// Holding deliveries. Every delivery not yet acked is held by the channel (its holder id in
// the queues). Cancelling a consumer leaves them held; closing the channel releases them, so
// the queues redeliver them to others (with the redelivered flag).
//
// Prefetch. Each consumer has a credit counter (basic.qos global=false: per consumer, as
// RabbitMQ reinterprets it) and the channel one more (global=true); both are atomics because
// the queue's shard takes credit (consumer_sink::try_acquire) while this shard returns it on
// acks. A queue that found no credit is poked (queue::dispatch) when credit comes back.

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "amqp/codec/content_header.h"
#include "amqp/codec/method.h"
#include "broker/queue_service.h"

namespace tern::amqp {

class connection;
struct consumer_link;

// Appends the content header frame of a delivery (basic.deliver, basic.get-ok): the stored
// properties, plus x-delivery-count for a message a quorum queue delivers again.
void write_delivery_properties(bytes::buffer& out, uint16_t channel, const broker::queue_ref& q,
                               const broker::delivered_message& m);

class channel : public std::enable_shared_from_this<channel> {
 public:
  channel(connection& conn, uint16_t number);
  ~channel();

  uint16_t number() const { return _number; }

  // A frame for this channel. Returns an error only for what closes the whole connection;
  // channel errors are answered with channel.close here.
  net::awaitable<std::optional<error>> on_frame(const frame& f);

  // The connection is going away, or the channel closed: cancels the consumers and returns
  // every held delivery to its queue.
  void teardown();

  // ---- from consumer links (posted to this shard) ----
  void on_delivery(const std::string& consumer_tag, broker::queue_ref q,
                   broker::delivered_message m, int64_t reserved_bytes);
  void on_consumer_cancelled(const std::string& consumer_tag);
  // The connection's output drained: poke the queues of consumers that ran out of room.
  void poke_blocked();

 private:
  struct consumer {
    std::string tag;
    broker::queue_ref q;
    broker::consumer_id id = 0;
    bool no_ack = false;
    std::shared_ptr<consumer_link> link;
    bool ready = false;  // consume-ok sent; deliveries before it wait in `early`
    std::vector<std::pair<broker::delivered_message, int64_t>> early;
  };
  struct unacked {
    broker::queue_ref q;
    int64_t offset = 0;
    std::string consumer_tag;  // empty for basic.get
  };
  struct pending_content {
    basic_publish method;
    std::optional<content_header> header;
    bytes::buffer header_payload;  // owns the bytes header.raw_properties views
    bytes::buffer body;
  };
  struct tx_publish {
    basic_publish method;
    broker::message_ptr message;
    broker::header_table headers;
  };
  struct tx_settle {
    uint64_t tag;
    bool multiple;
    bool ack;
    bool requeue;
  };

  net::awaitable<std::optional<error>> on_method(method m);
  std::optional<error> on_content_frame(const frame& f);
  // Closes the channel with a soft error (channel.close); a hard one closes the connection.
  std::optional<error> fail(reply_code code, std::string text, uint16_t class_id,
                            uint16_t method_id);
  std::optional<error> fail(const broker::service_status& st, uint16_t class_id,
                            uint16_t method_id);
  // Sends one method frame on this channel.
  void reply(const method& m);

  // Method handlers (channel_methods.cc, channel_basic.cc).
  net::awaitable<std::optional<error>> exchange_method(const method& m);
  net::awaitable<std::optional<error>> queue_method(const method& m);
  net::awaitable<std::optional<error>> basic_method(const method& m);
  net::awaitable<std::optional<error>> tx_method(const method& m);
  net::awaitable<std::optional<error>> consume(const basic_consume& m);
  net::awaitable<std::optional<error>> get(const basic_get& m);
  std::optional<error> cancel(const basic_cancel& m);
  std::optional<error> settle(uint64_t tag, bool multiple, bool ack, bool requeue,
                              uint16_t class_id, uint16_t method_id);
  std::optional<error> complete_publish();
  void publish(const basic_publish& method, broker::message_ptr message,
               const broker::header_table& headers, std::function<void(bool ok)> on_done);
  void confirm(uint64_t seq, bool ok);
  void return_message(const basic_publish& method, const broker::queue_message& m);
  void write_delivery(const std::string& consumer_tag, const broker::queue_ref& q,
                      const broker::delivered_message& m, bool no_ack);
  void give_credit(const std::string& consumer_tag, size_t n);
  // The queue name a method means: `name`, or the last declared one when empty.
  std::optional<std::string> resolve_queue(const std::string& name);
  std::optional<broker::queue_ref> find_queue(const std::string& name,
                                              broker::service_status* why);
  void remember_queue(const broker::queue_ref& q);

  connection& _conn;
  const uint16_t _number;
  const broker::holder_id _holder;
  bool _closing = false;  // sent channel.close, waiting for close-ok
  bool _torn_down = false;
  std::optional<pending_content> _content;

  std::map<std::string, consumer> _consumers;
  std::map<uint64_t, unacked> _unacked;  // by delivery tag
  uint64_t _next_delivery_tag = 1;
  std::unordered_map<broker::queue*, broker::queue_ref> _queues_held;  // for release
  std::string _last_queue;

  uint16_t _consumer_prefetch = 0;  // for consumers created from now on; 0 = unlimited
  uint16_t _channel_prefetch = 0;
  std::shared_ptr<std::atomic<int64_t>> _channel_credit;
  std::shared_ptr<std::atomic<bool>> _flow_active;

  bool _confirm = false;
  uint64_t _next_publish_seq = 1;
  std::map<uint64_t, std::optional<bool>> _pending_confirms;  // seq -> done (ack/nack)

  bool _tx = false;
  std::vector<tx_publish> _tx_publishes;
  std::vector<tx_settle> _tx_settles;
};

}  // namespace tern::amqp
