#pragma once
// `tern serve`: wires storage, broker, network and protocol listeners from a config and runs
// until SIGTERM/SIGINT, then shuts down cleanly (flushes logs, closes connections).

namespace tern::app {

struct config;

// Runs the broker in the calling thread (plus one thread per extra shard). Returns the process
// exit code: 0 after a clean shutdown, non-zero when start-up failed (reason logged).
int run_serve(const config& cfg);

}  // namespace tern::app
