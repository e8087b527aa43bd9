// Package l4test is Sluice's Layer 4 test suite with real peers: it drives
// `mode tcp` proxying over real sockets on 127.0.0.1, against Go test
// servers, helper processes and real servers (redis-server, PostgreSQL),
// either in-process through internal/engine (where goroutine and descriptor
// leak checks need it) or through the built sluice binary.
//
// It covers data integrity at volume (1 GiB each way at once), thousands of
// simultaneous connections, slow readers and writers, servers that vanish
// mid-stream (closed, reset, killed with SIGKILL), clients that vanish
// mid-stream, and real protocols (Redis, PostgreSQL) with their own
// benchmarking tools.
//
// The package holds only tests. Tests that need an external program fail
// with a clear message when it is missing, unless SLUICE_SKIP_PEERS=1 is
// set, in which case they skip; scripts/test.sh installs the programs.
package l4test
