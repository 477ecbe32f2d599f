#!/usr/bin/env bash
# Counts the echo server's syscalls per request for each implementation: starts
# `zio_echo_tool server IMPL`, drives it with the ping-pong client (64 connections, 64-byte
# messages), and counts the server process's syscalls with perf (raw_syscalls:sys_enter), or
# strace -c -f when perf cannot. Usage: bench/zio/syscalls.sh [BUILD_DIR] [REQUESTS]
set -euo pipefail
build=${1:-build/zio}
requests=${2:-200000}
tool=$build/bench/zio/zio_echo_tool
[[ -x $tool ]] || { echo "build $tool first (cmake --build $build --target zio_echo_tool)" >&2; exit 1; }

count_syscalls() {  # $1 = pid; runs the client meanwhile; prints "<syscalls> <client line>"
  local pid=$1 port=$2 out
  if perf stat -e raw_syscalls:sys_enter -p "$pid" true >/dev/null 2>&1; then
    out=$( { perf stat -x, -e raw_syscalls:sys_enter -p "$pid" -- \
               "$tool" client "$port" 64 64 "$requests" 1>&3; } 2>&1 3>/tmp/zio-client.$$ )
    echo "$(echo "$out" | grep raw_syscalls | cut -d, -f1) $(cat /tmp/zio-client.$$)"
  else
    strace -c -f -p "$pid" -o /tmp/zio-strace.$$ & local spid=$!
    sleep 0.5
    local line; line=$("$tool" client "$port" 64 64 "$requests")
    kill -INT $spid; wait $spid || true
    echo "$(awk '/total/ {print $4}' /tmp/zio-strace.$$) $line"
  fi
  rm -f /tmp/zio-client.$$ /tmp/zio-strace.$$
}

printf "%-20s %12s %10s  %s\n" impl syscalls "per req" client
for impl in io_uring io_uring_multishot epoll epoll_multishot plain_epoll; do
  coproc SERVER { exec "$tool" server "$impl"; }
  read -r port <&"${SERVER[0]}"
  "$tool" client "$port" 64 64 20000 >/dev/null  # warm-up
  read -r calls line < <(count_syscalls "$SERVER_PID" "$port")
  printf "%-20s %12s %10.3f  %s\n" "$impl" "$calls" "$(echo "$calls / $requests" | bc -l)" "$line"
  eval "exec ${SERVER[1]}>&-"  # closes the server's stdin: it exits
  wait "$SERVER_PID" 2>/dev/null || true
done
