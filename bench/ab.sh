#!/usr/bin/env bash
# Alternating A/B of proxy binaries on one scenario: each round runs every
# binary in turn, with the same configuration as run.sh (Layer 4) or
# http.sh (Layer 7, with l7load's Go backend), and prints one line per
# run: round, binary, CPU per operation (or RSS per idle connection),
# rate. Running the binaries alternately, round after round, is how a
# change is told from the machine's noise on a shared machine.
#
#   bench/ab.sh l4|l7 SCENARIO ROUNDS BINARY...
#
# SCENARIO: l4: exchange, connect; l7: keepalive, close, idle.
# BINARY: haproxy, or the path of a Sluice binary (build them first,
# e.g. from two worktrees). DUR (seconds, default 4) and CONNS (default
# 32 for l4, 64 for l7, 5000 for idle) set the load.
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
LAYER=$1 SCEN=$2 ROUNDS=$3
shift 3
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
TOOL=l4load
[ "$LAYER" = l7 ] && TOOL=l7load
go build -o "$WORK/" ./bench/cmd/$TOOL ./bench/cmd/l4backend
if [ "$LAYER" = l7 ]; then
  "$WORK/l7load" backend >"$WORK/backend.json" 2>"$WORK/backend.log" &
else
  "$WORK/l4backend" >"$WORK/backend.json" 2>"$WORK/backend.log" &
fi
for _ in $(seq 100); do [ -s "$WORK/backend.json" ] && break; sleep 0.05; done
BACKEND=$(sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' "$WORK/backend.json")
conns=${CONNS:-32}
[ "$LAYER" = l7 ] && conns=${CONNS:-64}
[ "$SCEN" = idle ] && conns=${CONNS:-5000}

cfg() {
  printf 'global\n    maxconn 7974\n    nbthread 1\n\ndefaults\n'
  if [ "$LAYER" = l4 ]; then
    printf '    mode tcp\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\n\n'
    printf 'listen l4\n    bind 127.0.0.1:%s\n    server be1 %s\n' "$1" "$BACKEND"
    return
  fi
  cat <<CFG
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 60s
    option http-keep-alive
    http-reuse safe

frontend fe
    bind 127.0.0.1:$1
    acl is_api path_beg /api/
    acl is_static hdr(host) -i static.example.com
    acl is_image path_end .png .jpg .gif
    use_backend api if is_api
    use_backend static if is_static or is_image
    default_backend web

backend web
    server s1 $BACKEND

backend api
    server s1 $BACKEND

backend static
    server s1 $BACKEND
CFG
}

for r in $(seq "$ROUNDS"); do
  for bin in "$@"; do
    port=$("$WORK/$TOOL" freeport)
    cfg "$port" >"$WORK/ab.cfg"
    [ "$bin" = haproxy ] && bin=${HAPROXY:-/usr/sbin/haproxy}
    "$bin" -f "$WORK/ab.cfg" -db >"$WORK/proxy.log" 2>&1 &
    pid=$!
    "$WORK/$TOOL" wait -addr "127.0.0.1:$port" -timeout 5s
    args=("$SCEN" -addr "127.0.0.1:$port" -pid "$pid" -d "${DUR:-4}s" -warmup 1s -c "$conns")
    [ "$LAYER" = l4 ] && args+=(-size 64)
    "$WORK/$TOOL" "${args[@]}" >"$WORK/res.json" 2>"$WORK/load.log" || cat "$WORK/load.log" >&2
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$r $bin $(grep -o '"cpu_us_per_op":[0-9.]*\|"kib_per_conn":[0-9.]*\|"rate":[0-9.]*' "$WORK/res.json" | tr '\n' ' ')"
  done
done
