#!/usr/bin/env bash
# Installs the Debian packages Tern needs to build, test and benchmark, skipping any that are
# already present, then the npm packages of the kafkajs tests (tests/integration/js) when they
# are not installed yet. Uses sudo when not root. Safe to run repeatedly: with nothing missing
# it only runs dpkg-query and compares two file dates.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache clang libclang-rt-14-dev pkg-config iperf3 fio
  python3-snappy python3-lz4 python3-zstandard
  # libraries (see shared/DESIGN.md, "Dependencies")
  libboost1.81-dev libssl-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libcli11-dev
  nlohmann-json3-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # real clients used by the tests and benchmarks
  kcat librdkafka-dev python3 python3-pytest python3-confluent-kafka python3-kafka
  python3-pika amqp-tools librabbitmq-dev
  # kafkajs (npm) for tests/integration/test_kafkajs.py
  nodejs npm
)

missing=()
for p in "${packages[@]}"; do
  # A Node.js from elsewhere (NodeSource's nodejs bundles npm and conflicts with Debian's npm
  # package) is fine: only the commands matter.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The kafkajs integration tests' npm packages, exactly as pinned in package-lock.json. Skipped
# when node_modules is already installed from the current lock file (npm writes
# node_modules/.package-lock.json on every install).
js_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/js"
if [ -f "$js_dir/package-lock.json" ] &&
   { [ ! -f "$js_dir/node_modules/.package-lock.json" ] ||
     [ "$js_dir/package-lock.json" -nt "$js_dir/node_modules/.package-lock.json" ]; }; then
  echo "install-deps: npm ci in $js_dir"
  npm ci --prefix "$js_dir" --no-audit --no-fund
fi
