#pragma once
// Wall-clock milliseconds as Kafka uses them (record timestamps, retention), behind a function
// pointer so tests can inject time.

#include <chrono>
#include <cstdint>

namespace tern {

using clock_fn = int64_t (*)();

inline int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tern
