#!/usr/bin/env bash
# Installs what is missing, configures, builds and runs the tests.
#
#   scripts/test.sh                     release preset, every test
#   scripts/test.sh --sanitize asan     AddressSanitizer + UBSan build
#   scripts/test.sh --sanitize tsan     ThreadSanitizer build
#   scripts/test.sh --preset clang -L fast
#   Any argument after the options is passed to ctest (e.g. -L fast, -R SpscRing).
set -euo pipefail
cd "$(dirname "$0")/.."

preset=release
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) preset="$2"; shift 2 ;;
    --preset) preset="$2"; shift 2 ;;
    --no-setup) no_setup=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) ctest_args+=("$1"); shift ;;
  esac
done

[ -n "${no_setup:-}" ] || scripts/setup.sh

jobs=$(nproc)
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
ctest --preset "$preset" -j "$jobs" "${ctest_args[@]}"
