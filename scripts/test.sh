#!/usr/bin/env bash
# Runs every Sluice test on a fresh Debian machine: installs what the tests
# need when it is missing, then checks formatting, vets, and runs the suite
# with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
# internal/l4test runs real peers: redis-server (with redis-cli and
# redis-benchmark from redis-tools), PostgreSQL (server, psql, pgbench), and
# nginx with its stream module. Those tests fail when a program is missing
# unless SLUICE_SKIP_PEERS=1, so CI never skips them silently.
for p in redis-server redis-cli redis-benchmark; do
  command -v $p >/dev/null 2>&1 || { need+=(redis-server); break; }
done
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 ||
   ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
   ! command -v psql >/dev/null 2>&1 || ! command -v pgbench >/dev/null 2>&1; then
  need+=(postgresql)
fi
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || need+=(libnginx-mod-stream)
# internal/peertest runs Layer 7 peers: nginx (above) behind Sluice, curl,
# headless Chromium, and python3-websockets (a WebSocket server and client)
# for Debian's own python3, which the tests call as /usr/bin/python3. They
# fail when a program is missing, unless SLUICE_SKIP_PEERS=1, as above.
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
/usr/bin/python3 -c 'import websockets' >/dev/null 2>&1 || need+=(python3-websockets)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts these as services on install; the tests run their own, on
# ports of their own. haproxy is always stopped, as before; the others only
# when this run installed them, so a developer's own servers are left alone.
stop=(haproxy)
for p in "${need[@]}"; do
  case $p in redis-server|postgresql|nginx) stop+=("$p") ;; esac
done
for svc in "${stop[@]}"; do
  if command -v systemctl >/dev/null 2>&1 && systemctl stop "$svc" >/dev/null 2>&1; then continue; fi
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...
go test -race -count=1 -timeout 20m ./...
# The race detector changes allocation counts, so the engine's allocation
# guards skip their limits under it: every test named *Alloc* runs again
# without it.
go test -count=1 -timeout 5m -run 'Alloc' ./...
