#!/usr/bin/env bash
# Installs what is missing, builds the release preset and runs the main job: zap-echo on its
# built-in config (TCP echo on 127.0.0.1:7000), until Ctrl-C.
#
#   scripts/run.sh                       # zap-echo, built-in config
#   scripts/run.sh --config configs/echo.json --log-level debug
#   Arguments are passed to zap-echo (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target zap-echo zap-load

cat >&2 <<'MSG'
zap-echo starting (Ctrl-C stops it, draining open connections).
Try it from another terminal:
  build/release/apps/zap-load/zap-load --connections 8 --duration 5 127.0.0.1:7000
  printf 'hello\n' | nc -q1 127.0.0.1 7000
MSG
exec build/release/apps/zap-echo/zap-echo "$@"
