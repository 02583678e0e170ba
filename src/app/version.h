#pragma once
// Tern's version, from project(VERSION) in the top-level CMakeLists.txt (a compile definition
// on this module), so `tern version` and ApiVersions' client_software_version never drift.

#include <string_view>

namespace tern::app {

std::string_view version();

}  // namespace tern::app
