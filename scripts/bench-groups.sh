#!/usr/bin/env bash
# Consumer-group benchmarks (docs/benchmarks.md, "Consumer groups"): a broker on a free port in
# a temporary directory; a 12-partition topic of 2,000,000 100-byte messages; then
#   - drain throughput with 1, 2 and 4 members of one group (RUNS runs each, fresh group each);
#   - join -> all partitions assigned, and clean leave -> all reassigned, for 3 and 10 members,
#     with range (eager) and cooperative-sticky assignment.
# Members heartbeat every 100 ms (heartbeat.interval.ms): surviving members learn of a
# rebalance from a heartbeat answer, so the client's interval bounds the leave figure.
# Prints one JSON line per run; the broker is stopped by PID and the directory removed.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tern="${TERN_BINARY:-$repo/build/tern}"
bench="${TERN_BENCH:-$repo/build/bench/tern-bench}"
runs="${RUNS:-3}"
[ -x "$tern" ] && [ -x "$bench" ] || { echo "bench-groups: make build first" >&2; exit 1; }
dir="$(mktemp -d)"
port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$tern" serve --data "$dir/data" --kafka-listen "127.0.0.1:$port" --smp 2 \
  --group-initial-rebalance-delay-ms 0 > "$dir/broker.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
sleep 1
b=(--bootstrap "127.0.0.1:$port" --quiet)
timeout 120 "$bench" produce "${b[@]}" --topic grp --partitions 12 --count 2000000 --timeout 90 | tail -1
for members in 1 2 4; do
  for r in $(seq "$runs"); do
    echo "# drain members=$members run=$r"
    timeout 120 "$bench" group "${b[@]}" --topic grp --consumers "$members" --timeout 90 \
      --consumer-prop heartbeat.interval.ms=100 | grep -v '^group:'
  done
done
for strategy in range cooperative-sticky; do
  for members in 3 10; do
    for r in $(seq "$runs"); do
      echo "# rebalance strategy=$strategy members=$members run=$r"
      timeout 120 "$bench" group "${b[@]}" --topic grp --consumers "$members" --count 1 \
        --timeout 60 --consumer-prop heartbeat.interval.ms=100 \
        --consumer-prop "partition.assignment.strategy=$strategy" | grep group_members ||
        echo '{"error":"tern-bench failed (see docs/benchmarks.md: librdkafka 2.0.2 sticky assignor)"}'
    done
  done
done
