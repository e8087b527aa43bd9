#!/usr/bin/env bash
# Starts three demo servers and Sluice in front of them (examples/quickstart.cfg),
# shows a few requests landing on different servers, then keeps running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
go build -o bin/sluice ./cmd/sluice
go build -o bin/demo-backends ./examples/demo-backends
bin/demo-backends & backends=$!
for port in 9001 9002 9003; do
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
    sleep 0.1
  done
done
log=bin/quickstart.log
errlog=bin/quickstart.err
bin/sluice -f examples/quickstart.cfg >"$log" 2>"$errlog" & sluice=$!
trap 'kill $sluice $backends $tailer 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
tailer=
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && break
  sleep 0.1
done
for _ in $(seq 50); do
  grep -q 's4 is DOWN' "$errlog" 2>/dev/null && break
  sleep 0.1
done
echo
echo "Sluice health-checks its four servers; s4 is not running, so it was marked DOWN:"
sed 's/^/  /' "$errlog"
echo
echo "Sluice listens on 127.0.0.1:8080 and balances over the three live servers (round robin):"
for i in 1 2 3 4 5 6; do
  printf '  request %d -> ' "$i"
  if command -v curl >/dev/null; then curl -s http://127.0.0.1:8080/; else
    exec 3<>/dev/tcp/127.0.0.1/8080; printf 'GET / HTTP/1.0\r\n\r\n' >&3; tail -n 1 <&3; exec 3<&-; fi
done
sleep 0.3
echo
echo "Sluice logged each connection when it ended (HAProxy's tcplog format: client,"
echo "date, frontend, backend/server, Tw/Tc/Tt ms, bytes, termination state, counters):"
tail -n 6 "$log" | sed 's/^/  /'
echo
echo "Try it yourself: curl http://127.0.0.1:8080/   (new log lines follow; Ctrl-C stops everything)"
tail -n 0 -f "$log" "$errlog" & tailer=$!
wait $sluice
