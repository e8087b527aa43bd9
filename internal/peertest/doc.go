// Package peertest is Sluice's Layer 7 test suite with real third-party
// peers: Sluice runs `mode http` in this process (through internal/engine,
// so the race detector watches it) in front of real servers (nginx, a
// Python websockets echo server) and is driven by real clients (curl, the
// Python websockets client, headless Chromium), all on 127.0.0.1.
//
// It covers routing by path and by Host, cookie persistence across a
// client's session, redirects a client follows, HTTP/1.0 and keep-alive on
// both sides, large bodies streamed each way without corruption, WebSocket
// upgrades relayed as tunnels, and a browser loading pages through Sluice.
//
// The package holds only tests. A test that needs an external program
// fails with a message naming it when it is missing, unless
// SLUICE_SKIP_PEERS=1 is set, in which case it skips; scripts/test.sh
// installs every program these tests need, so CI never skips them.
//
// SLUICE_PEERTEST_PROXY=haproxy runs the same tests against Debian's
// haproxy instead of Sluice: the suite's expectations are HAProxy 2.6's
// behaviour, and that run shows it.
package peertest
