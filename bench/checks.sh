#!/usr/bin/env bash
# Health-check cost: 1,000 servers checked every second (plain TCP connect
# checks against one local listener that accepts and closes), the same
# configuration under haproxy and Sluice one after the other. Prints the
# CPU time each proxy spent over the measuring window and the ratio.
#   bench/checks.sh [seconds]      (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
haproxy=${HAPROXY:-haproxy}
work=$(mktemp -d)
trap 'kill $srv 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/sluice" ./cmd/sluice
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$port" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()
PY
srv=$!
fport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{
  printf 'global\n    nbthread 1\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n'
  printf 'backend many\n    default-server check inter 1s\n'
  for i in $(seq 1000); do printf '    server s%d 127.0.0.1:%s\n' "$i" "$port"; done
  # A listener, without which neither proxy starts.
  printf 'frontend idle\n    bind 127.0.0.1:%s\n    default_backend many\n' "$fport"
} >"$work/checks.cfg"
tick=$(getconf CLK_TCK)
measure() { # name binary -> CPU ms over the window
  "$2" -db -f "$work/checks.cfg" >/dev/null 2>&1 & local p=$!
  sleep 3 # past the start-up spread
  local a b
  a=$(awk '{print $14+$15}' "/proc/$p/stat")
  sleep "$secs"
  b=$(awk '{print $14+$15}' "/proc/$p/stat")
  kill "$p"; wait "$p" 2>/dev/null || true
  echo $(( (b - a) * 1000 / tick ))
}
h=$(measure haproxy "$haproxy")
s=$(measure sluice "$work/sluice")
echo "1000 servers, inter 1s, ${secs}s window: CPU ms haproxy=$h sluice=$s"
awk -v h="$h" -v s="$s" -v n="$secs" 'BEGIN { printf "CPU us per check: haproxy %.1f, sluice %.1f, ratio sluice/haproxy %.2f\n", h*1000/(n*1000), s*1000/(n*1000), s/h }'
