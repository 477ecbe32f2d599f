#!/usr/bin/env bash
# Installs exactly the Debian packages zap needs that are missing. Idempotent; silent when all
# are present. Works as root or through sudo.
#
#   scripts/setup.sh           what building, running and testing need
#   scripts/setup.sh --bench   also the peers of the benchmarks and load tests (mimalloc, jemalloc,
#                              Go, nginx, HAProxy, perf)
set -euo pipefail

packages=(
  build-essential g++ clang cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  liburing-dev libboost-dev
  libcli11-dev libspdlog-dev nlohmann-json3-dev
  wrk curl procps iproute2 python3
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(libmimalloc-dev libjemalloc-dev golang-go linux-perf strace nginx haproxy)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "zap setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "zap setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
