#!/usr/bin/env bash
# Installs the Debian packages Tern needs to build, test and benchmark, skipping any that are
# already present. Uses sudo when not root. Safe to run repeatedly: with nothing missing it
# only runs dpkg-query.
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
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
