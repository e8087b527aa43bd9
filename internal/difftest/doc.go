// Package difftest differentially tests `sluice -c` against HAProxy 2.6's
// `haproxy -c`, and, running both with -db on the same configuration,
// their traffic (traffic_test.go) and their health checks (health_test.go:
// real backends switched between answering, refusing, hanging and wrong
// replies, with each server's sequence of state and check messages and the
// bytes the checks send compared).
//
// The corpus lives in testdata/*.cfg: small configuration files, each with a
// leading comment header that records what it tests and the outcome HAProxy
// gives for it:
//
//	# what: http frontend using a tcp backend via default_backend is fatal
//	# haproxy: exit=1 alerts=7,11
//	# env: SLUICE_TEST_PORT=20080
//
// "exit" is haproxy's exit status (0 valid, 1 error, 2 valid but nothing
// listens) and "alerts" lists, sorted and comma-separated, the line numbers of
// the file that haproxy's [ALERT] lines name (as "[file:line]", "(file:line)"
// or "declared at file:line"); it is omitted when there are none. "env" lines
// (any number) add environment variables to both binaries' environment; any
// SLUICE_TEST_* variable of the caller's environment is removed first, so the
// outcome only depends on the file. "# listen-fds: N" passes N listening TCP
// sockets (127.0.0.1, ephemeral ports) as fd 3, 4, ... for `bind fd@N`.
//
// Where Sluice deliberately differs, a header line says so and replaces the
// comparison with HAProxy:
//
//	# sluice: stricter alerts=N <why>        sluice exits 1 with an alert at line N
//	# sluice: unsupported alerts=N <keyword> sluice exits 1 with an [ALERT] at line N saying "not supported"
//
// testdata/keywords.txt lists every HAProxy keyword named in the project's
// open issues; TestKeywordCoverage checks that each appears in the corpus.
//
// Running:
//
//	go test ./internal/difftest/                              # builds sluice/cmd/sluice
//	SLUICE_BIN=/usr/sbin/haproxy go test ./internal/difftest/ # sanity-check the harness
//	go test ./internal/difftest/ -update                      # rewrite "# haproxy:" lines from haproxy
//
// HAProxy is found through HAPROXY_BIN, then $PATH, then /usr/sbin/haproxy.
// Without it (or with HAPROXY_BIN=none), sluice is compared with the recorded
// headers, unless the CI environment variable is set, in which case the test
// fails. Files under testdata/files/ are fixtures the configs refer to: a
// self-signed certificate and key (site.pem, CN=localhost), errorfiles, map
// and ACL pattern files.
package difftest
