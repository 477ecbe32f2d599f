#!/bin/sh
# Runs zimalloc_bench against glibc + mimalloc, then against jemalloc (preloaded).
#   bench/zimalloc/run.sh build/release/bench/zimalloc/zimalloc_bench [benchmark flags]
set -e
bin=${1:?path to zimalloc_bench}
shift
"$bin" "$@"
je=$(ls /usr/lib/*/libjemalloc.so.2 /usr/lib/libjemalloc.so.2 2>/dev/null | head -n 1 || true)
if [ -n "$je" ]; then
  LD_PRELOAD="$je" "$bin" --benchmark_filter='/(zap|jemalloc)' "$@"
else
  echo "jemalloc not installed: skipped" >&2
fi
