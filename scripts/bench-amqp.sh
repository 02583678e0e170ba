#!/usr/bin/env bash
# AMQP 0-9-1 side by side: RabbitMQ (Debian's rabbitmq-server) and Tern on this machine, one
# after the other, with the same workloads and the same durability (durable queues, persistent
# messages, publisher confirms; RabbitMQ confirms a persistent message after fsync, Tern after
# fdatasync). Prints a markdown table of the medians over RUNS runs (stdout) and writes it to
# OUT/table.md for docs/benchmarks.md. Progress goes to stderr; every run's JSON line and the
# brokers' logs stay in OUT.
#
#   scripts/bench-amqp.sh
#
# Workloads (tern-amqp-bench, one connection each unless said):
#   publish-100   publish with confirms (window WINDOW) to a durable queue, persistent, 100 B
#   consume-100   one consumer, prefetch 1000, acks every message, drains what publish-100 wrote
#   publish-1k    the same as publish-100 with 1 KiB messages (the queue is deleted afterwards)
#   fanout-100    a durable fanout exchange bound to 4 durable queues, publish with confirms
#                 (each message stored 4 times; every queue is checked to hold all of them)
#   latency-10k   a publisher (confirms) at a steady 10,000 msgs/s and a consumer (acks) on a
#                 second connection; end-to-end p50/p99/p99.9 from the scheduled publish time
#
# Environment:
#   BROKERS      which to run, in order (default "rabbitmq tern")
#   TERN_BINARY  Tern broker (default build/tern)
#   AMQP_BENCH   load generator (default: the first of build-amqpbench/, build-bench/, build/
#                that has bench/tern-amqp-bench)
#   RUNS         runs per workload and broker (default 3)
#   SMP          Tern shards (default 2)
#   WINDOW       unconfirmed publishes in flight (default 1000)
#   OUT          results directory (default build-bench/bench-results/amqp-<date-time>)
#   PERF         a workload name (publish-100, consume-100, publish-1k, fanout-100,
#                latency-10k) or "all": `perf record -g` the broker during its first run
#   QUICK=1      short runs, for checking the script itself
#
# RabbitMQ: installed with apt-get if /usr/lib/rabbitmq/bin/rabbitmq-server is missing (a
# temporary policy-rc.d keeps the package from starting its system service). It then runs as a
# separate node, bench@localhost, started by this script from a temporary directory (its own
# mnesia, logs, config, cookie, epmd port, AMQP and distribution ports; no plugins), and is
# stopped with `rabbitmqctl -n bench@localhost stop` (SIGTERM to its PID as a fallback), and
# its epmd with `epmd -port <its port> -kill`. A system RabbitMQ service is never touched.
# Tern runs in the same temporary directory on free ports and is stopped with SIGTERM by PID.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tern="${TERN_BINARY:-$repo/build/tern}"
bench="${AMQP_BENCH:-}"
if [ -z "$bench" ]; then
  for c in "$repo/build-amqpbench/bench/tern-amqp-bench" "$repo/build-bench/bench/tern-amqp-bench" \
    "$repo/build/bench/tern-amqp-bench"; do
    [ -x "$c" ] && { bench="$c"; break; }
  done
fi
brokers="${BROKERS:-rabbitmq tern}"
runs="${RUNS:-3}"
smp="${SMP:-2}"
window="${WINDOW:-1000}"
perf_which="${PERF:-}"
out="${OUT:-$repo/build-bench/bench-results/amqp-$(date +%Y%m%d-%H%M%S)}"
rmq_bin=/usr/lib/rabbitmq/bin

[ -n "$bench" ] && [ -x "$bench" ] || {
  echo "bench-amqp: tern-amqp-bench not found (cmake --build <build> --target tern-amqp-bench;" \
    "needs librabbitmq-dev)" >&2
  exit 1
}
case " $brokers " in *" tern "*) [ -x "$tern" ] || { echo "bench-amqp: no broker at $tern" >&2; exit 1; } ;; esac
command -v python3 >/dev/null || { echo "bench-amqp: python3 is needed" >&2; exit 1; }

# Each run is capped in time (--duration), so a slower broker publishes fewer messages in the
# same time rather than making the script run long; rates are confirmed messages per second.
if [ "${QUICK:-0}" = 1 ]; then
  n100=100000; n1k=50000; nfan=50000; cap=5; lat_s=5; warm=1
else
  n100=2000000; n1k=1000000; nfan=1000000; cap=20; lat_s=15; warm=2
fi
call_timeout=$((cap + 90))

mkdir -p "$out"
: >"$out/results.jsonl"
work="$(mktemp -d "${TMPDIR:-/tmp}/tern-bench-amqp.XXXXXX")"
chmod 755 "$work"
broker_pid=""      # the process whose CPU is measured (beam.smp or tern)
broker_name=""
rmq_shell_pid=""   # the rabbitmq-server script we started (parent of beam.smp)
rmq_epmd_port=""
policy_rc_created=0

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

rmq_env() {  # the environment of our RabbitMQ node, for rabbitmq-server and rabbitmqctl
  env HOME="$work/rabbitmq" \
    RABBITMQ_NODENAME=bench@localhost \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$rmq_port" \
    RABBITMQ_DIST_PORT="$rmq_dist_port" \
    ERL_EPMD_PORT="$rmq_epmd_port" \
    RABBITMQ_MNESIA_BASE="$work/rabbitmq/mnesia" \
    RABBITMQ_LOG_BASE="$work/rabbitmq/log" \
    RABBITMQ_PID_FILE="$work/rabbitmq/pid" \
    RABBITMQ_CONF_ENV_FILE="$work/rabbitmq/rabbitmq-env.conf" \
    RABBITMQ_CONFIG_FILE="$work/rabbitmq/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$work/rabbitmq/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$work/rabbitmq/enabled_plugins" \
    RABBITMQ_PLUGINS_EXPAND_DIR="$work/rabbitmq/plugins-expand" \
    "$@"
}

stop_rabbitmq() {
  [ -n "$rmq_shell_pid" ] || return 0
  if kill -0 "$rmq_shell_pid" 2>/dev/null; then
    rmq_env timeout 60 "$rmq_bin/rabbitmqctl" -n bench@localhost stop >/dev/null 2>&1 || true
    for _ in $(seq 100); do kill -0 "$rmq_shell_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$rmq_shell_pid" 2>/dev/null; then
      echo "bench-amqp: RabbitMQ did not stop with rabbitmqctl; sending SIGTERM" >&2
      [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null || true
      kill -TERM "$rmq_shell_pid" 2>/dev/null || true
      sleep 5
      [ -n "$broker_pid" ] && kill -KILL "$broker_pid" 2>/dev/null || true
    fi
    wait "$rmq_shell_pid" 2>/dev/null || true
  fi
  # The epmd our node started listens on our own port; stop only that one.
  [ -n "$rmq_epmd_port" ] && command -v epmd >/dev/null &&
    epmd -port "$rmq_epmd_port" -kill >/dev/null 2>&1 || true
  rmq_shell_pid=""
  broker_pid=""
}

stop_tern() {
  [ -n "$broker_pid" ] || return 0
  if kill -0 "$broker_pid" 2>/dev/null; then
    kill -TERM "$broker_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$broker_pid" 2>/dev/null; then
      echo "bench-amqp: Tern did not stop within 10 s of SIGTERM; sending SIGKILL" >&2
      kill -KILL "$broker_pid" 2>/dev/null || true
    fi
    wait "$broker_pid" 2>/dev/null || true
  fi
  broker_pid=""
}

cleanup() {
  if [ "$broker_name" = rabbitmq ]; then stop_rabbitmq; else stop_tern; fi
  [ "$policy_rc_created" = 1 ] && rm -f /usr/sbin/policy-rc.d
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {  # wait_port PORT PID LOG: until PORT accepts connections (60 s)
  for _ in $(seq 600); do
    if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2)' \
      "$1" 2>/dev/null; then
      return 0
    fi
    kill -0 "$2" 2>/dev/null || { echo "bench-amqp: broker exited; see $3" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench-amqp: broker not listening on $1 after 60 s; see $3" >&2
  exit 1
}

install_rabbitmq() {
  [ -x "$rmq_bin/rabbitmq-server" ] && return 0
  echo "bench-amqp: installing rabbitmq-server from Debian (apt-get)" >&2
  [ "$(id -u)" = 0 ] || { echo "bench-amqp: installing needs root" >&2; exit 1; }
  # Keep the package's maintainer scripts from starting a system service.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_rc_created=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server \
    >"$out/apt-get.log" 2>&1 || {
    apt-get update >>"$out/apt-get.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server \
      >>"$out/apt-get.log" 2>&1
  } || { echo "bench-amqp: apt-get install rabbitmq-server failed; see $out/apt-get.log" >&2; exit 1; }
  if [ "$policy_rc_created" = 1 ]; then rm -f /usr/sbin/policy-rc.d; policy_rc_created=0; fi
}

start_rabbitmq() {
  install_rabbitmq
  rmq_port="$(free_port)"; rmq_dist_port="$(free_port)"; rmq_epmd_port="$(free_port)"
  mkdir -p "$work/rabbitmq/mnesia" "$work/rabbitmq/log"
  : >"$work/rabbitmq/rabbitmq-env.conf"
  echo '[].' >"$work/rabbitmq/enabled_plugins"
  echo '[].' >"$work/rabbitmq/advanced.config"
  # Defaults otherwise (classic queues, default fsync/confirm behaviour); loopback only.
  printf 'listeners.tcp.1 = 127.0.0.1:%s\nloopback_users.guest = true\n' "$rmq_port" \
    >"$work/rabbitmq/rabbitmq.conf"
  echo "bench-amqp: starting RabbitMQ (node bench@localhost) on 127.0.0.1:$rmq_port," \
    "data in $work/rabbitmq" >&2
  rmq_env "$rmq_bin/rabbitmq-server" >"$out/rabbitmq-stdout.log" 2>&1 &
  rmq_shell_pid=$!
  broker_name=rabbitmq
  wait_port "$rmq_port" "$rmq_shell_pid" "$out/rabbitmq-stdout.log"
  rmq_env timeout 60 "$rmq_bin/rabbitmqctl" -n bench@localhost await_startup >/dev/null 2>&1 || {
    echo "bench-amqp: RabbitMQ did not finish starting; see $out/rabbitmq-stdout.log" >&2
    exit 1
  }
  broker_pid="$(cat "$work/rabbitmq/pid")"  # beam.smp
  amqp_port="$rmq_port"
  rmq_version="$(rmq_env timeout 30 "$rmq_bin/rabbitmqctl" -n bench@localhost version 2>/dev/null ||
    dpkg-query -W -f='${Version}' rabbitmq-server)"
  erl_version="$(rmq_env timeout 30 "$rmq_bin/rabbitmqctl" -n bench@localhost eval \
    'erlang:system_info(otp_release).' 2>/dev/null | tr -d '"' || echo '?')"
  echo "bench-amqp: RabbitMQ $rmq_version (Erlang/OTP $erl_version) is up (beam.smp PID $broker_pid)" >&2
}

start_tern() {
  amqp_port="$(free_port)"
  local kafka_port
  kafka_port="$(free_port)"
  echo "bench-amqp: starting $tern serve --smp $smp, AMQP on 127.0.0.1:$amqp_port, data in" \
    "$work/tern" >&2
  "$tern" serve --data "$work/tern" --amqp-listen "127.0.0.1:$amqp_port" \
    --kafka-listen "127.0.0.1:$kafka_port" --smp "$smp" >"$out/tern.log" 2>&1 &
  broker_pid=$!
  broker_name=tern
  wait_port "$amqp_port" "$broker_pid" "$out/tern.log"
}

cpu_ticks() { awk '{print $14 "," $15}' "/proc/$1/stat"; }
hz="$(getconf CLK_TCK)"

# run_one BROKER NAME RUN ARGS...: runs tern-amqp-bench, appends its JSON (plus broker CPU).
run_one() {
  local broker="$1" name="$2" run="$3"; shift 3
  local perf_pid="" b0 b1 t0 t1 json rc=0
  if [ "$run" = 1 ] && { [ "$perf_which" = all ] || [ "$perf_which" = "$name" ]; }; then
    perf record -F 499 -g -p "$broker_pid" -o "$out/perf-$broker-$name.data" >/dev/null \
      2>"$out/perf-$broker-$name.log" &
    perf_pid=$!
    sleep 0.5
  fi
  b0="$(cpu_ticks "$broker_pid")"; t0="$(date +%s.%N)"
  json="$(timeout "$call_timeout" "$bench" "$@" --port "$amqp_port" \
    2>>"$out/bench-stderr.log" | tee -a "$out/bench-stdout.log" | grep '^{' | tail -1)" || rc=$?
  b1="$(cpu_ticks "$broker_pid")"; t1="$(date +%s.%N)"
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf report -i "$out/perf-$broker-$name.data" --stdio --no-children --percent-limit 0.5 \
      >"$out/perf-$broker-$name.txt" 2>/dev/null || true
  fi
  if [ -z "$json" ]; then
    echo "bench-amqp: $broker $name run $run produced no result (exit $rc; see" \
      "$out/bench-stderr.log)" >&2
    echo "{\"broker\":\"$broker\",\"workload\":\"$name\",\"run\":$run,\"failed\":true}" \
      >>"$out/results.jsonl"
    return 0
  fi
  python3 - "$broker" "$name" "$run" "$b0" "$b1" "$t0" "$t1" "$hz" "$rc" "$json" \
    >>"$out/results.jsonl" <<'EOF'
import json, sys
broker, name, run, b0, b1, t0, t1, hz, rc, line = sys.argv[1:]
r = json.loads(line)
r["broker"], r["workload"], r["run"], r["exit"] = broker, name, int(run), int(rc)
wall = float(t1) - float(t0)
(u0, s0), (u1, s1) = (map(int, b0.split(","))), (map(int, b1.split(",")))
r["broker_cpu_s"] = (u1 - u0 + s1 - s0) / int(hz)
r["broker_cpu_pct"] = 100 * r["broker_cpu_s"] / wall if wall > 0 else 0
print(json.dumps(r))
lat = r.get("latency_us")
e2e = ", e2e p50/p99 %.0f/%.0f us" % (lat["p50"], lat["p99"]) if lat else ""
print("bench-amqp: %s %s run %s: %.0f msgs/s%s; errors %d; broker CPU %.0f%%, client CPU %.0f%%"
      % (broker, name, run, r["msgs_per_s"], e2e, r["errors"], r["broker_cpu_pct"],
         r["client_cpu_pct"]), file=sys.stderr)
EOF
}

run_workloads() {
  local b="$1" run
  for run in $(seq "$runs"); do
    run_one "$b" publish-100 "$run" publish --queue "p100-$run" --msg-size 100 --count "$n100" \
      --duration "$cap" --window "$window" --purge
    # Drains everything publish-100 confirmed (bounded by --timeout, not by --duration).
    run_one "$b" consume-100 "$run" consume --queue "p100-$run" --msg-size 100 --prefetch 1000 \
      --timeout $((call_timeout - 10)) --delete
    run_one "$b" publish-1k "$run" publish --queue "p1k-$run" --msg-size 1024 --count "$n1k" \
      --duration "$cap" --window "$window" --purge
    timeout 60 "$bench" delete --queue "p1k-$run" --port "$amqp_port" >/dev/null 2>&1 ||
      echo "bench-amqp: could not delete queue p1k-$run" >&2
    run_one "$b" fanout-100 "$run" fanout --queue "fan-$run" --queues 4 --msg-size 100 \
      --count "$nfan" --duration "$cap" --window "$window" --delete
    run_one "$b" latency-10k "$run" latency --queue "lat-$run" --msg-size 100 --rate 10000 \
      --duration "$lat_s" --warmup "$warm" --prefetch 1000 --window "$window" --delete
    sleep 1
  done
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
rmq_version=""; erl_version=""
for b in $brokers; do
  case "$b" in
    rabbitmq)
      start_rabbitmq
      run_workloads rabbitmq
      cp -r "$work/rabbitmq/log" "$out/rabbitmq-log" 2>/dev/null || true
      stop_rabbitmq
      ;;
    tern)
      start_tern
      run_workloads tern
      stop_tern
      ;;
    *) echo "bench-amqp: unknown broker '$b' in BROKERS" >&2; exit 1 ;;
  esac
  broker_name=""
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "bench-amqp: results in $out" >&2
python3 - "$out/results.jsonl" "$rmq_version" "$erl_version" "$smp" "$window" "$load_before" \
  "$load_after" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" <<'EOF' | tee "$out/table.md"
import json, statistics, sys
path, rmq_version, erl_version, smp, window, load_before, load_after, when, ncpu = sys.argv[1:]
rows = {}
for line in open(path):
    r = json.loads(line)
    rows.setdefault((r["broker"], r["workload"]), []).append(r)
med = lambda xs: statistics.median(xs) if xs else float("nan")
def ok(b, w):
    return [r for r in rows.get((b, w), []) if not r.get("failed")]
def rate(b, w):
    rs = ok(b, w)
    return med([r["msgs_per_s"] for r in rs]) if rs else None
def fmt(x, d=0):
    return "—" if x is None else f"{x:,.{d}f}"
def cell(b, w):
    rs = ok(b, w)
    if not rs:
        return "—"
    runs = len(rows.get((b, w), []))
    s = f"{fmt(rate(b, w))}"
    if len(rs) < runs:
        s += f" ({runs - len(rs)} of {runs} runs failed)"
    return s
def cpu(b, w):
    rs = ok(b, w)
    if not rs:
        return "—"
    return f"{med([r['broker_cpu_pct'] for r in rs]):.0f}% / {med([r['client_cpu_pct'] for r in rs]):.0f}%"
desc = [
    ("publish-100", "(1) publish with confirms, persistent, 100 B, msgs/s"),
    ("publish-1k", "(1) publish with confirms, persistent, 1 KiB, msgs/s"),
    ("consume-100", "(2) consume, prefetch 1000, ack each, 100 B, msgs/s"),
    ("fanout-100", "(3) fanout to 4 durable queues, confirms, 100 B, msgs/s published"),
]
rmq = (f"RabbitMQ {rmq_version} (classic queues, Erlang/OTP {erl_version or '?'})"
       if rmq_version else "RabbitMQ (not run)")
print(f"| workload | {rmq} | Tern (`--smp {smp}`) | Tern ÷ RabbitMQ | target | "
      "broker / client CPU, RabbitMQ | broker / client CPU, Tern |")
print("|---|---|---|---|---|---|---|")
for w, d in desc:
    a, t = rate("rabbitmq", w), rate("tern", w)
    ratio = f"{t / a:.1f}×" if a and t else "—"
    print(f"| {d} | {cell('rabbitmq', w)} | {cell('tern', w)} | {ratio} | ≥ 10× | "
          f"{cpu('rabbitmq', w)} | {cpu('tern', w)} |")
def lat(b):
    rs = ok(b, "latency-10k")
    if not rs:
        return "—"
    p = [med([r["latency_us"][k] for r in rs]) / 1000 for k in ("p50", "p99", "p99_9")]
    s = " / ".join(f"{x:,.2f}" for x in p)
    achieved = med([r["msgs_per_s"] for r in rs])
    if achieved < 9500:  # the publisher could not keep 10,000 msgs/s: latency grows with the backlog
        s += f" (kept only {achieved:,.0f} msgs/s)"
    return s
print(f"| (4) end-to-end latency at 10,000 msgs/s, 100 B, p50 / p99 / p99.9 ms | {lat('rabbitmq')} | "
      f"{lat('tern')} | — | p99 ≤ 2 ms | {cpu('rabbitmq', 'latency-10k')} | {cpu('tern', 'latency-10k')} |")
errs = {b: sum(r.get("errors", 0) for (bb, _), rs in rows.items() if bb == b for r in rs)
        for b in ("rabbitmq", "tern")}
failed = sum(1 for rs in rows.values() for r in rs if r.get("failed"))
print()
print(f"Medians of the runs per cell (`scripts/bench-amqp.sh`, {max((r['run'] for rs in rows.values() for r in rs), default=0)} "
      f"runs per workload), measured {when} on {ncpu} cores; load average before "
      f"{load_before}, after {load_after}. Same client for both (tern-amqp-bench, librabbitmq "
      f"0.11), one connection each; durable queues, persistent messages (delivery-mode 2), "
      f"publisher confirms with at most {window} unconfirmed; RabbitMQ confirms persistent "
      "messages after fsync, Tern after fdatasync. Each publish run is capped at "
      "its --duration, so msgs/s counts confirmed messages over the run. CPU is % of one core "
      "(broker over the run, client over its lifetime). Errors (lost, nacked, unconfirmed or "
      f"never received messages): RabbitMQ {errs['rabbitmq']}, Tern {errs['tern']}; "
      f"runs without a result: {failed}.")
EOF
