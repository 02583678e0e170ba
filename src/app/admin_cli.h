#pragma once
// What the admin command families (`tern topic`, `tern group`) share: the --bootstrap,
// --timeout-ms and --json options, how the broker address is chosen, and how a failed
// operation is reported.

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>

#include <CLI/CLI.hpp>

#include "app/admin_client.h"

namespace tern::app {

// Adds --bootstrap, --timeout-ms and --json to `sub`, bound to the given fields (which the
// family's subcommands share).
void add_admin_options(CLI::App* sub, std::string& bootstrap, int64_t& timeout_ms, bool& json);

// Connection options for whichever of `subs` ran: its --bootstrap when given, else
// TERN_BOOTSTRAP, else `bootstrap`'s default. TERN_BOOTSTRAP is applied here rather than with
// CLI11's envname(): the subcommands share one field, and CLI11 would let the environment of a
// subcommand that was not used overwrite the flag given to the one that was.
admin_options admin_options_for(const std::string& bootstrap, int64_t timeout_ms,
                                std::initializer_list<CLI::App*> subs);

// Prints "tern: <message>" to `err`; returns exit status 1.
int report_admin_failure(std::FILE* err, const admin_error& e);

}  // namespace tern::app
