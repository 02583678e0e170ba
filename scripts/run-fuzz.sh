#!/usr/bin/env bash
# Builds the libFuzzer targets in build-fuzz (clang, ASan+UBSan, incremental, ccache when
# present) and runs each one over a copy of its checked-in corpus for a bounded time:
# TERN_FUZZ_SECONDS in total (default 60), shared evenly between the targets. Exits non-zero
# if any target finds a crash, leak, timeout or sanitizer error; the input that did it is
# kept in build-fuzz/artifacts/<target>/ and the log in build-fuzz/logs/<target>.log.
#
# Targets are fuzz/<name>_fuzz.cc with seeds in fuzz/corpus/<name>/ (fuzz/CMakeLists.txt).
# The checked-in corpus is never written to: new inputs go to a temporary copy.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${TERN_FUZZ_BUILD:-$root/build-fuzz}
total=${TERN_FUZZ_SECONDS:-60}
jobs=${JOBS:-2}

if ! command -v clang++ >/dev/null; then
  echo "run-fuzz: clang++ not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi

if [ ! -f "$build/build.ninja" ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DTERN_FUZZ=ON -DTERN_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j"$jobs" --target tern_fuzz

targets=()
for src in "$root"/fuzz/*_fuzz.cc; do
  [ -e "$src" ] || continue
  targets+=("$(basename "$src" .cc)")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "run-fuzz: no fuzz targets"
  exit 0
fi
per_target=$(( total / ${#targets[@]} ))
[ "$per_target" -ge 1 ] || per_target=1

work=$(mktemp -d "${TMPDIR:-/tmp}/tern-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/logs"

status=0
for t in "${targets[@]}"; do
  corpus="$work/$t"
  mkdir -p "$corpus" "$build/artifacts/$t"
  seeds="$root/fuzz/corpus/${t%_fuzz}"
  [ -d "$seeds" ] && cp -R "$seeds/." "$corpus/"
  log="$build/logs/$t.log"
  # -timeout: one input taking 10 s is a hang. -rss_limit_mb: decoders must stay small.
  # Sanitizer options make every finding fatal and reported with a stack.
  set +e
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$build/fuzz/$t" -max_total_time="$per_target" -timeout=10 -rss_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t/" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  if [ "$rc" -ne 0 ]; then
    echo "run-fuzz: $t FAILED (exit $rc) after ${runs:-?} runs; log: $log" >&2
    tail -n 40 "$log" >&2
    status=1
  else
    echo "run-fuzz: $t ok, ${runs:-?} runs in ${per_target}s"
  fi
done
exit $status
