#!/usr/bin/env bash
# Alternating A/B of proxy binaries on one scenario: each round runs every
# binary in turn, with the configuration, backend and load of run.sh
# (l4) or http.sh (l7, with l7load's Go backend), and prints one line per
# run: round, binary, and the result's rate and CPU per operation (or RSS
# per idle connection). Running the binaries alternately, round after
# round, is how a change is told from the machine's noise on a shared
# machine.
#
#   bench/ab.sh l4|l7 SCENARIO ROUNDS BINARY...
#
# SCENARIO: l4: exchange, connect, bulk-down, bulk-both, idle; l7:
# keepalive, close, latency (at LAT_RATE requests/s, default 10000), idle.
# BINARY: haproxy, or the path of a Sluice binary (build them first, e.g.
# from two worktrees). The settings of lib.sh (DURATION, CONNS, ...)
# apply; BACKEND_KIND=nginx puts nginx behind the proxies, as http.sh
# does by default.
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
LAYER=$1 SCEN=$2 ROUNDS=$3
shift 3
cd "$(dirname "$0")/.."
if [ "$LAYER" = l7 ]; then
  CONNS=${CONNS:-64}
  IDLE_CONNS=${IDLE_CONNS:-5000}
  LOADTOOL=l7load
  BACKEND_KIND=${BACKEND_KIND:-go}
  NGINX=${NGINX:-/usr/sbin/nginx}
  LAT_RATE=${LAT_RATE:-10000}
fi
. bench/lib.sh
[ "$LAYER" = l4 ] || . bench/httplib.sh
setup_work
raise_fd_limit
if [ "$LAYER" = l7 ]; then
  build ./bench/cmd/l7load
  start_http_backend
else
  build ./bench/cmd/l4load ./bench/cmd/l4backend
  start_backend
fi
for r in $(seq "$ROUNDS"); do
  for bin in "$@"; do
    [ "$bin" = haproxy ] && bin=$HAPROXY
    start_proxy ab "$bin" -db -f
    if [ "$LAYER" = l7 ]; then
      l7_args "$SCEN" ab
      args=("${L7_ARGS[@]}")
    else
      scenario_args "$SCEN"
      args=("${SCENARIO_ARGS[@]}")
    fi
    res=$("$BIN/$LOADTOOL" "${args[@]}" 2>"$WORK/load.log") || cat "$WORK/load.log" >&2
    stop_proxy
    echo "$r $bin $(grep -o '"rate":[0-9.]*\|"cpu_us_per_op":[0-9.]*\|"p50_us":[0-9.]*\|"p99_us":[0-9.]*\|"kib_per_conn":[0-9.]*' <<<"$res" | tr '\n' ' ')"
  done
done
