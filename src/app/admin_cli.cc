#include "app/admin_cli.h"

#include <chrono>
#include <cstdlib>

namespace tern::app {

void add_admin_options(CLI::App* sub, std::string& bootstrap, int64_t& timeout_ms, bool& json) {
  sub->add_option("--bootstrap", bootstrap, "broker to talk to [env: TERN_BOOTSTRAP]")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  sub->add_option("--timeout-ms", timeout_ms, "give up after this long, per request")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_flag("--json", json, "print JSON instead of columns");
}

admin_options admin_options_for(const std::string& bootstrap, int64_t timeout_ms,
                                std::initializer_list<CLI::App*> subs) {
  admin_options options;
  options.bootstrap = bootstrap;
  bool flag_given = false;
  for (CLI::App* sub : subs)
    if (sub && sub->parsed() && sub->get_option("--bootstrap")->count() > 0) flag_given = true;
  if (const char* env = std::getenv("TERN_BOOTSTRAP"); env && *env && !flag_given)
    options.bootstrap = env;
  options.timeout = std::chrono::milliseconds(timeout_ms);
  return options;
}

int report_admin_failure(std::FILE* err, const admin_error& e) {
  std::fprintf(err, "tern: %s\n", e.message.c_str());
  return 1;
}

}  // namespace tern::app
