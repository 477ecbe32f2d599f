#!/usr/bin/env bash
# Runs the zell benchmarks and their Go peers, and prints zell-vs-Go ratios.
#   bench/zell/run.sh [build-dir]      (default: build/zell; needs zell_vs_go and zell_runtime_bench)
# Requires `go` (Debian: golang-go). Times and RSS come from each program's own report.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build/zell}"
vs_go="$build/bench/zell/zell_vs_go"
[[ -x "$vs_go" ]] || { echo "missing $vs_go (cmake --build $build --target zell_vs_go)" >&2; exit 1; }
command -v go >/dev/null || { echo "go not found (apt-get install golang-go)" >&2; exit 1; }

gobin="$(mktemp -d)"
trap 'rm -rf "$gobin"' EXIT
(cd "$here/go" && for f in *.go; do go build -o "$gobin/${f%.go}" "$f"; done)

value() { awk -v k="$1" '$1 == k { print $2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

printf '%-12s %-18s %12s %12s %10s  %s\n' case metric zell go ratio goal
row() {  # case metric zell go ratio goal
  printf '%-12s %-18s %12s %12s %10s  %s\n' "$@"
}

z="$("$vs_go" spawn_join)"; g="$("$gobin/spawn_join")"
zt=$(value total_ms <<<"$z"); gt=$(value total_ms <<<"$g")
row spawn_join total_ms "$zt" "$gt" "$(ratio "$gt" "$zt")x" "go/zell >= 1.5"
zt=$(value handles_total_ms <<<"$z")
row spawn_join handles_total_ms "$zt" "$gt" "$(ratio "$gt" "$zt")x" "(1M JoinHandles held)"

z="$("$vs_go" pingpong)"; g="$("$gobin/pingpong")"
for k in rtt_p50_ns rtt_p99_ns pinned_rtt_p50_ns pinned_rtt_p99_ns; do
  zv=$(value $k <<<"$z"); gv=$(value ${k#pinned_} <<<"$g")
  row pingpong "$k" "$zv" "$gv" "$(ratio "$gv" "$zv")x" "$([[ $k == rtt_p50_ns ]] && echo 'go/zell >= 1')"
done

for c in skynet fib; do
  z="$("$vs_go" $c)"; g="$("$gobin/$c")"
  zt=$(value total_ms <<<"$z"); gt=$(value total_ms <<<"$g")
  zr=$(value peak_rss_kb <<<"$z"); gr=$(value peak_rss_kb <<<"$g")
  row $c total_ms "$zt" "$gt" "$(ratio "$gt" "$zt")x" "go/zell >= 2"
  row $c peak_rss_kb "$zr" "$gr" "$(ratio "$gr" "$zr")x" "go/zell >= 10"
done

z="$("$vs_go" timer)"; g="$("$gobin/timer")"
for k in err_p50_us err_p99_us; do
  row timer "$k" "$(value $k <<<"$z")" "$(value $k <<<"$g")" "" "$([[ $k == err_p99_us ]] && echo 'zell < 100')"
done
zr=$(value arm_cancel_per_s <<<"$z"); gr=$(value arm_cancel_per_s <<<"$g")
row timer arm_cancel_per_s "$zr" "$gr" "$(ratio "$zr" "$gr")x" "zell >= 1e7"

z="$("$vs_go" yield)"; g="$("$gobin/yield")"
zy=$(value yield_ns <<<"$z"); gy=$(value yield_ns <<<"$g")
row yield yield_ns "$zy" "$gy" "$(ratio "$gy" "$zy")x" ""

echo
echo "In-process peers (boost::asio::thread_pool):"
"$build/bench/zell/zell_runtime_bench" --benchmark_filter='SpawnJoin' 2>/dev/null | tail -4
