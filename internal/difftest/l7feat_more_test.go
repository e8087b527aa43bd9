package difftest

import "strings"

// More Layer 7 feature cases: the log lines (and the bytes either side
// got) on the failure and edge paths of mode http: servers that close,
// answer badly or not at all, clients that stop halfway or send what
// cannot be parsed, requests answered by the proxy itself, and the
// connection modes. They join featCases before any test runs.

// edgeLog leaves timers, ports and %fc (haproxy may not have counted the
// previous connection out yet) out: what ended the stream, the bytes,
// where it went and the connection counts.
const edgeLog = ` log-format "%ST %ts %tsc %U %B %b %s %{+Q}r bc=%bc sc=%sc rc=%rc sq=%sq bq=%bq"`

// edgeCfg is a frontend f logging with edgeLog in front of backend b and
// its one server s1 at srv (%SRV or %DEAD); fe and be are more lines for
// each section.
func edgeCfg(fe, be, srv string) string {
	return "frontend f\n bind %BIND\n" + edgeLog + "\n" + fe + " default_backend b\nbackend b\n" + be + " server s1 " + srv + "\n"
}

// probeCfg has two frontends that log empty connections (no option
// dontlognull), the second with option http-ignore-probes. Only %TR of
// the timers: the others vary with the machine's load.
const probeCfg = `frontend f
 bind %BIND
 default_backend b
frontend f2
 bind %BIND2
 no option dontlognull
 log-format "%ST %ts %TR %{+Q}r"
 default_backend b
frontend f3
 bind %BIND3
 no option dontlognull
 option http-ignore-probes
 log-format "probes %ST %ts %TR %{+Q}r"
 default_backend b
backend b
 server s1 %SRV
`

var moreFeatCases = []featCase{
	// prefer-last-server keeps a client on the server its private
	// connection (http-reuse never, the defaults here) goes to; with
	// http-reuse always the connection is the server's, not the
	// client's, and round robin goes on. A hash ignores the option, and
	// a server that is down is not preferred.
	{name: "option prefer-last-server", cfg: `frontend f
 bind %BIND
 log-format "%ST %b/%s %{+Q}r"
 use_backend b2 if { path_beg /two }
 use_backend b3 if { path_beg /three }
 use_backend b4 if { path_beg /four }
 default_backend b
backend b
 option prefer-last-server
 server s1 %SRV
 server s2 %SRV
 server s3 %SRV
backend b2
 option prefer-last-server
 http-reuse always
 server s1 %SRV
 server s2 %SRV
backend b3
 option prefer-last-server
 balance uri
 hash-type consistent
 server s1 %SRV
 server s2 %SRV
backend b4
 option prefer-last-server
 server s1 %SRV
 server s2 %DEAD
 server s3 %SRV
`, conns: []l7Case{
		{raw: get("/a") + get("/b") + get("/c"), reqs: 3},
		{raw: get("/a") + get("/b"), reqs: 2},
		{raw: get("/two/a") + get("/two/b") + get("/two/c"), reqs: 3},
		{raw: get("/three/a") + get("/three/b") + get("/three/c") + get("/three/d"), reqs: 4},
		{raw: get("/a") + get("/two/b") + get("/a"), reqs: 3},
		{raw: get("/four/a") + get("/four/b") + get("/four/c"), reqs: 3},
		{raw: get("/four/a") + get("/four/b"), reqs: 2},
	}},
	// A backend's httpclose closes the server's side only: the client's
	// follows the frontend.
	{name: "edge: option http-pretend-keepalive with http-server-close and httpclose", cfg: edgeCfg("", ` option http-server-close
 option http-pretend-keepalive
`, "%SRV") + `frontend f2
 bind %BIND2
` + edgeLog + `
 default_backend b2
frontend f3
 bind %BIND3
` + edgeLog + `
 default_backend b3
backend b2
 option httpclose
 option http-pretend-keepalive
 server s1 %SRV
backend b3
 option httpclose
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/a") + get("/b"), reqs: 2},
		{raw: "GET /old HTTP/1.0\r\n\r\n"},
		{raw: get("/s/connclose")},
		{raw: get("/a", "Connection: close")},
		{raw: get("/a") + get("/b"), reqs: 2, to: "2"},
		{raw: "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", to: "2"},
		{raw: get("/a") + get("/b"), reqs: 2, to: "3"},
		{raw: "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", to: "3"},
	}},
	{name: "edge: empty and cut-short connections, with and without option http-ignore-probes", cfg: probeCfg, conns: func() []l7Case {
		var cs []l7Case
		for _, to := range []string{"2", "3"} {
			cs = append(cs,
				l7Case{raw: "", reqs: -1, to: to},
				l7Case{raw: "", noProbe: true, to: to},
				l7Case{raw: "GET / HT", reqs: -1, to: to},
				l7Case{raw: "GET / HT", noProbe: true, to: to},
				l7Case{raw: "\x01garbage\r\n\r\n", to: to},
				l7Case{raw: "GET / HTTP/1.1\r\nhost: a\r\nX-Big: " + strings.Repeat("b", 17000) + "\r\n\r\n", to: to})
		}
		return cs
	}()},
	{name: "edge: server closes, cuts, times out or answers badly", cfg: edgeCfg("", "", "%SRV"), conns: []l7Case{
		{raw: get("/s/closenow")},
		{raw: get("/s/halfhead")},
		{raw: get("/s/halfbody"), noProbe: true},
		{raw: get("/s/noclen")},
		{raw: get("/s/badstatus")},
		{raw: get("/s/hang")},
		{raw: get("/s/connclose") + get("/after"), reqs: 2},
		{raw: get("/s/chunked") + get("/s/503"), reqs: 2},
	}},
	{name: "edge: server refused and retried", cfg: edgeCfg("", ` retries 2
`, "%DEAD"), conns: []l7Case{
		{raw: get("/a")},
		{raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello"},
	}},
	{name: "edge: slowloris and incomplete requests", cfg: edgeCfg("", "", "%SRV"), conns: []l7Case{
		{raw: "GET / HTTP/1.1\r\nhost: a\r\n", noProbe: true},
		{raw: "GE", noProbe: true},
		{raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nabc", noProbe: true},
	}},
	{name: "edge: client stops halfway and goes away", cfg: edgeCfg(` timeout http-request 10s
 timeout client 10s
`, ` timeout server 10s
`, "%SRV"), conns: []l7Case{
		{raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nabc", noProbe: true},
		{raw: "POST /c HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n", noProbe: true},
	}},
	{name: "edge: malformed and oversized requests", cfg: edgeCfg("", "", "%SRV"), conns: []l7Case{
		{raw: "GET / HTTP/1.1\r\nhost: a\r\nX-Foo bar\r\n\r\n"},
		{raw: "GET / HTTP/1.1\r\nhost: a\r\nX-Big: " + strings.Repeat("b", 17000) + "\r\n\r\n"},
		{raw: get("/1") + "GET /2 HTTP/9.9\r\nhost: a\r\n\r\n", reqs: 2},
		{raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", noProbe: true},
		{raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd"},
		{raw: "GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n"},
	}},
	{name: "edge: answered by the proxy", cfg: edgeCfg(` timeout tarpit 100ms
 http-request deny if { path /deny }
 http-request return status 200 content-type text/plain string ok if { path /ret }
 http-request tarpit if { path /tarpit }
 http-request redirect location /x if { path /redir }
 http-request reject if { path /rej }
`, ` http-request deny deny_status 429 if { path /bdeny }
`, "%SRV"), conns: []l7Case{
		{raw: get("/deny") + get("/ret") + get("/redir") + get("/bdeny") + get("/ok"), reqs: 5},
		{raw: get("/tarpit")},
		{raw: "POST /deny HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello"},
		{raw: get("/rej"), noProbe: true},
	}},
	{name: "edge: connection modes with two requests", cfg: `frontend f
 bind %BIND
` + edgeLog + `
 option http-server-close
 default_backend b
frontend f2
 bind %BIND2
` + edgeLog + `
 option httpclose
 default_backend b
frontend f3
 bind %BIND3
` + edgeLog + `
 default_backend b3
backend b
 server s1 %SRV
backend b3
 http-reuse safe
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/a") + get("/b"), reqs: 2},
		{raw: get("/a") + get("/b"), reqs: 2, to: "2"},
		{raw: get("/a") + get("/b"), reqs: 2, to: "3"},
	}},
	{name: "edge: 502 and 504", cfg: edgeCfg("", ` timeout server 300ms
`, "%SRV"), conns: []l7Case{
		{raw: get("/s/badstatus")},
		{raw: get("/s/chunkbad")},
		{raw: get("/s/hang") + get("/next"), reqs: 2},
		{raw: "POST /s/hang HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nabc"},
	}},
	{name: "edge: HEAD, HTTP/1.0 and bodies to failing servers", cfg: edgeCfg("", "", "%SRV"), conns: []l7Case{
		{raw: "HEAD /s/closenow HTTP/1.1\r\nhost: a\r\n\r\n", head: true},
		{raw: "GET /s/noclen HTTP/1.0\r\n\r\n"},
		{raw: "GET /s/halfbody HTTP/1.0\r\n\r\n", noProbe: true},
		{raw: "GET /s/closenow HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{raw: "POST /s/closenow HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello"},
		{raw: "POST /s/halfhead HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
		{raw: "POST /s/hang HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
		{raw: get("/s/chunkcut"), noProbe: true},
		{raw: get("/s/chunknolast"), noProbe: true},
		{raw: get("/s/clmore") + get("/after"), reqs: 2},
	}},
	// The errorfile's own Connection header goes out without its close
	// token, but counts in %B as haproxy holds it (215, not 200).
	{name: "edge: errorfiles and denials with Expect", cfg: `frontend f
 bind %BIND
` + edgeLog + `
 errorfile 503 %FILES/errors/503.http
 http-request deny if { path /deny }
 use_backend dead if { path /dead }
 default_backend b
backend b
 server s1 %SRV
backend dead
 retries 0
 server s1 %DEAD
`, conns: []l7Case{
		{raw: get("/dead") + get("/ok"), reqs: 2},
		{raw: "POST /deny HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\nhello"},
		{raw: "POST /dead HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\nhello"},
	}},
	{name: "edge: httpclose and http-server-close on failing servers", cfg: `frontend f
 bind %BIND
` + edgeLog + `
 option httpclose
 default_backend b
frontend f2
 bind %BIND2
` + edgeLog + `
 option http-server-close
 default_backend b
backend b
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/s/closenow")},
		{raw: get("/s/noclen")},
		{raw: get("/s/hang")},
		{raw: get("/s/halfhead"), to: "2"},
		{raw: get("/s/connclose") + get("/x"), reqs: 2, to: "2"},
		{raw: get("/s/503") + get("/x"), reqs: 2, to: "2"},
	}},
	{name: "edge: timeout client during a request body", cfg: edgeCfg(` timeout client 500ms
`, ` timeout server 10s
`, "%SRV"), conns: []l7Case{{raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nabc", noProbe: true}}},
	{name: "edge: slowloris on a second request", cfg: edgeCfg("", "", "%SRV"), conns: []l7Case{{raw: get("/a") + "GET /b HTTP/1.1\r\n", reqs: 2, noProbe: true}}},
	{name: "edge: client goes away with the head incomplete", cfg: edgeCfg(` timeout http-request 10s
 timeout client 10s
`, "", "%SRV"), conns: []l7Case{{raw: "GET / HTTP/1.1\r\nhost: a\r\n", noProbe: true}}},
	{name: "edge: http-reuse safe on a later client connection", cfg: edgeCfg("", ` http-reuse safe
`, "%SRV"), conns: []l7Case{
		{raw: get("/a") + get("/b"), reqs: 2},
		{raw: get("/a") + get("/b") + get("/c"), reqs: 3},
	}},
	{name: "edge: redispatch", cfg: `frontend f2
 bind %BIND
` + edgeLog + `
 default_backend b2
backend b2
 balance first
 retries 1
 option redispatch
 server dead %DEAD
 server live %SRV
`, conns: []l7Case{{raw: get("/a") + get("/b"), reqs: 2}}},
}

func init() {
	featCases = append(featCases, moreFeatCases...)
}
