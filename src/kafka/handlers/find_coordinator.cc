// FindCoordinator (10): Tern is a single node, so it coordinates every group itself. Inside
// the broker each group still has one owning shard (group::coordinator), but that is not
// visible on the wire. Transactional ids (key_type 1) are not supported yet.
//
// Advertising this API matters beyond groups: librdkafka keys its "LZ4" feature on
// FindCoordinator v0 being offered and otherwise silently sends lz4 batches uncompressed.
#include "kafka/codec/find_coordinator.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {

net::awaitable<void> handle_find_coordinator(request_context& ctx) {
  auto req = ctx.decode<find_coordinator_request>();
  if (!req) {
    ctx.failure = req.error();
    co_return;
  }
  find_coordinator_response resp;
  if (req->key_type == 0) {
    resp.node_id = ctx.broker.node_id();
    resp.host = ctx.cfg.advertised_host;
    resp.port = ctx.cfg.advertised_port;
  } else {
    resp.error_code = code(error_code::coordinator_not_available);
    resp.error_message = "transactions are not supported by this broker";
    resp.node_id = -1;
    resp.port = -1;
  }
  ctx.respond(resp);
}

}  // namespace tern::kafka
