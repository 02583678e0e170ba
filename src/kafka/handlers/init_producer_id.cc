// InitProducerId (22): a fresh producer id, epoch 0, for an idempotent producer. As in Kafka,
// a request without a transactional id always gets a new id, also when it names its current
// id and epoch (v3+, KIP-360's epoch bump after an UNKNOWN_PRODUCER_ID or a timed-out batch):
// the new id starts its sequences at 0, which is what the client resets to.
// Transactional ids need the transaction coordinator, which Tern does not have yet.
#include "kafka/codec/init_producer_id.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_init_producer_id(request_context& ctx) {
  auto req = ctx.decode<init_producer_id_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  init_producer_id_response resp;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  if (req->transactional_id) {
    resp.error_code = code(error_code::coordinator_not_available);
  } else if (auto id = co_await ctx.broker.allocate_producer_id(); !id) {
    resp.error_code = code(to_kafka_error(id.error()));
  } else {
    resp.producer_id = *id;
    resp.producer_epoch = 0;
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
