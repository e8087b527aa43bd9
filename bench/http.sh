#!/usr/bin/env bash
# Side-by-side Layer 7 benchmark of Sluice against HAProxy, with nginx as
# a second yardstick: the same HTTP configuration text for Sluice and
# HAProxy (nginx gets its equivalent), the same backend, the same load,
# one proxy at a time, and a table of ratios to HAProxy. See
# bench/README.md.
#
#   bench/http.sh [-d SECS] [-c CONNS] [-r ROUNDS] [-s "SCENARIOS"] [-p "PROXIES"] [-o DIR]
#
# Every flag has an environment variable twin (DURATION, CONNS, ROUNDS,
# SCENARIOS, PROXIES, OUTDIR); flags win. More variables below and in
# bench/lib.sh.
set -euo pipefail
CMDLINE=bench/http.sh
[ $# -eq 0 ] || CMDLINE+=$(printf ' %q' "$@")
cd "$(dirname "$0")/.."

# Layer 7 defaults, before lib.sh sets the Layer 4 ones.
DURATION=${DURATION:-3}
CONNS=${CONNS:-64}
IDLE_CONNS=${IDLE_CONNS:-5000}
LOADTOOL=l7load
. bench/lib.sh
. bench/httplib.sh

ROUNDS=${ROUNDS:-3}                                    # repeat everything; the table shows medians
SCENARIOS=${SCENARIOS:-"keepalive close latency idle"} # which ones, in order
PROXIES=${PROXIES:-"haproxy sluice nginx"}             # haproxy is the base of the ratios
BACKEND_KIND=${BACKEND_KIND:-auto}                     # nginx, go, or auto: nginx when installed
LAT_LOAD=${LAT_LOAD:-0.5}                              # latency: this share of HAProxy's keep-alive rate...
LAT_RATE=${LAT_RATE:-}                                 # ...unless a rate (requests/s) is given
NGINX=${NGINX:-/usr/sbin/nginx}
OUTDIR=${OUTDIR:-} # keep results here (default: a temporary directory)

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  echo
  echo "Now: DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS IDLE_CONNS=$IDLE_CONNS THREADS=$THREADS"
  echo "MAXCONN=$MAXCONN ROUNDS=$ROUNDS BACKEND_KIND=$BACKEND_KIND LAT_LOAD=$LAT_LOAD LAT_RATE=$LAT_RATE"
  echo "HAPROXY=$HAPROXY NGINX=$NGINX OUTDIR=$OUTDIR DEFAULTS_EXTRA=\"$DEFAULTS_EXTRA\""
  echo "SCENARIOS=\"$SCENARIOS\" (all: keepalive close latency idle)"
  echo "PROXIES=\"$PROXIES\" (haproxy first: the others are compared to it)"
  exit "${1:-0}"
}

while getopts "d:c:t:r:s:p:o:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    c) CONNS=$OPTARG ;;
    t) THREADS=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    s) SCENARIOS=$OPTARG ;;
    p) PROXIES=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    h) usage 0 ;;
    *) usage 2 ;;
  esac
done

# Nothing is installed here: say what is missing and how to get it.
if ! command -v "$HAPROXY" >/dev/null; then
  echo "http.sh: no haproxy at $HAPROXY (apt-get install haproxy, or set HAPROXY)" >&2
  exit 1
fi
l7_backend_kind
if [ $have_nginx = 0 ]; then
  if [ "$BACKEND_KIND" = nginx ]; then
    echo "http.sh: no nginx at $NGINX for the backend (apt-get install nginx, set NGINX, or BACKEND_KIND=go)" >&2
    exit 1
  fi
  if [[ " $PROXIES " == *" nginx "* ]]; then
    log "no nginx at $NGINX (apt-get install nginx): nginx left out of the comparison, Go backend"
    PROXIES=${PROXIES//nginx/}
  fi
fi

if [[ " $PROXIES " != *" haproxy "* ]]; then
  echo "http.sh: PROXIES must include haproxy, the base of the ratios" >&2
  exit 2
fi

setup_work
[ -n "$OUTDIR" ] || OUTDIR=$WORK
mkdir -p "$OUTDIR"
RESULTS=$OUTDIR/results.jsonl
: >"$RESULTS"

log "building sluice and the load tool"
build ./cmd/sluice ./bench/cmd/l7load
raise_fd_limit

# run_one SCENARIO PROXY: a fresh proxy, one measurement appended to the
# results, the proxy stopped.
run_one() {
  case $2 in
    haproxy) start_proxy haproxy "$HAPROXY" -db -f ;;
    sluice) start_proxy sluice "$BIN/sluice" -db -f ;;
    nginx) start_proxy nginx nginx_exec_proxy ;;
    *) echo "http.sh: unknown proxy $2 (haproxy sluice nginx)" >&2 && exit 2 ;;
  esac
  l7_args "$1" "$2"
  local line
  if ! line=$(timeout "$(l4timeout)" "$BIN/l7load" "${L7_ARGS[@]}"); then
    echo "http.sh: $1 through $2 failed; its log:" >&2
    cat "$WORK/$2.log" "$WORK/ngx-proxy/error.log" 2>/dev/null >&2
    exit 1
  fi
  echo "$line" >>"$RESULTS"
  echo "$line" | sed 's/^/   /' >&2
  stop_proxy
}

# latency_rate: sets the latency scenario's rate (LAT_RATE) at its first
# use: LAT_LOAD times HAProxy's keep-alive rate as measured so far (the
# first round's, as keepalive comes first), or from a calibration run of
# HAProxy when keepalive is not among the scenarios.
latency_rate() {
  if [ -z "$LAT_RATE" ]; then
    local peak
    if ! peak=$("$BIN/l7load" rate -label haproxy -scenario http-keepalive "$RESULTS" 2>/dev/null); then
      log "calibration: HAProxy's keep-alive rate, for the latency scenario's"
      local saved=$RESULTS
      RESULTS=$WORK/calibration.jsonl
      run_one keepalive haproxy >&2
      RESULTS=$saved
      peak=$("$BIN/l7load" rate -label haproxy -scenario http-keepalive "$WORK/calibration.jsonl")
    fi
    LAT_RATE=$(awk -v p="$peak" -v l="$LAT_LOAD" 'BEGIN { printf "%.0f", p * l }')
    log "latency at $LAT_RATE requests/s ($LAT_LOAD x HAProxy's $peak)"
  fi
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
start_http_backend
for round in $(seq "$ROUNDS"); do
  # Alternate the order of the proxies, so that drift on the machine
  # does not always favour the same one. HAProxy goes first in the
  # first round, so the latency scenario's rate is known when needed.
  order=$PROXIES
  [ $((round % 2)) -eq 0 ] && order=$(echo "$PROXIES" | tr ' ' '\n' | tac | tr '\n' ' ')
  for sc in $SCENARIOS; do
    [ "$sc" != latency ] || latency_rate
    for p in $order; do
      log "round $round/$ROUNDS: $sc through $p"
      run_one "$sc" "$p"
    done
  done
done

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
cands=$(echo "$PROXIES" | tr ' ' '\n' | grep -v '^haproxy$' | grep . | paste -sd, -)
{
  echo "Sluice Layer 7 benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sed -n 1p), $(uname -sr)"
  echo "- haproxy: $("$HAPROXY" -v | sed -n 1p)"
  [ $have_nginx = 0 ] || echo "- nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
  echo "- sluice: commit $COMMIT$DIRTY, $(go version | cut -d' ' -f3)"
  echo "- backend: $BACKEND_KIND"
  echo "- load average (1, 5, 15 min) before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- command: $CMDLINE"
  settings="DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS IDLE_CONNS=$IDLE_CONNS THREADS=$THREADS"
  settings+=" MAXCONN=$MAXCONN ROUNDS=$ROUNDS LAT_RATE=$LAT_RATE"
  [ -z "$DEFAULTS_EXTRA" ] || settings+=" DEFAULTS_EXTRA=\"$DEFAULTS_EXTRA\""
  echo "- settings: $settings"
  echo
  "$BIN/l7load" report -base haproxy -cand "${cands:-sluice}" "$RESULTS"
  echo
  echo "Ratios are to haproxy: for a cost (CPU, latency, memory, descriptors) above 1"
  echo "means the proxy spends more; for a throughput above 1 means it is faster."
} | tee "$OUTDIR/table.md"
cp "$WORK/bench.cfg" "$OUTDIR/bench.cfg" 2>/dev/null || true
cp "$WORK/ngx-proxy/nginx.conf" "$OUTDIR/nginx-proxy.conf" 2>/dev/null || true
log "results (JSON lines, table, configurations) in $OUTDIR"
