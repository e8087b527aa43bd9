# Shared by run.sh and profile.sh (sourced, not run): settings, building,
# descriptor limits, the backend, the configuration both proxies run, and
# starting and stopping a proxy. Expects to run from the repository root.

DURATION=${DURATION:-5}            # measured seconds per scenario and proxy
WARMUP=${WARMUP:-1}                # seconds of traffic before each window
CONNS=${CONNS:-32}                 # exchange connections and connect workers
BULK_CONNS=${BULK_CONNS:-4}        # streaming connections of the bulk scenarios
IDLE_CONNS=${IDLE_CONNS:-3000}     # connections held open by idle
SIZE=${SIZE:-64}                   # request and reply bytes of exchange and connect
THREADS=${THREADS:-1}              # nbthread of both proxies
MAXCONN=${MAXCONN:-20000}          # global maxconn of both proxies
DEFAULTS_EXTRA=${DEFAULTS_EXTRA:-} # more defaults lines, ';'-separated: "option splice-request; option splice-response"
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
LOADTOOL=${LOADTOOL:-l4load}       # the client with the freeport and wait helpers: l4load or l7load

BACKEND_PID=""
PROXY_PID=""
PROXY_ADDR=""

log() { echo "== $*" >&2; }

# setup_work: a scratch directory, removed on exit unless it holds the
# results, and the cleanup of every process started here.
setup_work() {
  WORK=$(mktemp -d /tmp/sluice-bench.XXXXXX)
  BIN=$WORK/bin
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}

cleanup() {
  [ -z "$PROXY_PID" ] || kill "$PROXY_PID" 2>/dev/null || true
  [ -z "$BACKEND_PID" ] || kill "$BACKEND_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  [ "${OUTDIR:-}" = "$WORK" ] || rm -rf "$WORK"
}

# build PACKAGE...: go build each ./cmd/X or ./bench/cmd/X into $BIN/X.
build() {
  local t
  for t in "$@"; do
    go build -o "$BIN/$(basename "$t")" "$t"
  done
}

# raise_fd_limit: HAProxy refuses to start unless it can get 2*maxconn
# descriptors plus a few (and maxconn/2 more for splice pipes when an
# "option splice-*" is on), and Sluice needs at least as many. Raise the
# limit as far as this process may and, where the hard limit is too low
# (containers), lower maxconn to fit rather than fail.
raise_fd_limit() {
  local want=$((5 * MAXCONN / 2 + 1000)) hard
  hard=$(ulimit -Hn)
  if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
    ulimit -Hn "$want" 2>/dev/null || true
    hard=$(ulimit -Hn)
  fi
  [ "$hard" = unlimited ] && hard=$want
  ulimit -n "$hard"
  if [ "$hard" -lt $((5 * MAXCONN / 2 + 64)) ]; then
    local fit=$(((hard - 64) * 2 / 5))
    log "descriptor hard limit is $hard: maxconn $MAXCONN lowered to $fit"
    MAXCONN=$fit
  fi
}

start_backend() {
  "$BIN/l4backend" >"$WORK/backend.json" 2>"$WORK/backend.log" &
  BACKEND_PID=$!
  local i
  for i in $(seq 200); do
    [ -s "$WORK/backend.json" ] && break
    sleep 0.05
  done
  BACKEND=$(sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' "$WORK/backend.json")
  if [ -z "$BACKEND" ]; then
    echo "bench: the backend did not start" >&2
    cat "$WORK/backend.log" >&2
    exit 1
  fi
}

# write_cfg PORT: the one configuration both proxies run. bench/http.sh
# defines its own after sourcing this file.
write_cfg() {
  {
    printf 'global\n    maxconn %s\n    nbthread %s\n\n' "$MAXCONN" "$THREADS"
    printf 'defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\n'
    local extra line
    IFS=';' read -ra extra <<<"$DEFAULTS_EXTRA"
    for line in "${extra[@]}"; do
      line=$(echo "$line" | sed 's/^ *//; s/ *$//')
      [ -z "$line" ] || printf '    %s\n' "$line"
    done
    printf '\nlisten l4\n    bind 127.0.0.1:%s\n    server be1 %s\n' "$1" "$BACKEND"
  } >"$WORK/bench.cfg"
}

# start_proxy NAME COMMAND...: a fresh proxy process on a port that was
# free a moment ago (both proxies bind with SO_REUSEPORT, so a stray
# listener on a fixed port would silently take part of the connections).
# The configuration's path is appended to COMMAND.
start_proxy() {
  local name=$1 port
  shift
  port=$("$BIN/$LOADTOOL" freeport)
  write_cfg "$port"
  PROXY_ADDR=127.0.0.1:$port
  "$@" "$WORK/bench.cfg" >"$WORK/$name.log" 2>&1 &
  PROXY_PID=$!
  local i
  for i in $(seq 50); do
    if ! kill -0 "$PROXY_PID" 2>/dev/null; then
      break
    fi
    if "$BIN/$LOADTOOL" wait -addr "$PROXY_ADDR" -timeout 200ms 2>/dev/null; then
      return 0
    fi
  done
  echo "bench: $name did not start:" >&2
  cat "$WORK/$name.log" >&2
  exit 1
}

stop_proxy() {
  kill "$PROXY_PID" 2>/dev/null || true
  wait "$PROXY_PID" 2>/dev/null || true
  PROXY_PID=""
}

# scenario_args SCENARIO: sets SCENARIO_ARGS to the l4load command line of
# a scenario against the running proxy.
scenario_args() {
  local common=(-addr "$PROXY_ADDR" -pid "$PROXY_PID" -d "${DURATION}s" -warmup "${WARMUP}s" -size "$SIZE")
  case $1 in
    exchange | connect) SCENARIO_ARGS=("$1" "${common[@]}" -c "$CONNS") ;;
    bulk-down | bulk-up | bulk-both) SCENARIO_ARGS=(bulk "${common[@]}" -c "$BULK_CONNS" -dir "${1#bulk-}") ;;
    idle) SCENARIO_ARGS=(idle "${common[@]}" -c "$IDLE_CONNS") ;;
    *)
      echo "bench: unknown scenario $1 (exchange connect bulk-down bulk-up bulk-both idle)" >&2
      exit 2
      ;;
  esac
}

# l4timeout: how long one l4load run may take before it counts as hung.
l4timeout() { echo $((${DURATION%.*} + ${WARMUP%.*} + 90)); }
