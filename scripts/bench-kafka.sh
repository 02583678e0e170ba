#!/usr/bin/env bash
# Runs the Kafka workloads of docs/benchmarks.md against a fresh single-node Tern broker and
# prints the median of each over RUNS runs as a markdown table (stdout). Progress goes to
# stderr; every run's JSON line, the broker log and any profiles are kept in OUT.
#
#   scripts/bench-kafka.sh
#
# Environment:
#   TERN_BINARY  broker to start (default build/tern; build it with `make build`)
#   TERN_BENCH   load generator (default build-bench/bench/tern-bench, else build/bench/...)
#   RUNS         runs per workload (default 3)
#   SMP          broker shards (default 2; the topics get one partition per shard)
#   OUT          directory for results (default build-bench/bench-results/<date-time>)
#   PERF         a workload name (produce-100, consume-100, produce-1k, e2e-20k) or "all":
#                `perf record -g` the broker during that workload's first run
#   QUICK=1      small counts, for checking the script itself
#
# The broker runs in a temporary directory on a free port, is stopped with SIGTERM (by PID)
# and the directory removed on exit. Each tern-bench call is bounded by its own --timeout /
# --duration and by `timeout` (75 s), and no call starts after 8 minutes: at most 10 minutes.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tern="${TERN_BINARY:-$repo/build/tern}"
bench="${TERN_BENCH:-}"
if [ -z "$bench" ]; then
  for c in "$repo/build-bench/bench/tern-bench" "$repo/build/bench/tern-bench"; do
    [ -x "$c" ] && { bench="$c"; break; }
  done
fi
runs="${RUNS:-3}"
smp="${SMP:-2}"
perf_which="${PERF:-}"
out="${OUT:-$repo/build-bench/bench-results/$(date +%Y%m%d-%H%M%S)}"
budget_s=480  # no tern-bench call starts after this; each one is capped at 75 s (total < 10 min)

[ -x "$tern" ] || { echo "bench-kafka: no broker at $tern (make build)" >&2; exit 1; }
[ -n "$bench" ] && [ -x "$bench" ] || {
  echo "bench-kafka: tern-bench not found; make build (or cmake -S . -B build-bench -G Ninja -DCMAKE_CXX_COMPILER=clang++ &&" \
    "cmake --build build-bench --target tern-bench)" >&2
  exit 1
}
command -v python3 >/dev/null || { echo "bench-kafka: python3 is needed" >&2; exit 1; }

# Workload sizes: each run is meant to last a few seconds at the target rates, and is cut
# short by --timeout when the broker is slower.
if [ "${QUICK:-0}" = 1 ]; then
  n100=200000; n1k=50000; e2e_s=4; per_call_timeout=20
else
  n100=5000000; n1k=1500000; e2e_s=15; per_call_timeout=45
fi

mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/tern-bench-kafka.XXXXXX")"
broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
    kill -TERM "$broker_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$broker_pid" 2>/dev/null; then
      echo "bench-kafka: broker did not stop within 10 s of SIGTERM; sending SIGKILL" >&2
      kill -KILL "$broker_pid" 2>/dev/null || true
    fi
    wait "$broker_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
bootstrap="127.0.0.1:$port"
echo "bench-kafka: starting $tern serve --smp $smp on $bootstrap, data in $work/data" >&2
"$tern" serve --data "$work/data" --kafka-listen "$bootstrap" --smp "$smp" >"$out/broker.log" 2>&1 &
broker_pid=$!
listening=0
for _ in $(seq 200); do
  if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2)' \
    "$port" 2>/dev/null; then
    listening=1
    break
  fi
  kill -0 "$broker_pid" 2>/dev/null || { echo "bench-kafka: broker exited; see $out/broker.log" >&2; exit 1; }
  sleep 0.1
done
[ "$listening" = 1 ] || { echo "bench-kafka: broker not listening after 20 s" >&2; exit 1; }

# Smoke test with kcat, so that a broker that cannot produce/consume fails fast and clearly.
if command -v kcat >/dev/null; then
  echo smoke | timeout 20 kcat -b "$bootstrap" -P -t bench-smoke -X acks=all \
    || { echo "bench-kafka: kcat produce failed" >&2; exit 1; }
  got="$(timeout 20 kcat -b "$bootstrap" -C -t bench-smoke -o beginning -c 1 -e -q 2>/dev/null || true)"
  [ "$got" = smoke ] || { echo "bench-kafka: kcat consume failed (got '$got')" >&2; exit 1; }
fi

cpu_ticks() {  # "utime stime" of a process, in clock ticks
  awk '{print $14 "," $15}' "/proc/$1/stat"
}
hz="$(getconf CLK_TCK)"
t_start="$(date +%s)"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# run_one NAME RUN ARGS...: runs tern-bench, appends its JSON (plus broker CPU) to results.
run_one() {
  local name="$1" run="$2"; shift 2
  local perf_pid="" b0 b1 t0 t1 json
  if [ $(( $(date +%s) - t_start )) -gt "$budget_s" ]; then
    echo "bench-kafka: time budget spent; skipping $name run $run" >&2
    return 0
  fi
  if [ "$run" = 1 ] && { [ "$perf_which" = all ] || [ "$perf_which" = "$name" ]; }; then
    perf record -F 499 -g -p "$broker_pid" -o "$out/perf-$name.data" >/dev/null 2>"$out/perf-$name.log" &
    perf_pid=$!
    sleep 0.5
  fi
  b0="$(cpu_ticks "$broker_pid")"; t0="$(date +%s.%N)"
  json="$(timeout $((per_call_timeout + 30)) "$bench" "$@" --bootstrap "$bootstrap" --quiet \
    2>>"$out/bench-stderr.log" | tee -a "$out/bench-stdout.log" | grep '^{' | tail -1 || true)"
  b1="$(cpu_ticks "$broker_pid")"; t1="$(date +%s.%N)"
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf report -i "$out/perf-$name.data" --stdio --no-children --percent-limit 0.5 \
      >"$out/perf-$name.txt" 2>/dev/null || true
  fi
  if [ -z "$json" ]; then
    echo "bench-kafka: $name run $run produced no result (see $out/bench-stderr.log)" >&2
    return 0
  fi
  python3 - "$name" "$run" "$b0" "$b1" "$t0" "$t1" "$hz" "$json" >>"$out/results.jsonl" <<'EOF'
import json, sys
name, run, b0, b1, t0, t1, hz, line = sys.argv[1:]
r = json.loads(line)
r["workload"], r["run"] = name, int(run)
wall = float(t1) - float(t0)
(u0, s0), (u1, s1) = (map(int, b0.split(","))), (map(int, b1.split(",")))
r["broker_cpu_user_s"] = (u1 - u0) / int(hz)
r["broker_cpu_sys_s"] = (s1 - s0) / int(hz)
r["broker_cpu_s"] = r["broker_cpu_user_s"] + r["broker_cpu_sys_s"]
r["broker_cpu_pct"] = 100 * r["broker_cpu_s"] / wall if wall > 0 else 0
r["broker_sys_share"] = r["broker_cpu_sys_s"] / r["broker_cpu_s"] if r["broker_cpu_s"] else 0
print(json.dumps(r))
lat = r.get("latency_us")
e2e = ", e2e p99 %.0f us" % lat["p99"] if lat else ""
print("bench-kafka: %s run %s: %.0f msgs/s, %.1f MB/s%s; broker CPU %.0f%% (%.0f%% in kernel), "
      "client CPU %.0f%%" % (name, run, r["msgs_per_s"], r["mb_per_s"], e2e, r["broker_cpu_pct"],
                            100 * r["broker_sys_share"], r["client_cpu_pct"]), file=sys.stderr)
EOF
}

for run in $(seq "$runs"); do
  # A fresh topic per run and size, one partition per shard.
  run_one produce-100 "$run" produce --topic "p100-$run" --partitions "$smp" --msg-size 100 \
    --acks all --count "$n100" --timeout "$per_call_timeout"
  run_one consume-100 "$run" consume --topic "p100-$run" --partitions "$smp" --msg-size 100 \
    --count "$n100" --timeout "$per_call_timeout"
  run_one produce-1k "$run" produce --topic "p1k-$run" --partitions "$smp" --msg-size 1024 \
    --acks all --count "$n1k" --timeout "$per_call_timeout"
  run_one e2e-20k "$run" e2e --topic "e2e-$run" --partitions "$smp" --msg-size 100 --acks all \
    --rate 20000 --linger-ms 0 --duration "$e2e_s" --warmup 2
  # Delete this run's topics so that every run starts from the same disk and page-cache state
  # (with the data kept, later produce-1k runs were up to 30% slower: see docs/benchmarks.md).
  for t in "p100-$run" "p1k-$run" "e2e-$run"; do
    timeout 10 "$tern" topic delete "$t" --bootstrap "$bootstrap" >/dev/null 2>&1 \
      || echo "bench-kafka: could not delete topic $t" >&2
  done
  sleep 1
done

echo "bench-kafka: results in $out" >&2
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out/results.jsonl" "$smp" "$load_before" "$load_after" "$(date -u '+%Y-%m-%d %H:%M UTC')" <<'EOF'
import json, statistics, sys
path, smp, load_before, load_after, when = sys.argv[1:]
rows = {}
try:
    for line in open(path):
        r = json.loads(line)
        rows.setdefault(r["workload"], []).append(r)
except FileNotFoundError:
    sys.exit("bench-kafka: no results")
med = lambda xs: statistics.median(xs) if xs else float("nan")
def fmt(x, d=0):
    return f"{x:,.{d}f}"
print(f"| workload ({smp} partitions, acks=all) | runs | msgs/s (median) | MB/s (median) | "
      "e2e p50 / p99 / p99.9 µs (median) | broker CPU (kernel share) | client CPU |")
print("|---|---|---|---|---|---|---|")
desc = {
    "produce-100": "produce, 100 B",
    "consume-100": "consume, 100 B",
    "produce-1k": "produce, 1 KiB",
    "e2e-20k": "e2e at 20,000 msgs/s, 100 B, linger.ms=0",
}
for name in ["produce-100", "consume-100", "produce-1k", "e2e-20k"]:
    rs = rows.get(name, [])
    if not rs:
        continue
    lat = "—"
    if all("latency_us" in r for r in rs):
        lat = " / ".join(fmt(med([r["latency_us"][k] for r in rs])) for k in ("p50", "p99", "p99_9"))
    print(f"| {desc[name]} | {len(rs)} | {fmt(med([r['msgs_per_s'] for r in rs]))} | "
          f"{fmt(med([r['mb_per_s'] for r in rs]), 1)} | {lat} | "
          f"{fmt(med([r['broker_cpu_pct'] for r in rs]))}% "
          f"({fmt(100 * med([r.get('broker_sys_share', 0) for r in rs]))}%) | "
          f"{fmt(med([r['client_cpu_pct'] for r in rs]))}% |")
errs = sum(r["errors"] for rs in rows.values() for r in rs)
print()
print(f"Errors (undelivered or unreceived messages) over all runs: {errs}. CPU is % of one core "
      "(the machine has 2) over the tern-bench process's lifetime (client) and over the same "
      "interval (broker); the kernel share is the broker's system time over its total. "
      f"Measured {when}; load average before {load_before}, after {load_after}.")
EOF
