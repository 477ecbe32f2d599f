#!/usr/bin/env bash
# Load run: zap-proxy against HAProxy (mode tcp) in front of the same zap-echo backend, driven by
# the same zap-load settings, in interleaved rounds, reporting the median requests/s through each
# proxy, zap-proxy's ratio, and requests per second of proxy CPU.
#
#   loadtest/proxy.sh                        # 5 rounds x 5 s, 64 connections, 64-byte messages
#   RUNS=3 DURATION=3 loadtest/proxy.sh      # quicker
#   SIZE=16384 loadtest/proxy.sh             # bigger messages: bytes, not syscalls, dominate
#   PER_CONNECTION=1 loadtest/proxy.sh       # a new connection per request: accept, connect to
#                                            # the backend and close, every time
#   HAPROXY_OPTIONS="option splice-auto" loadtest/proxy.sh   # HAProxy with extra defaults lines
#
# Placement (2 cores): the proxy under test gets PROXY_CPUS with PROXY_THREADS threads (HAProxy:
# nbthread), the zap-echo backend and zap-load share BACKEND_CPUS. Both proxies run with health
# checks off (a check per interval is noise here) and one backend.
# Needs: zap-proxy, zap-echo, zap-load built; haproxy (scripts/setup.sh --bench); python3,
# taskset.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-64}
SIZE=${SIZE:-64}
PER_CONNECTION=${PER_CONNECTION:-0}  # zap-load -k: requests per connection, 0 = one for the run
PROXY_CPUS=${PROXY_CPUS:-0}
PROXY_THREADS=${PROXY_THREADS:-1}
BACKEND_CPUS=${BACKEND_CPUS:-1}
IO_BACKEND=${IO_BACKEND:-auto}
HAPROXY_OPTIONS=${HAPROXY_OPTIONS:-}  # extra lines for HAProxy's defaults, e.g. "option splice-auto"

PROXY=$BUILD/apps/zap-proxy/zap-proxy
ECHO=$BUILD/apps/zap-echo/zap-echo
LOAD=$BUILD/apps/zap-load/zap-load
HAPROXY=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
for binary in "$PROXY" "$ECHO" "$LOAD"; do
  [[ -x $binary ]] || { echo "missing $binary: build zap-proxy, zap-echo, zap-load" >&2; exit 1; }
done
[[ -x $HAPROXY ]] || { echo "missing haproxy: scripts/setup.sh --bench" >&2; exit 1; }

WORK=$(mktemp -d /tmp/zap-proxy-loadtest-XXXXXX)
PIDS=()
SERVER_PID=
cleanup() {
  for pid in "${PIDS[@]}" $SERVER_PID; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The backend: one zap-echo for every round and both proxies.
taskset -c "$BACKEND_CPUS" "$ECHO" --listen 127.0.0.1:0 --port-file "$WORK/echo.port" \
  --workers 1 --log-level warn --admin off &
PIDS+=($!)
for _ in $(seq 500); do [[ -s $WORK/echo.port ]] && break; sleep 0.01; done
BACKEND=$(head -1 "$WORK/echo.port")

# start_proxy NAME: starts it and sets SERVER_PID and ADDRESS.
start_proxy() {
  case $1 in
    zap-proxy)
      rm -f "$WORK/proxy.port"
      taskset -c "$PROXY_CPUS" "$PROXY" --listen 127.0.0.1:0 --port-file "$WORK/proxy.port" \
        --backend "$BACKEND" --no-health-check --workers "$PROXY_THREADS" \
        --io-backend "$IO_BACKEND" --log-level warn --admin off &
      SERVER_PID=$!
      for _ in $(seq 500); do [[ -s $WORK/proxy.port ]] && break; sleep 0.01; done
      ADDRESS=$(head -1 "$WORK/proxy.port");;
    haproxy)
      local port
      port=$(free_port)
      cat > "$WORK/haproxy.cfg" <<CONF
global
  nbthread $PROXY_THREADS
  maxconn 4096
defaults
  mode tcp
  timeout connect 3s
  timeout client 300s
  timeout server 300s
  $HAPROXY_OPTIONS
frontend front
  bind 127.0.0.1:$port
  default_backend back
backend back
  server echo $BACKEND
CONF
      taskset -c "$PROXY_CPUS" "$HAPROXY" -db -f "$WORK/haproxy.cfg" 2>"$WORK/haproxy.log" &
      SERVER_PID=$!
      ADDRESS=127.0.0.1:$port
      for _ in $(seq 500); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.1)" \
          2>/dev/null && break
        sleep 0.01
      done;;
  esac
}

server_cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$SERVER_PID/stat"
}

stop_proxy() {
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

for round in $(seq "$RUNS"); do
  if (( round % 2 )); then order=(zap-proxy haproxy); else order=(haproxy zap-proxy); fi
  for proxy in "${order[@]}"; do
    start_proxy "$proxy"
    cpu_before=$(server_cpu_seconds)
    taskset -c "$BACKEND_CPUS" "$LOAD" "$ADDRESS" -c "$CONNECTIONS" -s "$SIZE" -d "$DURATION" \
      -k "$PER_CONNECTION" -w 1 --no-progress --json "$WORK/$proxy.$round.json" > "$WORK/$proxy.$round.txt" ||
      { cat "$WORK/$proxy.$round.txt" >&2; exit 1; }
    python3 -c "print($(server_cpu_seconds) - $cpu_before)" > "$WORK/$proxy.$round.cpu"
    stop_proxy
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); l=r["latency_us"]; cpu=float(open(sys.argv[4]).read()); print("round %s %-9s %10.0f req/s  p99 %8.1f us  %10.0f req/cpu-s" % (sys.argv[2], sys.argv[3], r["requests_per_s"], l["p99"], r["requests"] / max(cpu, 1e-9)))' \
      "$WORK/$proxy.$round.json" "$round" "$proxy" "$WORK/$proxy.$round.cpu" >&2
  done
done

python3 - "$WORK" "$RUNS" "$CONNECTIONS" "$SIZE" "$DURATION" "$PER_CONNECTION" <<'PY'
import json, statistics, sys
work, runs, conns, size, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
per_connection = int(sys.argv[6])
proxies = ["zap-proxy", "haproxy"]
results = {p: [json.load(open(f"{work}/{p}.{r}.json")) for r in range(1, runs + 1)] for p in proxies}
cpu = {p: [float(open(f"{work}/{p}.{r}.cpu").read()) for r in range(1, runs + 1)] for p in proxies}
med = {p: statistics.median(r["requests_per_s"] for r in results[p]) for p in proxies}
eff = {p: statistics.median(r["requests"] / max(c, 1e-9) for r, c in zip(results[p], cpu[p]))
       for p in proxies}
p99 = {p: statistics.median(r["latency_us"]["p99"] for r in results[p]) for p in proxies}
errors = {p: sum(r.get("errors", 0) for r in results[p]) for p in proxies}
print(f"proxy load: zap-load echo through each proxy to one zap-echo, {conns} connections, "
      f"{size}-byte messages, {runs} x {duration} s, medians"
      + (f", a new connection every {per_connection} request(s)" if per_connection else ""))
print(f"{'proxy':10s} {'req/s':>10s} {'ratio':>7s} {'p99 us':>9s} {'req/cpu-s':>10s} {'ratio':>7s} {'errors':>7s}")
for p in proxies:
    print(f"{p:10s} {med[p]:10.0f} {med['zap-proxy'] / med[p]:6.2f}x {p99[p]:9.1f} {eff[p]:10.0f} "
          f"{eff['zap-proxy'] / eff[p]:6.2f}x {errors[p]:7d}")
PY
