package engine

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// A 503 answered while the request body is still arriving (no server
// up, or every connection attempt refused) closes the connection as
// haproxy 2.6 does: the error page with "connection: close", then a FIN.
// What the client sent and nobody read is discarded first, so that the
// close is not a reset that could destroy the response before the client
// reads it. The log line is HAProxy's: 503, SC, the retries.
func TestServerErrorDuringRequestBody(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST %ts %rc %B %{+Q}r"
 use_backend none if { path /none }
 default_backend dead
backend dead
 timeout connect 100ms
 retries 2
 server s 127.0.0.1:1
backend none
 server s 127.0.0.1:1 disabled
`)
	body := bytes.Repeat([]byte("b"), 100000)
	for _, tc := range []struct{ path, log string }{
		{"/dead", `503 SC 2 217 "POST /dead HTTP/1.1"`},
		{"/none", `503 SC 0 217 "POST /none HTTP/1.1"`},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		// The head and a first part of the body; the rest comes while
		// Sluice tries the server (or already answered).
		c.Write(append([]byte("POST "+tc.path+" HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n"), body[:1000]...))
		if tc.path == "/dead" {
			c.Write(body[1000:]) // pending, unread, when the 503 goes out
		}
		resp, err := io.ReadAll(c)
		c.Close()
		if err != nil {
			t.Errorf("%s: after %q: %v, want a FIN", tc.path, resp, err)
		}
		if !strings.HasPrefix(string(resp), "HTTP/1.1 503 Service Unavailable\r\n") ||
			!strings.Contains(string(resp), "\r\nconnection: close\r\n") || !strings.HasSuffix(string(resp), "</body></html>\n") {
			t.Errorf("%s: response %q", tc.path, resp)
		}
		if got := logMsg(rx.next(t)); got != tc.log {
			t.Errorf("%s: log %q, want %q", tc.path, got, tc.log)
		}
	}
}

// A content rule's reject in mode tcp closes with a FIN too, whatever
// the client had sent.
func TestTCPRejectDrainsInput(t *testing.T) {
	p := freeAddr(t)
	startCfg(t, tcpDefaults+`listen l
 bind `+p+`
 tcp-request inspect-delay 1s
 tcp-request content reject if { req.len gt 0 }
 server s 127.0.0.1:1
`)
	c, err := net.Dial("tcp", p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write(bytes.Repeat([]byte("x"), 50000))
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Errorf("got %q, %v; want nothing, then a FIN", b, err)
	}
}

// A client that leaves in the middle of its request body, before any
// response, is logged CD with status -1, as HAProxy logs it.
func TestClientAbortDuringRequestBody(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST %ts %{+Q}r"
 default_backend be
backend be
 server s %[echo]
`)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
	c.(*net.TCPConn).CloseWrite()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(c)
	c.Close()
	if got, want := logMsg(rx.next(t)), `-1 CD "POST /p HTTP/1.1"`; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}
