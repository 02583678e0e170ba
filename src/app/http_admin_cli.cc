#include "app/http_admin_cli.h"

#include <chrono>
#include <cstdlib>

#include <fmt/format.h>

#include "app/http_client.h"
#include "http/codec/uri.h"

namespace tern::app {

void add_http_admin_options(CLI::App* sub, http_admin_options& o) {
  sub->add_option("--http", o.http, "the broker's HTTP admin API [env: TERN_HTTP]")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  sub->add_option("--timeout-ms", o.timeout_ms, "give up after this long")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_flag("--json", o.json, "print JSON instead of columns");
}

std::string http_address_for(const http_admin_options& o, std::initializer_list<CLI::App*> subs) {
  bool flag_given = false;
  for (CLI::App* sub : subs)
    if (sub && sub->parsed() && sub->get_option("--http")->count() > 0) flag_given = true;
  if (const char* env = std::getenv("TERN_HTTP"); env && *env && !flag_given) return env;
  return o.http;
}

bool call_admin_api(const std::string& address, int64_t timeout_ms, std::string_view method,
                    const std::string& target, std::FILE* err, nlohmann::json& body, int* status) {
  http_reply reply;
  std::string e =
      http_request(address, method, target, "", std::chrono::milliseconds(timeout_ms), reply);
  if (!e.empty()) {
    std::fprintf(err,
                 "tern: %s (is the broker running with its HTTP admin API there? "
                 "see --http, TERN_HTTP)\n",
                 e.c_str());
    return false;
  }
  if (status) *status = reply.status;
  body = reply.body.empty() ? nlohmann::json() : nlohmann::json::parse(reply.body, nullptr, false);
  if (reply.status >= 200 && reply.status < 300) {
    if (body.is_discarded()) {
      std::fprintf(err, "tern: the broker answered %s %s with something that is not JSON\n",
                   std::string(method).c_str(), target.c_str());
      return false;
    }
    return true;
  }
  std::string error = fmt::format("HTTP {}", reply.status), reason;
  if (body.is_object()) {
    if (body.contains("error") && body["error"].is_string()) error = body["error"];
    if (body.contains("reason") && body["reason"].is_string()) reason = body["reason"];
  }
  if (reason.empty())
    reason = fmt::format("{} {} failed with HTTP {}", method, target, reply.status);
  std::fprintf(err, "tern: %s: %s\n", error.c_str(), reason.c_str());
  return false;
}

std::string path_segment(std::string_view name) { return http::percent_encode(name); }

}  // namespace tern::app
