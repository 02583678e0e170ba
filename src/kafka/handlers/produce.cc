// Produce (0): validate every batch on the connection's shard (CRC, record count, bounded
// decompression, size), then append on each partition's shard. With acks=-1/1 the answer
// waits until the batches are durable under the topic's flush policy; acks=0 gets none.
//
// Ordering: all partition appends of a request are started (net::gather) before the handler
// suspends, so requests pipelined on one connection reach each partition in order.
//
// Compacted topics (cleanup.policy contains compact) refuse records without a key, as Kafka's
// LogValidator does (since 2.4, KAFKA-8729): INVALID_RECORD (87), which clients do not retry,
// whatever the request version (librdkafka 2.0 sends v7 and expects 87); from v8 the answer
// also lists the keyless records (record_errors) and says why (error_message).
#include "kafka/codec/produce.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"
#include "net/gather.h"
#include "storage/record_batch.h"

namespace tern::kafka {
namespace {

using partition_response = produce_response::partition_produce_response;

// Fills the answer for a batch with keyless records refused by a compacted topic.
error_code refuse_null_keys(bytes::byte_view batch, const std::string& tp, partition_response& pr) {
  const std::string why =
      "Compacted topic cannot accept message without key in topic partition " + tp + ".";
  int32_t index = 0;
  (void)storage::for_each_record(batch, 64u << 20, [&](const storage::record_view& rv) {
    if (!rv.key) pr.record_errors.push_back({index, why});
    ++index;
    return true;
  });
  pr.error_message = "One or more records have been rejected: " + why;
  return error_code::invalid_record;
}

// Checks a partition's records; on success fills `batches` with writable views of them.
error_code validate(const records& recs, int16_t version, const storage::log_config& cfg,
                    const std::string& tp, partition_response& pr,
                    std::vector<std::span<uint8_t>>& batches) {
  if (!recs.data || recs.data->empty()) return error_code::corrupt_message;
  auto split = storage::split_batches(*recs.data);
  if (!split) {
    auto e = to_kafka_error(split.error());
    // A pre-v3 request carrying magic 0/1 message sets: say the format is unsupported.
    return e;
  }
  storage::batch_limits limits;
  limits.max_batch_bytes = cfg.max_message_bytes;
  limits.require_keys = cfg.cleanup_compact;
  auto writable = recs.mutable_data();
  for (auto& b : *split) {
    auto v = storage::validate_batch(b, limits);
    if (!v && v.error() == storage::errc::null_key) return refuse_null_keys(b, tp, pr);
    if (!v) return to_kafka_error(v.error());
    size_t at = size_t(b.data() - recs.data->data());
    batches.push_back(writable.subspan(at, b.size()));
  }
  return error_code::none;
}

}  // namespace

net::awaitable<void> handle_produce(request_context& ctx) {
  auto req = ctx.decode<produce_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  auto& b = ctx.broker;
  const int16_t acks = req->acks;
  ctx.send_response = acks != 0;
  const bool acks_ok = acks == 0 || acks == 1 || acks == -1;

  produce_response resp;
  std::vector<partition_response*> slots;  // task i fills slots[i]
  std::vector<net::awaitable<broker::produce_result>> tasks;

  // Topics that are missing get created first (when allowed), before any append starts.
  for (auto& t : req->topic_data) {
    if (!b.topics()->find(t.name) && acks_ok && !req->transactional_id)
      (void)co_await b.auto_create_topic(t.name);
  }
  auto snap = b.topics();
  resp.responses.reserve(req->topic_data.size());
  for (auto& t : req->topic_data) {
    auto& tr = resp.responses.emplace_back();
    tr.name = t.name;
    tr.partition_responses.reserve(t.partition_data.size());
    const broker::topic_metadata* meta = snap->find(t.name);
    auto cfg = meta ? b.effective_log_config(*meta) : storage::log_config{};
    for (auto& p : t.partition_data) {
      auto& pr = tr.partition_responses.emplace_back();
      pr.index = p.index;
      pr.base_offset = -1;
      error_code err = error_code::none;
      std::vector<std::span<uint8_t>> batches;
      if (!acks_ok) {
        err = error_code::invalid_required_acks;
      } else if (req->transactional_id) {
        // Transactions come with the transaction coordinator; refuse rather than pretend.
        err = error_code::invalid_request;
        pr.error_message = "transactional produce is not supported yet";
      } else if (!meta || p.index < 0 || p.index >= meta->partitions) {
        err = error_code::unknown_topic_or_partition;
      } else {
        err = validate(p.records, ctx.header.version, cfg, t.name + "-" + std::to_string(p.index),
                       pr, batches);
      }
      if (err != error_code::none) {
        pr.error_code = code(err);
        continue;
      }
      slots.push_back(&pr);
      tasks.push_back(b.produce(t.name, p.index, std::move(batches), acks != 0));
    }
  }
  if (!tasks.empty()) {
    auto results = co_await net::gather(std::move(tasks));
    for (size_t i = 0; i < results.size(); ++i) {
      auto& r = results[i];
      auto& pr = *slots[i];
      pr.error_code = code(to_kafka_error(r.error));
      pr.base_offset = r.error ? -1 : r.base_offset;
      pr.log_append_time_ms = r.log_append_time;
      pr.log_start_offset = r.log_start_offset;
    }
  }
  if (ctx.send_response) ctx.respond(resp);
}

}  // namespace tern::kafka
