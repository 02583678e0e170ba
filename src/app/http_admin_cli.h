#pragma once
// What `tern queue` and `tern vhost` share: the --http, --timeout-ms and --json options, how
// the admin API's address is chosen (flag, else TERN_HTTP, else 127.0.0.1:8080), one call to
// the API, and how a failure is reported. They talk to the broker's HTTP admin API
// (src/http/admin_api.h), not to AMQP.

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace tern::app {

struct http_admin_options {
  std::string http = "127.0.0.1:8080";
  int64_t timeout_ms = 10000;
  bool json = false;
};

// Adds --http, --timeout-ms and --json to `sub`, bound to `o` (shared by a family).
void add_http_admin_options(CLI::App* sub, http_admin_options& o);

// The address to use: --http when given to whichever of `subs` ran, else TERN_HTTP, else the
// default (the same reasoning as admin_options_for's TERN_BOOTSTRAP).
std::string http_address_for(const http_admin_options& o, std::initializer_list<CLI::App*> subs);

// One admin API call. On a 2xx answer returns true with its JSON body in `body` (null when it
// has none). Otherwise prints "tern: <error>: <reason>" (the API's error body) or what went
// wrong on the way to `err`, and returns false.
bool call_admin_api(const std::string& address, int64_t timeout_ms, std::string_view method,
                    const std::string& target, std::FILE* err, nlohmann::json& body,
                    int* status = nullptr);

// "/" -> "%2F": a name as one path segment.
std::string path_segment(std::string_view name);

}  // namespace tern::app
