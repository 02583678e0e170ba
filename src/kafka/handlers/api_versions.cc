// ApiVersions (18): the versions of every API Tern serves (handlers/registry.cc).
#include "kafka/codec/api_versions.h"
#include "kafka/error_codes.h"
#include "kafka/handlers/handlers.h"

namespace tern::kafka {
namespace {

api_versions_response supported_versions() {
  api_versions_response r;
  for (auto& h : registered_handlers()) {
    api_versions_response::api_version v;
    v.api_key = int16_t(h.key);
    v.min_version = h.min_version;
    v.max_version = h.max_version;
    r.api_keys.push_back(v);
  }
  return r;
}

}  // namespace

net::awaitable<void> handle_api_versions(request_context& ctx) {
  // The v3 body (client software name/version) is informational; a malformed one must still
  // get an answer, since the client has no other way to learn what the broker speaks.
  (void)ctx.decode<api_versions_request>();
  ctx.respond(supported_versions());
  co_return;
}

void respond_unsupported_api_version(request_context& ctx) {
  auto r = supported_versions();
  r.error_code = code(error_code::unsupported_version);
  encode_response_header(ctx.header.correlation_id, api_key::api_versions, 0, ctx.response);
  encode_response(r, 0, ctx.response);
}

}  // namespace tern::kafka
