// Package logfmt compiles HAProxy log-format strings and renders them into
// log lines byte for byte as HAProxy 2.6 does.
//
// A format is compiled once per proxy with Compile, which reports HAProxy's
// own error texts ("no such format variable 'x'. ...", "format variable 'r'
// is reserved for HTTP mode", ...). Rendering a finished stream is
// Format.Append, which writes into a caller-owned buffer and allocates
// nothing. The presets HAProxy installs for "option tcplog", "option
// httplog", "option httplog clf" and "option httpslog" are the constants
// TCPLog, HTTPLog, CLFLog and HTTPSLog; AppendConnect writes the "Connect
// from" line HAProxy logs when a frontend has log targets but no format.
//
// The package does no I/O and knows nothing of sockets: the caller fills a
// Fields value with what it measured. Sample expressions (%[...]) are kept
// as text and evaluated through Fields.Sample, because the sample engine
// lives elsewhere.
//
// The reference is src/log.c of HAProxy 2.6 (parse_logformat_string,
// sess_build_logline, the logformat_keywords table) and sections 8.2.4 and
// 8.5 of its configuration manual; behaviours that only the binary shows
// were checked against Debian's haproxy 2.6.12 (see oracle_test.go).
package logfmt
