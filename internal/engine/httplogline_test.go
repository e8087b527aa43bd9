package engine

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// %r is the request line as received, for a request with a body too (its
// head is copied out of the client buffer before the body is read), and
// for the keep-alive requests that follow.
func TestHTTPLogRequestLine(t *testing.T) {
	rx := startSyslog(t)
	b := startHTTPBackend(t, "b")
	p := freeAddr(t)
	startLogged(t, rx, httpDefaults+fmt.Sprintf(" log global\n option httplog\n"+
		"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", p, b.hostPort()))
	c, err := net.Dial("tcp", p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	k := &allocClient{c: c, buf: make([]byte, 4096)}
	for _, req := range []string{
		"POST /body?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
		"GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
		"PUT /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	} {
		if err := k.roundTrip([]byte(req)); err != nil {
			t.Fatalf("%q: %v", req, err)
		}
		want := `"` + req[:strings.Index(req, "\r\n")] + `"`
		if l := strings.TrimSpace(rx.next(t)); !strings.HasSuffix(l, want) {
			t.Errorf("logged %q, want it to end with %s", l, want)
		}
	}
}

// A request cut short and timed out by timeout http-request logs 408
// with its whole wait in %Ta, as HAProxy does: the idle time (%Ti) ends
// at its first byte, not at the timeout.
func TestHTTPLogTimedOutRequestActiveTime(t *testing.T) {
	rx := startSyslog(t)
	b := startHTTPBackend(t, "b")
	p := freeAddr(t)
	startLogged(t, rx, httpDefaults+fmt.Sprintf(" log global\n timeout http-request 300ms\n"+
		"frontend fe\n bind %s\n log-format \"%%ST %%Ti %%Ta\"\n default_backend be\nbackend be\n server s1 %s\n", p, b.hostPort()))
	c, err := net.Dial("tcp", p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("GET / HT"))
	var st, ti, ta int
	l := strings.TrimSpace(rx.next(t))
	if _, err := fmt.Sscanf(l[strings.LastIndex(l, "408"):], "%d %d %d", &st, &ti, &ta); err != nil {
		t.Fatalf("log line %q: %v", l, err)
	}
	if st != 408 || ti > 150 || ta < 250 {
		t.Errorf("logged %q: want 408, %%Ti near 0 and %%Ta near 300", l)
	}
}
