#!/usr/bin/env bash
# Load run: zap-http against nginx serving the same files, driven by the same wrk settings, in
# interleaved rounds, reporting the median requests/s of each server per file size, zap-http's
# ratio, and requests per second of server CPU.
#
#   loadtest/http.sh                          # 5 rounds x 5 s, 64 connections, 3 file sizes
#   RUNS=3 DURATION=3 loadtest/http.sh        # quicker
#   SIZES="1024" CONNECTIONS=256 loadtest/http.sh
#   BUILD=build/release loadtest/http.sh      # binaries from another build tree
#
# Both servers get SERVER_CPUS with SERVER_WORKERS workers (nginx: worker_processes), wrk gets
# LOAD_CPUS with LOAD_THREADS threads. nginx is configured as one would tune it for static files
# (sendfile, tcp_nopush, open_file_cache, no access log, keepalive_requests as zap-http's) so
# the comparison is with nginx at its best, not its defaults.
# Needs: zap-http built, nginx and wrk (scripts/setup.sh --bench), python3, taskset.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-64}
SIZES=${SIZES:-"1024 65536 1048576"}
SERVER_CPUS=${SERVER_CPUS:-0}
SERVER_WORKERS=${SERVER_WORKERS:-1}
LOAD_CPUS=${LOAD_CPUS:-1}
LOAD_THREADS=${LOAD_THREADS:-1}
IO_BACKEND=${IO_BACKEND:-auto}

HTTP=$BUILD/apps/zap-http/zap-http
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[[ -x $HTTP ]] || { echo "missing $HTTP: build zap-http first" >&2; exit 1; }
[[ -x $NGINX ]] || { echo "missing nginx: scripts/setup.sh --bench" >&2; exit 1; }
command -v wrk >/dev/null || { echo "missing wrk: scripts/setup.sh" >&2; exit 1; }

WORK=$(mktemp -d /tmp/zap-http-loadtest-XXXXXX)
chmod 755 "$WORK"
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/www"
for size in $SIZES; do head -c "$size" /dev/urandom > "$WORK/www/f$size.bin"; done

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# One nginx process (master_process off: the process is the worker, so its CPU is all of nginx's).
write_nginx_conf() {
  cat > "$WORK/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes $SERVER_WORKERS;
error_log $WORK/nginx-error.log warn;
pid $WORK/nginx.pid;
events { worker_connections 10240; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 10000;
  keepalive_timeout 60s;
  open_file_cache max=4096 inactive=20s;
  open_file_cache_valid 1s;
  types { application/octet-stream bin; }
  client_body_temp_path $WORK/nginx-body;
  proxy_temp_path $WORK/nginx-proxy;
  fastcgi_temp_path $WORK/nginx-fastcgi;
  uwsgi_temp_path $WORK/nginx-uwsgi;
  scgi_temp_path $WORK/nginx-scgi;
  server {
    listen 127.0.0.1:$1 reuseport;
    root $WORK/www;
  }
}
CONF
}

# start_server NAME: starts it and sets SERVER_PID and ADDRESS.
start_server() {
  case $1 in
    zap-http)
      local ports=$WORK/http.port
      rm -f "$ports"
      taskset -c "$SERVER_CPUS" "$HTTP" --root "$WORK/www" --listen 127.0.0.1:0 \
        --port-file "$ports" --workers "$SERVER_WORKERS" --io-backend "$IO_BACKEND" \
        --log-level warn --admin off &
      SERVER_PID=$!
      for _ in $(seq 500); do [[ -s $ports ]] && break; sleep 0.01; done
      ADDRESS=$(head -1 "$ports");;
    nginx)
      local port
      port=$(free_port)
      write_nginx_conf "$port"
      taskset -c "$SERVER_CPUS" "$NGINX" -p "$WORK" -c "$WORK/nginx.conf" 2>>"$WORK/nginx-error.log" &
      SERVER_PID=$!
      ADDRESS=127.0.0.1:$port
      for _ in $(seq 500); do
        curl -s -o /dev/null "http://$ADDRESS/" && break
        sleep 0.01
      done;;
  esac
}

server_cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$SERVER_PID/stat"
}

stop_server() {
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

SERVERS=(zap-http nginx)
for round in $(seq "$RUNS"); do
  for size in $SIZES; do
    # Rotate the order each round so neither server always runs first on a warm machine.
    if (( round % 2 )); then order=("${SERVERS[@]}"); else order=(nginx zap-http); fi
    for server in "${order[@]}"; do
      start_server "$server"
      url="http://$ADDRESS/f$size.bin"
      curl -sf -o "$WORK/check.bin" "$url" && cmp -s "$WORK/check.bin" "$WORK/www/f$size.bin" ||
        { echo "$server served a wrong f$size.bin" >&2; exit 1; }
      cpu_before=$(server_cpu_seconds)
      taskset -c "$LOAD_CPUS" wrk -t "$LOAD_THREADS" -c "$CONNECTIONS" -d "${DURATION}s" \
        --latency "$url" > "$WORK/$server.$size.$round.txt"
      cpu=$(python3 -c "print($(server_cpu_seconds) - $cpu_before)")
      stop_server
      python3 - "$WORK/$server.$size.$round.txt" "$cpu" "$WORK/$server.$size.$round.json" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
def number(pattern, scale=1.0):
    m = re.search(pattern, text)
    return float(m.group(1)) * scale if m else 0.0
units = {"us": 1.0, "ms": 1000.0, "s": 1e6}
p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
requests = number(r"(\d+) requests in")
errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
errors += int(number(r"Non-2xx or 3xx responses: (\d+)"))
json.dump({"rps": number(r"Requests/sec:\s+([\d.]+)"), "requests": requests,
           "p99_us": float(p99.group(1)) * units[p99.group(2)] if p99 else 0.0,
           "cpu_s": float(sys.argv[2]), "errors": errors}, open(sys.argv[3], "w"))
PY
      python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("round %s %-8s %8s B %10.0f req/s  p99 %8.1f us  %10.0f req/cpu-s  errors %d" % (sys.argv[2], sys.argv[3], sys.argv[4], r["rps"], r["p99_us"], r["requests"] / max(r["cpu_s"], 1e-9), r["errors"]))' \
        "$WORK/$server.$size.$round.json" "$round" "$server" "$size" >&2
    done
  done
done

python3 - "$WORK" "$RUNS" "$CONNECTIONS" "$DURATION" "$SIZES" <<'PY'
import json, statistics, sys
work, runs, conns, duration, sizes = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5].split()
print(f"http load: wrk, {conns} connections, {runs} x {duration} s per server and size, medians")
print(f"{'size':>9s} {'zap-http req/s':>15s} {'nginx req/s':>12s} {'ratio':>7s} {'p99 zap/nginx us':>18s} "
      f"{'req/cpu-s ratio':>16s} {'errors':>7s}")
for size in sizes:
    r = {s: [json.load(open(f"{work}/{s}.{size}.{i}.json")) for i in range(1, runs + 1)]
         for s in ("zap-http", "nginx")}
    med = {s: statistics.median(x["rps"] for x in r[s]) for s in r}
    p99 = {s: statistics.median(x["p99_us"] for x in r[s]) for s in r}
    eff = {s: statistics.median(x["requests"] / max(x["cpu_s"], 1e-9) for x in r[s]) for s in r}
    errors = sum(x["errors"] for s in r for x in r[s])
    print(f"{size:>9s} {med['zap-http']:15.0f} {med['nginx']:12.0f} {med['zap-http'] / med['nginx']:6.2f}x "
          f"{p99['zap-http']:8.0f}/{p99['nginx']:<8.0f} {eff['zap-http'] / eff['nginx']:15.2f}x {errors:7d}")
PY
