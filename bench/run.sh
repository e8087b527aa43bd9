#!/usr/bin/env bash
# Side-by-side Layer 4 benchmark of Sluice against HAProxy: the same
# configuration text, the same backend, the same load, one proxy at a time,
# and a table of Sluice/HAProxy ratios. See bench/README.md.
#
#   bench/run.sh [-d SECS] [-c CONNS] [-t THREADS] [-r ROUNDS] [-s "SCENARIOS"] [-o DIR]
#
# Every flag has an environment variable twin (DURATION, CONNS, THREADS,
# ROUNDS, SCENARIOS, OUTDIR); flags win. More variables in bench/lib.sh.
set -euo pipefail
CMDLINE=bench/run.sh
[ $# -eq 0 ] || CMDLINE+=$(printf ' %q' "$@")
cd "$(dirname "$0")/.."
. bench/lib.sh

ROUNDS=${ROUNDS:-1} # repeat everything; the table shows medians
SCENARIOS=${SCENARIOS:-"exchange connect bulk-down bulk-both idle"}
OUTDIR=${OUTDIR:-} # keep results here (default: a temporary directory)

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  echo
  echo "Now: DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS BULK_CONNS=$BULK_CONNS"
  echo "IDLE_CONNS=$IDLE_CONNS SIZE=$SIZE THREADS=$THREADS MAXCONN=$MAXCONN ROUNDS=$ROUNDS"
  echo "HAPROXY=$HAPROXY OUTDIR=$OUTDIR DEFAULTS_EXTRA=\"$DEFAULTS_EXTRA\""
  echo "SCENARIOS=\"$SCENARIOS\" (all: exchange connect bulk-down bulk-up bulk-both idle)"
  exit "${1:-0}"
}

while getopts "d:c:t:r:s:o:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    c) CONNS=$OPTARG ;;
    t) THREADS=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    s) SCENARIOS=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    h) usage 0 ;;
    *) usage 2 ;;
  esac
done

if ! command -v "$HAPROXY" >/dev/null; then
  echo "run.sh: no haproxy at $HAPROXY (apt-get install haproxy, or set HAPROXY)" >&2
  exit 1
fi
setup_work
[ -n "$OUTDIR" ] || OUTDIR=$WORK
mkdir -p "$OUTDIR"
RESULTS=$OUTDIR/results.jsonl
: >"$RESULTS"

log "building sluice and the load tools"
build ./cmd/sluice ./bench/cmd/l4load ./bench/cmd/l4backend
raise_fd_limit
start_backend

# run_one SCENARIO PROXY: a fresh proxy, one measurement appended to the
# results, the proxy stopped.
run_one() {
  case $2 in
    haproxy) start_proxy haproxy "$HAPROXY" -db -f ;;
    sluice) start_proxy sluice "$BIN/sluice" -db -f ;;
  esac
  scenario_args "$1"
  local line
  if ! line=$(timeout "$(l4timeout)" "$BIN/l4load" "${SCENARIO_ARGS[@]}" -label "$2"); then
    echo "run.sh: $1 through $2 failed; its log:" >&2
    cat "$WORK/$2.log" >&2
    exit 1
  fi
  echo "$line" >>"$RESULTS"
  echo "$line" | sed 's/^/   /' >&2
  stop_proxy
}

for round in $(seq "$ROUNDS"); do
  # Alternate which proxy goes first, so drift on the machine does not
  # always favour the same one.
  order="haproxy sluice"
  [ $((round % 2)) -eq 0 ] && order="sluice haproxy"
  for sc in $SCENARIOS; do
    for p in $order; do
      log "round $round/$ROUNDS: $sc through $p"
      run_one "$sc" "$p"
    done
  done
done

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
{
  echo "Sluice Layer 4 benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sed -n 1p), $(uname -sr)"
  echo "- haproxy: $("$HAPROXY" -v | sed -n 1p)"
  echo "- sluice: commit $COMMIT$DIRTY, $(go version | cut -d' ' -f3)"
  echo "- command: $CMDLINE"
  settings="DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS BULK_CONNS=$BULK_CONNS IDLE_CONNS=$IDLE_CONNS"
  settings+=" SIZE=$SIZE THREADS=$THREADS MAXCONN=$MAXCONN ROUNDS=$ROUNDS"
  [ -z "$DEFAULTS_EXTRA" ] || settings+=" DEFAULTS_EXTRA=\"$DEFAULTS_EXTRA\""
  echo "- settings: $settings"
  echo
  "$BIN/l4load" report -base haproxy -cand sluice "$RESULTS"
  echo
  echo "Ratios are sluice/haproxy: for a cost (CPU, memory, descriptors) above 1 means"
  echo "Sluice spends more; for a throughput above 1 means Sluice is faster."
} | tee "$OUTDIR/table.md"
cp "$WORK/bench.cfg" "$OUTDIR/bench.cfg" 2>/dev/null || true
log "results (JSON lines, table, configuration) in $OUTDIR"
