package engine

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// In an http proxy, tcp-request content rules run for each request of a
// keep-alive connection, as HAProxy 2.6 runs them in each request's
// stream: txn and req variables start afresh (sess ones accumulate), the
// request head is there to read, req.len is its HTX size, set-log-level
// applies to that request's line, accept ends the proxy's content rules
// only, the frontend's rules run before its http-request rules and the
// backend's after switching, before the backend's http-request rules.
func TestTCPContentRulesPerRequest(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST n=%[var(txn.n)] s=%[var(sess.s)] r=%[var(req.r)] len=%[var(txn.len)] b=%[var(txn.b)] %HP"
 tcp-request content set-var-fmt(txn.n) "%[var(txn.n)]x"
 tcp-request content set-var-fmt(sess.s) "%[var(sess.s)]y"
 tcp-request content set-var(req.r) str(r)
 tcp-request content set-var(txn.len) req.len
 tcp-request content set-log-level err if { path /err }
 tcp-request content set-log-level silent if { path /silent }
 tcp-request content accept if { path /acc }
 tcp-request content set-var-fmt(txn.n) "%[var(txn.n)]z"
 http-request set-var-fmt(txn.h) "%[var(txn.n)]|%[var(req.r)]"
 http-request set-header X-N "%[var(txn.h)]|%[var(sess.s)]|%[var(txn.len)]"
 default_backend be
backend be
 tcp-request content set-var-fmt(txn.b) "%[var(txn.b)]b-%[var(txn.h)]"
 http-request set-header X-B %[var(txn.b)]
 server s %[echo]
`)
	resp := rawHTTP(t, addr, "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /err HTTP/1.1\r\nHost: a\r\n\r\n"+
		"GET /silent HTTP/1.1\r\nHost: a\r\n\r\nGET /acc HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	for _, want := range []string{"x-n: xz|r|y|39", "x-n: xz|r|yy|41", "x-n: xz|r|yyy|44", "x-n: x|r|yyyy|41", "x-b: b-xz|r", "x-b: b-x|r"} {
		if !strings.Contains(resp, want) {
			t.Errorf("responses lack %q:\n%s", want, resp)
		}
	}
	for _, want := range []string{
		"<134>200 n=xz s=y r=- len=39 b=b-xz|r /a",
		"<131>200 n=xz s=yy r=- len=41 b=b-xz|r /err",
		"<134>200 n=x s=yyyy r=- len=41 b=b-x|r /acc",
	} {
		line := rx.next(t)
		if got := line[:strings.Index(line, ">")+1] + logMsg(line); got != want {
			t.Errorf("log %q, want %q", got, want)
		}
	}
}

// A listen section's content rules run once per request, not once as the
// frontend and again as the backend.
func TestTCPContentRulesListenOnce(t *testing.T) {
	addr, rx := startL7(t, `listen l
 bind %[bind]
 log-format "n=%[var(txn.n)]"
 tcp-request content set-var-fmt(txn.n) "%[var(txn.n)]x"
 server s %[echo]
`)
	rawHTTP(t, addr, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	for i := 0; i < 2; i++ {
		if got := logMsg(rx.next(t)); got != "n=x" {
			t.Errorf("log %q, want n=x", got)
		}
	}
}

// A content rule's reject closes the connection without a response, at
// whichever request it comes; HAProxy logs status -1, PR and no %TR, and
// the request's req variables are still there. The frontend's rules run
// before the request is captured (%r <BADREQ>, empty capture slots, the
// frontend as backend); the backend's after.
func TestTCPContentRejectInHTTP(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST %ts %TR %b %s %{+Q}r %hr U=%U %[var(req.r)]"
 capture request header Host len 5
 tcp-request content set-var(req.r) str(r)
 tcp-request content reject if { path /rej }
 default_backend be
backend be
 tcp-request content reject if { path /brej }
 server s %[echo]
`)
	for _, tc := range []struct{ req, log string }{
		{"GET /rej HTTP/1.1\r\nHost: a\r\n\r\n", `-1 PR -1 fe <NOSRV> "<BADREQ>" {} U=41 r`},
		{"POST /rej HTTP/1.1\r\nHost: a\r\ncontent-length: 10\r\n\r\nabc", `-1 PR -1 fe <NOSRV> "<BADREQ>" {} U=61 r`},
		{"GET /brej HTTP/1.1\r\nHost: a\r\n\r\n", `-1 PR -1 be <NOSRV> "GET /brej HTTP/1.1" {a} U=42 r`},
	} {
		// A first request goes through; the connection ends at the second.
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n"+tc.req)
		b, err := io.ReadAll(c)
		c.Close()
		if err != nil || strings.Count(string(b), "HTTP/1.1 ") != 1 {
			t.Errorf("%q: got %q (%v), want one response, then the connection closed", tc.req, b, err)
		}
		if got := logMsg(rx.next(t)); !strings.HasPrefix(got, `200 -- `) {
			t.Errorf("first log %q", got)
		}
		if got := logMsg(rx.next(t)); got != tc.log {
			t.Errorf("%q: log %q, want %q", tc.req, got, tc.log)
		}
	}
}

// With an inspect delay, a rule that cannot decide yet (req.len may still
// grow) waits for the body, until it is all there or the delay expires; a
// request received whole is decided at once. The lengths are haproxy
// 2.6.12's: the head in HTX form (38, 54 here) and the body data.
func TestTCPContentInspectDelayInHTTP(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST len=%[var(txn.len)] big=%[var(txn.big)]"
 tcp-request inspect-delay 300ms
 tcp-request content set-var(txn.big) str(yes) if { req.len gt 58 }
 tcp-request content set-var(txn.len) req.len
 default_backend be
backend be
 server s %[echo]
`)
	start := time.Now()
	rawHTTP(t, addr, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("a whole request waited %v", d)
	}
	if got, want := logMsg(rx.next(t)), "200 len=38 big=-"; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
	// Half the body comes with the head, the rest after a pause: within
	// the delay, the rule sees it all; past it, it decided without.
	for _, tc := range []struct {
		pause time.Duration
		want  string
	}{{50 * time.Millisecond, "200 len=60 big=yes"}, {500 * time.Millisecond, "200 len=57 big=-"}} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\ncontent-length: 6\r\n\r\nabc")
		time.Sleep(tc.pause) // the client's pace, not a wait for Sluice
		io.WriteString(c, "def")
		io.ReadAll(c)
		c.Close()
		if got := logMsg(rx.next(t)); got != tc.want {
			t.Errorf("pause %v: log %q, want %q", tc.pause, got, tc.want)
		}
	}
}
