#!/usr/bin/env bash
# Installs what is missing, builds the release preset and runs the main job: zap-http serving the
# demo site (configs/site) on http://127.0.0.1:8080 with configs/http.json, until Ctrl-C.
#
#   scripts/run.sh                                   # zap-http, demo site
#   scripts/run.sh --root /path/to/site              # your files instead
#   scripts/run.sh --listen 0.0.0.0:8080 --log-level debug
#   Arguments are passed to zap-http (see --help), after --config configs/http.json.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target zap-http zap-echo zap-load

cat >&2 <<'MSG'
zap-http starting (Ctrl-C stops it, letting requests in progress finish).
Open http://127.0.0.1:8080/ in a browser, or from another terminal:
  curl -i http://127.0.0.1:8080/
  curl -r 0-99 http://127.0.0.1:8080/docs/ranges.txt
  curl http://127.0.0.1:9902/stats          # counters; /metrics for Prometheus
MSG
exec build/release/apps/zap-http/zap-http --config configs/http.json "$@"
