#!/usr/bin/env bash
# Measures this machine's limits, to put next to Tern's figures in docs/benchmarks.md:
# loopback TCP bandwidth (iperf3) and disk write rates (fio), in a temporary directory on the
# same file system as the broker's data directory. Prints a markdown table on stdout; progress
# goes to stderr. Takes about a minute. Run it on an idle machine: other load skews it.
#
#   scripts/bench-machine.sh [DIR]
#
# DIR (default: $TMPDIR or /tmp, the same place scripts/bench-kafka.sh puts the broker's data)
# is where the temporary fio directory is created. Needs iperf3, fio and python3.
set -euo pipefail

base="${1:-${TMPDIR:-/tmp}}"
secs="${BENCH_MACHINE_SECONDS:-10}"
for tool in iperf3 fio python3; do
  command -v "$tool" >/dev/null || { echo "bench-machine: $tool is not installed" >&2; exit 1; }
done

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
work="$(mktemp -d "$base/tern-bench-machine.XXXXXX")"
iperf_pid=""
cleanup() {
  [ -n "$iperf_pid" ] && kill "$iperf_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- loopback bandwidth ---------------------------------------------------------------------
port="$(free_port)"
echo "bench-machine: iperf3 over 127.0.0.1:$port for ${secs}s" >&2
iperf3 -s -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
iperf_pid=$!
for _ in $(seq 50); do  # wait until the server listens
  python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2)' \
    "$port" 2>/dev/null && break || sleep 0.1
done
iperf3 -c 127.0.0.1 -p "$port" -t "$secs" -J >"$work/iperf.json"
kill "$iperf_pid" 2>/dev/null || true
wait "$iperf_pid" 2>/dev/null || true
iperf_pid=""

# --- disk -----------------------------------------------------------------------------------
# Each job is time-bounded; sizes are large enough that the run is not all page cache.
run_fio() {  # name, extra fio args...
  local name="$1"; shift
  echo "bench-machine: fio $name" >&2
  fio --name="$name" --directory="$work" --output-format=json --output="$work/$name.json" \
    --ioengine=psync --rw=write --runtime="$secs" --time_based=0 "$@" >/dev/null
  rm -f "$work/$name".*.0
}
# Buffered sequential writes into the page cache only (no sync): the memory-copy ceiling.
run_fio seq-pagecache --bs=1M --size=1G
# Buffered sequential writes through the page cache, with the final fsync counted.
run_fio seq-buffered --bs=1M --size=4G --end_fsync=1 --runtime=60
# Sequential 1 MiB writes, each followed by fdatasync (what a group-committing log does).
run_fio seq-fdatasync --bs=1M --size=2G --fdatasync=1 --time_based=1
# 4 KiB writes, each followed by fdatasync: the cost of one small durable append.
run_fio fdatasync-4k --bs=4k --size=256M --fdatasync=1 --time_based=1

device="$(df --output=source "$work" | tail -1)"
fstype="$(df --output=fstype "$work" | tail -1)"

# --- the machine ----------------------------------------------------------------------------
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
mhz="$(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
mem="$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
dev="$(basename "$device")"
rota="$(cat "/sys/block/$dev/queue/rotational" 2>/dev/null || echo '?')"
sched="$(cat "/sys/block/$dev/queue/scheduler" 2>/dev/null || echo '?')"
echo "| machine | |"
echo "|---|---|"
echo "| CPUs (nproc) | $(nproc) × $cpu, ${mhz} MHz |"
echo "| memory | $mem |"
echo "| disk | $device, $(lsblk -dno SIZE "$device" 2>/dev/null | tr -d ' '), $fstype ($(findmnt -no OPTIONS -T "$work")), rotational=$rota, scheduler $sched |"
echo "| kernel | $(uname -sr) |"
echo "| OS | $( . /etc/os-release && echo "$PRETTY_NAME") |"
echo

python3 - "$work" "$device" "$fstype" "$secs" "$load_before" <<'EOF'
import json, sys
work, device, fstype, secs, load = sys.argv[1:]
ip = json.load(open(f"{work}/iperf.json"))
gbit = ip["end"]["sum_received"]["bits_per_second"] / 1e9
def job(name):
    return json.load(open(f"{work}/{name}.json"))["jobs"][0]
def mbs(j):  # fio reports bw_bytes per second
    return j["write"]["bw_bytes"] / 1e6
pc, buf = job("seq-pagecache"), job("seq-buffered")
seq, small = job("seq-fdatasync"), job("fdatasync-4k")
sync = small["sync"]["lat_ns"]
pct = sync.get("percentile", {})
def p(k):
    v = pct.get(k)
    return f"{v/1e3:.0f}" if v is not None else "n/a"
iops = small["write"]["iops"]
print(f"| measurement | tool and parameters | result |")
print(f"|---|---|---|")
print(f"| loopback TCP bandwidth | iperf3, 1 stream, 127.0.0.1, {secs} s | {gbit:.1f} Gbit/s ({gbit*1e3/8:.0f} MB/s) |")
print(f"| sequential write into the page cache | fio psync bs=1M, 1 GiB, no sync | {mbs(pc):.0f} MB/s |")
print(f"| sequential write, buffered, to disk | fio psync bs=1M, 4 GiB (or 60 s), end_fsync=1 | {mbs(buf):.0f} MB/s |")
print(f"| sequential write, fdatasync each write | fio psync bs=1M fdatasync=1, {secs} s | {mbs(seq):.0f} MB/s |")
print(f"| 4 KiB write + fdatasync each write | fio psync bs=4k fdatasync=1, {secs} s | {iops:.0f} IOPS, {mbs(small):.1f} MB/s |")
print(f"| fdatasync latency (4 KiB writes) | same job, sync latency | mean {sync['mean']/1e3:.0f} µs, p50 {p('50.000000')} µs, p99 {p('99.000000')} µs, p99.9 {p('99.900000')} µs |")
print()
print(f"Disk: {device} ({fstype}), temporary directory under {work.rsplit('/',1)[0]}. "
      f"Load average before the run: {load}.")
EOF
