#include "app/version.h"

#ifndef TERN_VERSION
#error "TERN_VERSION is set by src/app/CMakeLists.txt"
#endif

namespace tern::app {

std::string_view version() { return TERN_VERSION; }

}  // namespace tern::app
