#!/usr/bin/env bash
# Where does Sluice's CPU go? Runs one scenario of run.sh or http.sh
# against Sluice's engine in-process under Go's profiler
# (bench/cmd/sluiceprof), with the same configuration, backend and load as
# the benchmark, then prints the top of the CPU profile. For idle and
# http-idle, prints the Go runtime's memory split with the connections
# open and a heap profile instead.
#
#   bench/profile.sh [SCENARIO] [-o DIR]      SCENARIO: exchange (default),
#                                             connect, bulk-down, bulk-up,
#                                             bulk-both, idle (run.sh's);
#                                             http-keepalive, http-close,
#                                             http-latency, http-idle (http.sh's)
#
# Settings as for run.sh (DURATION, CONNS, THREADS, ... in bench/lib.sh)
# or http.sh (its defaults, BACKEND_KIND; LAT_RATE for http-latency,
# default 10000 requests/s).
# The profiles stay in DIR (default: a temporary directory, printed) for
# `go tool pprof -http=: DIR/sluiceprof DIR/cpu.pprof`.
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIO=exchange
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  SCENARIO=$1
  shift
fi
L7=""
if [ "${SCENARIO#http-}" != "$SCENARIO" ]; then
  # http.sh's defaults, before lib.sh sets run.sh's.
  L7=${SCENARIO#http-}
  DURATION=${DURATION:-3}
  CONNS=${CONNS:-64}
  IDLE_CONNS=${IDLE_CONNS:-5000}
  LAT_RATE=${LAT_RATE:-10000}
  BACKEND_KIND=${BACKEND_KIND:-auto}
  NGINX=${NGINX:-/usr/sbin/nginx}
  LOADTOOL=l7load
fi
. bench/lib.sh
[ -z "$L7" ] || . bench/httplib.sh
OUTDIR=${OUTDIR:-}
while getopts "o:h" opt; do
  case $opt in
    o) OUTDIR=$OPTARG ;;
    *)
      sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
      exit 2
      ;;
  esac
done

setup_work
[ -n "$OUTDIR" ] || OUTDIR=$WORK
mkdir -p "$OUTDIR"
log "building the profiling wrapper and the load tools"
if [ -n "$L7" ]; then
  build ./bench/cmd/sluiceprof ./bench/cmd/l7load
else
  build ./bench/cmd/sluiceprof ./bench/cmd/l4load ./bench/cmd/l4backend
fi
cp "$BIN/sluiceprof" "$OUTDIR/sluiceprof"
raise_fd_limit
if [ -n "$L7" ]; then
  l7_backend_kind
  start_http_backend
else
  start_backend
fi
start_proxy sluiceprof "$BIN/sluiceprof" -cpuprofile "$OUTDIR/cpu.pprof" -memprofile "$OUTDIR/heap.pprof" -f
if [ -n "$L7" ]; then
  l7_args "$L7" sluice
  SCENARIO_ARGS=("${L7_ARGS[@]}")
else
  scenario_args "$SCENARIO"
  SCENARIO_ARGS+=(-label sluice)
fi

if [ "$SCENARIO" = idle ] || [ "$SCENARIO" = http-idle ]; then
  # Hold the connections open after measuring, and ask for the memory
  # split while they are.
  timeout "$(l4timeout)" "$BIN/$LOADTOOL" "${SCENARIO_ARGS[@]}" -hold 2s >"$WORK/idle.json" &
  load=$!
  for i in $(seq 600); do
    [ -s "$WORK/idle.json" ] && break
    sleep 0.1
  done
  kill -USR1 "$PROXY_PID"
  wait "$load"
  cat "$WORK/idle.json"
  stop_proxy
  sed -n '/: goroutines/p' "$WORK/sluiceprof.log"
  go tool pprof -top -sample_index=inuse_space -nodecount=25 "$OUTDIR/sluiceprof" "$OUTDIR/heap.pprof" 2>/dev/null | sed -n '1,35p'
else
  timeout "$(l4timeout)" "$BIN/$LOADTOOL" "${SCENARIO_ARGS[@]}"
  stop_proxy
  echo "-- flat: where the CPU is spent"
  go tool pprof -top -nodecount=35 "$OUTDIR/sluiceprof" "$OUTDIR/cpu.pprof" 2>/dev/null | sed -n '1,45p'
  echo "-- cumulative: what it is spent for"
  go tool pprof -top -cum -nodecount=35 "$OUTDIR/sluiceprof" "$OUTDIR/cpu.pprof" 2>/dev/null | sed -n '6,45p'
fi
log "profiles in $OUTDIR"
