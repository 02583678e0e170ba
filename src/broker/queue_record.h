#pragma once
// How a queue message is stored as a Kafka record in the queue's log (format: queue.h).

#include <optional>

#include "broker/queue.h"
#include "storage/record_batch.h"

namespace tern::broker {

// What the log keeps besides the message, fixed at publish time.
struct stored_meta {
  bool persistent = false;
  uint8_t priority = 0;
  int64_t expires_at_ms = -1;
};

// One record batch holding `m` alone.
bytes::buffer encode_queue_record(const queue_message& m, const stored_meta& meta);

struct decoded_queue_record {
  queue_message message;
  stored_meta meta;
};
// nullopt when the record is not a queue message (no valid "tern.meta" header).
std::optional<decoded_queue_record> decode_queue_record(const storage::record_view& r);
// Only the meta, without copying the body (recovery scans).
std::optional<stored_meta> decode_queue_meta(const storage::record_view& r);

}  // namespace tern::broker
