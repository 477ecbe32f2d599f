#!/usr/bin/env bash
# Load run: zap-echo against its peers -- a Go echo (goroutine + io.Copy per connection) and a
# plain C epoll echo -- driven by the same zap-load settings, in interleaved rounds, reporting the
# median requests/s of each server and zap-echo's ratio to each peer.
#
#   loadtest/echo.sh                         # 5 rounds x 5 s, 64 connections, 64-byte messages
#   RUNS=3 DURATION=2 loadtest/echo.sh       # quicker
#   BUILD=/path/to/build loadtest/echo.sh    # binaries from another tree (default: build/release)
#
# Placement (2-core default): every server gets SERVER_CPUS with SERVER_THREADS threads/workers,
# zap-load gets LOAD_CPUS with LOAD_WORKERS workers, so the servers compete on equal terms.
# Needs: zap-echo and zap-load built (cmake --build BUILD --target zap-echo zap-load), go
# (Debian: golang-go), cc, python3, bc, taskset.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-64}
SIZE=${SIZE:-64}
PIPELINE=${PIPELINE:-1}
SERVER_CPUS=${SERVER_CPUS:-0}
SERVER_THREADS=${SERVER_THREADS:-1}
LOAD_CPUS=${LOAD_CPUS:-1}
LOAD_WORKERS=${LOAD_WORKERS:-1}
IO_BACKEND=${IO_BACKEND:-auto}

ECHO=$BUILD/apps/zap-echo/zap-echo
LOAD=$BUILD/apps/zap-load/zap-load
for binary in "$ECHO" "$LOAD"; do
  [[ -x $binary ]] || { echo "missing $binary: build zap-echo and zap-load first" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/zap-loadtest-XXXXXX)
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "building the peers in $WORK ..." >&2
cc -O2 -o "$WORK/epoll_echo" "$ROOT/loadtest/epoll_echo.c" -lpthread
cc -O2 -o "$WORK/syscall_cost" "$ROOT/loadtest/syscall_cost.c"
(cd "$ROOT/loadtest/go" && GOCACHE=${GOCACHE:-$WORK/gocache} go build -o "$WORK/go_echo" .)

# start_server NAME: starts it on port 0 and sets SERVER_PID and ADDRESS.
start_server() {
  local ports=$WORK/$1.port
  rm -f "$ports"
  case $1 in
    zap-echo)
      taskset -c "$SERVER_CPUS" "$ECHO" --listen 127.0.0.1:0 --port-file "$ports" \
        --workers "$SERVER_THREADS" --io-backend "$IO_BACKEND" --log-level warn &;;
    go)
      GOMAXPROCS=$SERVER_THREADS taskset -c "$SERVER_CPUS" "$WORK/go_echo" \
        -listen 127.0.0.1:0 -port-file "$ports" &;;
    epoll)
      taskset -c "$SERVER_CPUS" "$WORK/epoll_echo" -l 127.0.0.1:0 -t "$SERVER_THREADS" \
        -p "$ports" &;;
  esac
  SERVER_PID=$!
  for _ in $(seq 500); do [[ -s $ports ]] && break; sleep 0.01; done
  ADDRESS=$(head -1 "$ports")
}

# Server CPU seconds so far (user + system), from /proc: requests per CPU-second is the fairer
# number when the load generator, not the server, may be what limits requests/s.
server_cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$SERVER_PID/stat"
}

stop_server() {
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

SERVERS=(zap-echo go epoll)
for round in $(seq "$RUNS"); do
  for server in "${SERVERS[@]}"; do
    start_server "$server"
    cpu_before=$(server_cpu_seconds)
    taskset -c "$LOAD_CPUS" "$LOAD" "$ADDRESS" -c "$CONNECTIONS" -s "$SIZE" -p "$PIPELINE" \
      -d "$DURATION" -w "$LOAD_WORKERS" --no-progress --json "$WORK/$server.$round.json" \
      > "$WORK/$server.$round.txt" || { cat "$WORK/$server.$round.txt" >&2; exit 1; }
    echo "$(server_cpu_seconds) - $cpu_before" | bc -l > "$WORK/$server.$round.cpu"
    stop_server
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); l=r["latency_us"]; cpu=float(open(sys.argv[4]).read()); print("round %s %-9s %10.0f req/s  p99 %8.1f us  %10.0f req/cpu-s" % (sys.argv[2], sys.argv[3], r["requests_per_s"], l["p99"], r["requests"] / max(cpu, 1e-9)))' \
      "$WORK/$server.$round.json" "$round" "$server" "$WORK/$server.$round.cpu" >&2
  done
done

# The machine's price of a system call, which the epoll peers pay 2-3 times per request: ratios
# against them are only comparable between machines (or kernels: pti=on) that charge alike.
SYSCALL_NS=$(taskset -c "$SERVER_CPUS" "$WORK/syscall_cost")
python3 - "$WORK" "$RUNS" "$CONNECTIONS" "$SIZE" "$DURATION" "$SYSCALL_NS" <<'PY'
import json, statistics, sys
work, runs, conns, size, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
servers = ["zap-echo", "go", "epoll"]
results = {s: [json.load(open(f"{work}/{s}.{r}.json")) for r in range(1, runs + 1)] for s in servers}
med = {s: statistics.median(r["requests_per_s"] for r in results[s]) for s in servers}
cpu = {s: [float(open(f"{work}/{s}.{r}.cpu").read()) for r in range(1, runs + 1)] for s in servers}
eff = {s: statistics.median(r["requests"] / max(c, 1e-9) for r, c in zip(results[s], cpu[s]))
       for s in servers}
p99 = {s: statistics.median(r["latency_us"]["p99"] for r in results[s]) for s in servers}
print(f"echo load: {conns} connections, {size}-byte messages, {runs} x {duration} s, medians; "
      f"a null system call costs {sys.argv[6]} ns here")
print(f"{'server':10s} {'req/s':>10s} {'ratio':>7s} {'p99 us':>9s} {'req/cpu-s':>10s} {'ratio':>7s}")
for s in servers:
    ratio = med["zap-echo"] / med[s] if med[s] else float("nan")
    eff_ratio = eff["zap-echo"] / eff[s] if eff[s] else float("nan")
    print(f"{s:10s} {med[s]:10.0f} {ratio:6.2f}x {p99[s]:9.1f} {eff[s]:10.0f} {eff_ratio:6.2f}x")
print(f"goals (req/s): >= 1.5x go ({med['zap-echo']/med['go']:.2f}x), "
      f">= 1.2x epoll ({med['zap-echo']/med['epoll']:.2f}x)")
PY
