// Fetch (1): long poll over any number of partitions. Reads run on each partition's shard in
// parallel and return file ranges, which go to the socket by sendfile. If fewer than
// min_bytes are readable, the request waits (broker::wait_for_data) until data arrives or
// max_wait_ms passes. Fetch sessions (KIP-227) are not kept: session_id 0 tells clients to
// send full requests, which every client supports.
#include <chrono>

#include "kafka/codec/fetch.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"
#include "net/gather.h"

namespace tern::kafka {

net::awaitable<void> handle_fetch(request_context& ctx) {
  auto req = ctx.decode<fetch_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  auto& b = ctx.broker;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, req->max_wait_ms));
  const size_t response_max = req->max_bytes > 0 ? size_t(req->max_bytes) : 0;

  fetch_response resp;
  while (true) {
    resp.responses.clear();
    auto snap = b.topics();
    std::vector<net::awaitable<broker::read_result>> tasks;
    std::vector<fetch_response::partition_data*> slots;
    std::vector<broker::wait_key> keys;
    bool any_error = false;
    resp.responses.reserve(req->topics.size());
    for (auto& t : req->topics) {
      auto& tr = resp.responses.emplace_back();
      tr.topic = t.topic;
      tr.partitions.reserve(t.partitions.size());
      const broker::topic_metadata* meta = snap->find(t.topic);
      for (auto& p : t.partitions) {
        auto& pd = tr.partitions.emplace_back();
        pd.partition_index = p.partition;
        pd.high_watermark = -1;
        pd.aborted_transactions = std::vector<fetch_response::aborted_transaction>{};
        pd.records.data = bytes::byte_view{};  // empty, not null: clients reject size -1
        if (!meta || p.partition < 0 || p.partition >= meta->partitions) {
          pd.error_code = code(error_code::unknown_topic_or_partition);
          any_error = true;
          continue;
        }
        size_t limit = p.partition_max_bytes > 0 ? size_t(p.partition_max_bytes) : 0;
        if (response_max) limit = std::min(limit, response_max);
        slots.push_back(&pd);
        keys.push_back({t.topic, p.partition, p.fetch_offset});
        tasks.push_back(b.read(t.topic, p.partition, p.fetch_offset, limit, true));
      }
    }
    size_t total = 0;
    if (!tasks.empty()) {
      auto results = co_await net::gather(std::move(tasks));
      for (size_t i = 0; i < results.size(); ++i) {
        auto& r = results[i];
        auto& pd = *slots[i];
        pd.error_code = code(to_kafka_error(r.error));
        pd.high_watermark = r.high_watermark;
        pd.last_stable_offset = r.high_watermark;
        pd.log_start_offset = r.log_start_offset;
        // Wait for data beyond what is readable now, or a partial read would wake at once.
        keys[i].offset = std::max(keys[i].offset, r.high_watermark);
        if (r.error) {
          any_error = true;
          continue;
        }
        // Whole response bounded by max_bytes, but the first data always goes (KIP-74), so
        // a batch larger than the limits can still be consumed.
        if (r.data.bytes == 0) continue;
        if (total > 0 && response_max && total + r.data.bytes > response_max) continue;
        total += r.data.bytes;
        pd.records.files = std::move(r.data.ranges);
      }
    }
    bool satisfied = any_error || req->min_bytes <= 0 || total >= size_t(req->min_bytes);
    if (satisfied || std::chrono::steady_clock::now() >= deadline || keys.empty()) break;
    co_await b.wait_for_data(keys, deadline);
    // Read again: either data arrived, or this is the final read at the deadline.
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
