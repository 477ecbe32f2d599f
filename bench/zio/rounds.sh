#!/usr/bin/env bash
# Echo throughput, each server in its own process, in interleaved rounds: every round runs every
# server once, starting one server later than the round before, so that a slow spell of this
# shared machine hits all of them alike. Prints requests/s and the server's CPU time per request for each run, then the medians and
# the ratios to plain_epoll.
#
#   bench/zio/rounds.sh [BUILD_DIR] [ROUNDS] [REQUESTS]
#   CLIENT=uring_client (default; the batching io_uring client) or client (the epoll client)
#   SERVERS="io_uring io_uring_multishot epoll epoll_multishot plain_epoll" (default)
#
# The server runs on the first CPU the process may use, the client on the second (cpu_pinning.hpp);
# 64 connections, 64-byte messages.
set -euo pipefail
build=${1:-build/release}
rounds=${2:-5}
requests=${3:-300000}
client=${CLIENT:-uring_client}
servers=${SERVERS:-io_uring io_uring_multishot epoll epoll_multishot plain_epoll}
tool=$build/bench/zio/zio_echo_tool
[[ -x $tool ]] || { echo "build $tool first (cmake --build $build --target zio_echo_tool)" >&2; exit 1; }
hz=$(getconf CLK_TCK)
results=$(mktemp)
trap 'rm -f "$results"' EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of the whole process

run_one() {  # $1 = server, $2 = round; appends "<server> <req/s> <server µs per req> <round>"
  local impl=$1 round=$2 port line t0 t1
  coproc SERVER { exec "$tool" server "$impl"; }
  read -r port <&"${SERVER[0]}"
  "$tool" "$client" "$port" 64 64 20000 >/dev/null  # warm-up: connections accepted
  t0=$(cpu_ticks "$SERVER_PID")
  line=$("$tool" "$client" "$port" 64 64 "$requests")
  t1=$(cpu_ticks "$SERVER_PID")
  eval "exec ${SERVER[1]}>&-"  # closes the server's stdin: it exits
  wait "$SERVER_PID" 2>/dev/null || true
  local rate=${line##*: }
  rate=${rate%% *}
  echo "$impl $rate $(echo "($t1 - $t0) * 1000000 / $hz / $requests" | bc -l) $round" >>"$results"
}

echo "client $client, $rounds rounds x $requests requests, 64 connections x 64 B"
read -r -a order <<<"$servers"
for ((r = 1; r <= rounds; r++)); do
  for ((i = 0; i < ${#order[@]}; i++)); do run_one "${order[(i + r - 1) % ${#order[@]}]}" "$r"; done
  printf "round %d:" "$r"
  tail -n "${#order[@]}" "$results" | awk '{printf "  %s %.0f/s %.2fus", $1, $2, $3}'
  echo
done

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
base_rate=$(awk '$1 == "plain_epoll" {print $2}' "$results" | median)
base_cpu=$(awk '$1 == "plain_epoll" {print $3}' "$results" | median)
# "paired": the median of each round's ratio to plain_epoll in the same round, which cancels a
# slow spell that spans a whole round.
printf "\n%-20s %12s %14s %8s %14s %14s\n" server "req/s median" "vs plain_epoll" paired \
  "server us/req" "plain_epoll/it"
for impl in $servers; do
  rate=$(awk -v s="$impl" '$1 == s {print $2}' "$results" | median)
  cpu=$(awk -v s="$impl" '$1 == s {print $3}' "$results" | median)
  paired=$(awk -v s="$impl" '$1 == "plain_epoll" {base[$4] = $2} $1 == s {mine[$4] = $2}
                             END {for (r in mine) print mine[r] / base[r]}' "$results" | median)
  printf "%-20s %12.0f %13.2fx %7.2fx %14.2f %13.2fx\n" "$impl" "$rate" \
    "$(echo "$rate / $base_rate" | bc -l)" "$paired" "$cpu" "$(echo "$base_cpu / $cpu" | bc -l)"
done
