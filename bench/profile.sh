#!/usr/bin/env bash
# Where does Sluice's CPU go? Runs one scenario of run.sh against Sluice's
# engine in-process under Go's profiler (bench/cmd/sluiceprof), with the
# same configuration, backend and load as run.sh, then prints the top of
# the CPU profile. For idle, prints the Go runtime's memory split with the
# connections open and a heap profile instead.
#
#   bench/profile.sh [SCENARIO] [-o DIR]      SCENARIO: exchange (default),
#                                             connect, bulk-down, bulk-up,
#                                             bulk-both, idle
#
# Settings as for run.sh (DURATION, CONNS, THREADS, ... in bench/lib.sh).
# The profiles stay in DIR (default: a temporary directory, printed) for
# `go tool pprof -http=: DIR/sluiceprof DIR/cpu.pprof`.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

SCENARIO=exchange
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  SCENARIO=$1
  shift
fi
OUTDIR=${OUTDIR:-}
while getopts "o:h" opt; do
  case $opt in
    o) OUTDIR=$OPTARG ;;
    *)
      sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
      exit 2
      ;;
  esac
done

setup_work
[ -n "$OUTDIR" ] || OUTDIR=$WORK
mkdir -p "$OUTDIR"
log "building the profiling wrapper and the load tools"
build ./bench/cmd/sluiceprof ./bench/cmd/l4load ./bench/cmd/l4backend
cp "$BIN/sluiceprof" "$OUTDIR/sluiceprof"
raise_fd_limit
start_backend
start_proxy sluiceprof "$BIN/sluiceprof" -cpuprofile "$OUTDIR/cpu.pprof" -memprofile "$OUTDIR/heap.pprof" -f
scenario_args "$SCENARIO"

if [ "$SCENARIO" = idle ]; then
  # Hold the connections open after measuring, and ask for the memory
  # split while they are.
  timeout "$(l4timeout)" "$BIN/l4load" "${SCENARIO_ARGS[@]}" -label sluice -hold 2s >"$WORK/idle.json" &
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
  timeout "$(l4timeout)" "$BIN/l4load" "${SCENARIO_ARGS[@]}" -label sluice
  stop_proxy
  echo "-- flat: where the CPU is spent"
  go tool pprof -top -nodecount=35 "$OUTDIR/sluiceprof" "$OUTDIR/cpu.pprof" 2>/dev/null | sed -n '1,45p'
  echo "-- cumulative: what it is spent for"
  go tool pprof -top -cum -nodecount=35 "$OUTDIR/sluiceprof" "$OUTDIR/cpu.pprof" 2>/dev/null | sed -n '6,45p'
fi
log "profiles in $OUTDIR"
