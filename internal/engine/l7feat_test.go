package engine

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// startL7 starts an http engine logging to a syslog receiver: cfg holds
// the proxies, with %[bind] for the frontend's address and %[echo] for an
// echo backend's. It returns the frontend's address and the receiver.
func startL7(t *testing.T, cfg string) (string, *syslogRx) {
	t.Helper()
	addr := freeAddr(t)
	rx := startSyslog(t)
	cfg = strings.NewReplacer("%[bind]", addr, "%[echo]", startEchoBackend(t)).Replace(cfg)
	startLogged(t, rx, "defaults\n mode http\n log global\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+cfg)
	return addr, rx
}

// logMsg is a syslog datagram's message.
func logMsg(line string) string {
	if _, m, ok := strings.Cut(line, "]: "); ok {
		return strings.TrimRight(m, "\n")
	}
	return line
}

func TestCapturesLogAndFetch(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST %hr %hs %{+Q}hrl %hsl|%[capture.req.hdr(1)]|%[capture.res.hdr(0)]"
 capture request header Host len 4
 http-request capture req.hdr(x-a),lower len 3
 capture request header X-Missing len 5
 capture response header Server len 3
 declare capture response len 10
 http-request set-header X-Got %[capture.req.hdr(0)]
 http-request deny if { path /deny }
 default_backend be
backend be
 http-response capture res.hdr(x-trace) id 1
 server s %[echo]
`)
	resp := rawHTTP(t, addr, "GET /a HTTP/1.1\r\nHost: example.com\r\nX-A: ABCDEF\r\nConnection: close\r\n\r\n")
	if !strings.Contains(resp, "x-got: exam") {
		t.Errorf("capture.req.hdr in a rule: %q", resp)
	}
	if got, want := logMsg(rx.next(t)), `200 {exam|abc|} {ech|b} "exam" "abc" "" ech b|abc|ech`; got != want {
		t.Errorf("log:\n got %q\nwant %q", got, want)
	}
	rawHTTP(t, addr, "GET /deny HTTP/1.1\r\nHost: a|b\r\nConnection: close\r\n\r\n")
	if got, want := logMsg(rx.next(t)), `403 {a#7Cb||} {|} "a#7Cb" "" "" - -|-|-`; got != want {
		t.Errorf("log of a denied request:\n got %q\nwant %q", got, want)
	}
	// A request that never parsed has no captures at all.
	rawHTTP(t, addr, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
	if got, want := logMsg(rx.next(t)), `400 |-|-`; got != want {
		t.Errorf("log of a bad request:\n got %q\nwant %q", got, want)
	}
}

// Each request of a keep-alive connection starts with empty slots.
func TestCapturesResetPerRequest(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%hr"
 capture request header X-A len 10
 default_backend be
backend be
 server s %[echo]
`)
	rawHTTP(t, addr, "GET /1 HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	got := []string{logMsg(rx.next(t)), logMsg(rx.next(t))}
	if fmt.Sprint(got) != "[{one} {}]" {
		t.Errorf("logs: %q", got)
	}
}

// Variables: txn ones live for one request, sess ones for the connection,
// req ones until the request leaves, res ones from the response on.
func TestVariablesEndToEnd(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "t=%[var(txn.host)] r=%[var(req.p)] s=%[var(res.st)] n=%[var(sess.n)] f=%[var(txn.f)]"
 http-request set-var(txn.host) req.hdr(host),lower
 http-request set-var(req.p) path
 http-request set-var(sess.n) req.hdr(x-n) if { req.hdr(x-n) -m found }
 http-request set-var-fmt(txn.f) "%b:%[var(req.p)]"
 http-request set-header X-Vars "%[var(txn.host)] %[var(req.p)] %[var(sess.n)]"
 default_backend be
backend be
 http-request set-header X-F %[var(txn.f)]
 http-response set-var(res.st) status
 http-response set-header X-Resp "%[var(res.st)] %[var(req.p)] %[var(txn.host)]"
 server s %[echo]
`)
	resp := rawHTTP(t, addr, "GET /a HTTP/1.1\r\nHost: EX\r\nX-N: 7\r\n\r\nGET /b HTTP/1.1\r\nHost: two\r\nConnection: close\r\n\r\n")
	for _, want := range []string{"x-vars: ex /a 7", "x-f: fe:/a", "x-resp: 200  ex", "x-vars: two /b 7", "x-resp: 200  two"} {
		if !strings.Contains(resp, want) {
			t.Errorf("response lacks %q:\n%s", want, resp)
		}
	}
	for _, want := range []string{"t=ex r=- s=200 n=7 f=fe:/a", "t=two r=- s=200 n=7 f=fe:/b"} {
		if got := logMsg(rx.next(t)); got != want {
			t.Errorf("log %q, want %q", got, want)
		}
	}
}

func TestVariablesInTCPRules(t *testing.T) {
	ln := startNameServer(t, "a")
	addr, rx := startL7(t, `listen l
 bind %[bind]
 mode tcp
 log-format "c=%[var(sess.c)] t=%[var(txn.t)] x=%[var(txn.x)] r=%[var(req.r)] f=%[var(sess.f)]"
 tcp-request connection set-var(sess.c) str(conn)
 tcp-request connection set-var(txn.x) str(no-stream-yet)
 tcp-request inspect-delay 1s
 tcp-request content set-var(txn.t) req.len
 tcp-request content set-var(req.r) str(gone)
 tcp-request content set-var-fmt(sess.f) "%f-%[var(sess.c)]"
 tcp-request content accept if { req.len gt 0 }
 server a `+ln.addr()+`
`)
	exchange(t, addr, "hello")
	if got, want := logMsg(rx.next(t)), "c=conn t=5 x=- r=- f=l-conn"; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}

// The unique id is made once, on first use: by a rule, by the backend's
// processing of the request (with unique-id-header), or by the log line.
func TestUniqueID(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST %ID %rt"
 unique-id-format "%b-%rt-%[req.hdr(x-in)]"
 unique-id-header X-ID
 http-request set-header X-Early %[unique-id] if { path /early }
 http-request deny if { path /deny }
 default_backend be
backend be
 server s %[echo]
`)
	resp := rawHTTP(t, addr, "GET /a HTTP/1.1\r\nHost: h\r\nX-In: v\r\n\r\nGET /early HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	first := logMsg(rx.next(t))
	var n int
	if _, err := fmt.Sscanf(first, "200 be-%d-v", &n); err != nil || first != fmt.Sprintf("200 be-%d-v %d", n, n) {
		t.Fatalf("first log %q", first)
	}
	for _, want := range []string{fmt.Sprintf("x-id: be-%d-v", n), fmt.Sprintf("x-early: fe-%d-", n+1), fmt.Sprintf("x-id: fe-%d-", n+1)} {
		if !strings.Contains(resp, want) {
			t.Errorf("response lacks %q:\n%s", want, resp)
		}
	}
	if got, want := logMsg(rx.next(t)), fmt.Sprintf("200 fe-%d- %d", n+1, n+1); got != want {
		t.Errorf("log %q, want %q", got, want)
	}
	// Made at log time, the id no longer sees the request's headers.
	rawHTTP(t, addr, "GET /deny HTTP/1.1\r\nHost: h\r\nX-In: v\r\nConnection: close\r\n\r\n")
	if got, want := logMsg(rx.next(t)), fmt.Sprintf("403 fe-%d- %d", n+2, n+2); got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}

// monitor-uri is answered before any rule, kept alive and not logged.
func TestMonitorURI(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST %HU"
 monitor-uri /mon
 monitor fail if { req.hdr(x-fail) -m found }
 http-request deny if { path /mon }
 default_backend be
backend be
 server s %[echo]
`)
	resp := rawHTTP(t, addr, "GET /mon HTTP/1.1\r\nHost: h\r\n\r\nGET /mon HTTP/1.1\r\nHost: h\r\nX-Fail: y\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	want := "HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n" +
		"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
	if !strings.HasPrefix(resp, want) || !strings.Contains(resp, "GET /next") {
		t.Fatalf("responses:\n%q", resp)
	}
	if got := logMsg(rx.next(t)); got != "200 /next" {
		t.Errorf("only the forwarded request is logged; got %q", got)
	}
}

// option dontlog-normal keeps only streams with an error, a retry or a
// 5xx; option log-separate-errors logs those at level err.
func TestLogNormalAndErrors(t *testing.T) {
	dead := freeAddr(t)
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST %ts %s %rc"
 option log-separate-errors
 option dontlog-normal
 http-request deny if { path /deny }
 http-request return status 503 if { path /ret503 }
 use_backend dead if { path /dead }
 default_backend be
backend be
 server s %[echo]
backend dead
 retries 1
 server d `+dead+`
`)
	rawHTTP(t, addr, "GET /ok HTTP/1.1\r\nHost: h\r\n\r\nGET /deny HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	rawHTTP(t, addr, "GET /ret503 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	rawHTTP(t, addr, "GET /dead HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	// local0 is facility 16: info is <134>, err <131>.
	for _, want := range []string{"<131>", "<131>", "<131>"} { // a local 503 is an error too
		line := rx.next(t)
		if !strings.HasPrefix(line, want) {
			t.Errorf("line %q, want priority %s", line, want)
		}
		t.Log(logMsg(line))
	}
	rx.none(t, 200*time.Millisecond)
}

// A tarpit holds the request for timeout tarpit, then answers with the
// rule's reply (500 by default) and logs PT, the time held as %Tw.
func TestTarpit(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST %ts %TR %Tw"
 timeout tarpit 200ms
 http-request tarpit if { path /t }
 http-request tarpit deny_status 429 if { path /t429 }
 default_backend be
backend be
 server s %[echo]
`)
	start := time.Now()
	resp := rawHTTP(t, addr, "GET /t HTTP/1.1\r\nHost: h\r\n\r\nGET /t429 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Errorf("two tarpits took %v", el)
	}
	if !strings.HasPrefix(resp, "HTTP/1.1 500 Internal Server Error\r\n") || !strings.Contains(resp, "HTTP/1.1 429 Too Many Requests\r\n") {
		t.Errorf("responses: %q", resp)
	}
	for i := 0; i < 2; i++ {
		var st, tw int
		var ts string
		if _, err := fmt.Sscanf(logMsg(rx.next(t)), "%d %s -1 %d", &st, &ts, &tw); err != nil || ts != "PT" || tw < 200 || tw > 400 {
			t.Errorf("log: %d %s %d %v", st, ts, tw, err)
		}
	}
}

// set-timeout server shortens (or lengthens) the server timeout of one
// request; an expression gives milliseconds.
func TestSetTimeoutServer(t *testing.T) {
	slow := httptestSlow(t, 600*time.Millisecond)
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST %ts"
 default_backend be
backend be
 timeout server 2s
 http-request set-timeout server 100ms if { path /short }
 http-request set-timeout server req.hdr(x-t) if { req.hdr(x-t) -m found }
 server s `+slow+`
`)
	for _, tc := range []struct{ req, want string }{
		{"GET /short HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "504 sH"},
		{"GET /x HTTP/1.1\r\nHost: h\r\nX-T: 100\r\nConnection: close\r\n\r\n", "504 sH"},
		{"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "200 --"},
	} {
		rawHTTP(t, addr, tc.req)
		if got := logMsg(rx.next(t)); got != tc.want {
			t.Errorf("%q: log %q, want %q", tc.req, got, tc.want)
		}
	}
}

// httptestSlow is a server that answers after a delay.
func httptestSlow(t *testing.T, d time.Duration) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b := make([]byte, 4096)
				c.Read(b)
				time.Sleep(d)
				c.Write([]byte("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"))
			}()
		}
	}()
	return ln.Addr().String()
}

// Replies: hdr values and lf-string payloads are log-format strings,
// rendered per request; headers that render empty are left out.
func TestReplyPayloads(t *testing.T) {
	addr, _ := startL7(t, `frontend fe
 bind %[bind]
 http-request return status 201 content-type text/plain lf-string "[%[req.hdr(x-in)]|%[req.hdr(nope)]]" hdr X-A %[req.hdr(x-in)] hdr X-B %[req.hdr(nope)] if { path /lf }
 http-request deny status 404 if { path /d }
 default_backend be
backend be
 server s %[echo]
`)
	resp := rawHTTP(t, addr, "GET /lf HTTP/1.1\r\nHost: h\r\nX-In: v\r\n\r\nGET /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	want := "HTTP/1.1 201 Created\r\nx-a: v\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\n[v|]" +
		"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
	if resp != want {
		t.Errorf("got %q\nwant %q", resp, want)
	}
}

func TestOriginalTo(t *testing.T) {
	addr, _ := startL7(t, `frontend fe
 bind %[bind]
 option originalto
 option forwardfor
 use_backend be2 if { path /be2 }
 use_backend be3 if { path /be3 }
 default_backend be
backend be
 server s %[echo]
backend be2
 option originalto header X-Dst
 server s %[echo]
backend be3
 option originalto except 127.0.0.0/255.0.0.0
 server s %[echo]
`)
	for path, want := range map[string]string{"/": "x-original-to: 127.0.0.1", "/be2": "x-dst: 127.0.0.1"} {
		if resp := rawHTTP(t, addr, "GET "+path+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"); !strings.Contains(resp, want) {
			t.Errorf("%s: no %q in\n%s", path, want, resp)
		}
	}
	if resp := rawHTTP(t, addr, "GET /be3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"); strings.Contains(resp, "x-original-to") {
		t.Errorf("except: header added\n%s", resp)
	}
}

// The legacy redirect keyword runs after the http-request rules (allow
// included) with its value as text; http-request redirect takes a
// log-format, and both take their options in any order.
func TestRedirects(t *testing.T) {
	addr, _ := startL7(t, `frontend fe
 bind %[bind]
 redirect location /l/%[req.hdr(host)] code 301 set-cookie S=1 if { path /lit }
 http-request allow if { path /lit }
 http-request redirect code 307 location /f/%[req.hdr(host)] clear-cookie T if { path /fmt }
 http-request redirect prefix / append-slash if { path_beg /as }
 http-request redirect location %[req.hdr(x-none)] ignore-empty if { path /ie }
 default_backend be
backend be
 server s %[echo]
`)
	for _, tc := range []struct{ req, want string }{
		{"GET /lit HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /l/%[req.hdr(host)]\r\nset-cookie: S=1; path=/;\r\nconnection: close\r\n\r\n"},
		{"GET /fmt HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "HTTP/1.1 307 Temporary Redirect\r\ncontent-length: 0\r\nlocation: /f/h\r\ncache-control: no-cache\r\nset-cookie: T; path=/; Max-Age=0;\r\nconnection: close\r\n\r\n"},
		{"GET /as?x=1 HTTP/1.0\r\n\r\n", "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /as?x=1/\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n"},
	} {
		if got := rawHTTP(t, addr, tc.req); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.req, got, tc.want)
		}
	}
	if got := rawHTTP(t, addr, "GET /ie HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"); !strings.Contains(got, "GET /ie") {
		t.Errorf("ignore-empty with an empty location forwards the request: %q", got)
	}
}
