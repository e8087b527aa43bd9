package h1

import (
	"errors"
	"strings"
	"testing"
)

var parseRequestCases = []struct {
	in      string
	status  int // 0: accepted
	framing Framing
	cl      int64
	out     string // AppendRequest of the parsed head
}{
	{in: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", out: "GET / HTTP/1.1\r\nhost: a\r\n\r\n"},
	{in: "\r\n\r\nGET /x?y HTTP/1.0\nHost:  a \t\n\n", out: "GET /x?y HTTP/1.0\r\nhost: a\r\n\r\n"},
	{in: "POST /  HTTP/1.1\r\nContent-Length: 3, 3\r\ncontent-length: 3\r\n\r\n", framing: Length, cl: 3,
		out: "POST / HTTP/1.1\r\ncontent-length: 3\r\n\r\n"},
	{in: "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", framing: Chunked,
		out: "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n"},
	{in: "GET / HTTP/2.0\r\nX: a\r\n b\r\n\r\n", out: "GET / HTTP/1.1\r\nx: a   b\r\n\r\n"},
	{in: "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", status: 400},
	{in: "POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n", status: 400},
	{in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", status: 400},
	{in: "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 422},
	{in: "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", status: 400},
	{in: "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", status: 400},
	{in: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400},
	{in: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", status: 400},
	{in: "GET / HTTP/1.1\r\n: a\r\n\r\n", status: 400},
	{in: "GET / HTTP/1.1\r\nnocolon\r\n\r\n", status: 400},
	{in: "GET /\r\n\r\n", status: 400},
	{in: "GET / http/1.1\r\n\r\n", status: 400},
	{in: "GET /a#b HTTP/1.1\r\n\r\n", status: 400},
	{in: "GET /a\x80 HTTP/1.1\r\n\r\n", status: 400},
	{in: "GET / HTTP/1.1\r\n folded\r\n\r\n", status: 400},
	{in: "GET / HTTP/1.1\rX: y\r\n\r\n", status: 400},
	{in: "\r\rGET / HTTP/1.1\r\n\r\n", status: 400},
	// The fold becomes spaces; a tab inside the folded line stays.
	{in: "GET / HTTP/1.1\r\nX: a\t\r\n b\tc\r\n\r\n", out: "GET / HTTP/1.1\r\nx: a\t   b\tc\r\n\r\n"},
	{in: "GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
		out: "GET / HTTP/1.1\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"},
	// With a body HAProxy does not treat it as an upgrade: no key needed.
	{in: "POST / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 1\r\n\r\n", framing: Length, cl: 1,
		out: "POST / HTTP/1.1\r\nconnection: upgrade\r\nupgrade: websocket\r\ncontent-length: 1\r\n\r\n"},
	{in: "CONNECT a:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\n", out: "CONNECT a:443 HTTP/1.1\r\ncontent-length: 5\r\n\r\n"},
	{in: "GET / HTTP/1.1\r\nX: a\r\n" + fields(100) + "\r\n", status: 400},
	{in: "GET / HTTP/1.1\r\nConnection: close\r\n" + fields(100) + "\r\n", out: "GET / HTTP/1.1\r\nconnection: close\r\n" + strings.ToLower(fields(100)) + "\r\n"},
}

func TestParseRequest(t *testing.T) {
	for _, c := range parseRequestCases {
		var h Head
		n, err := ParseRequest([]byte(c.in), &h, Limits{})
		if c.status != 0 {
			var e *Error
			if !errors.As(err, &e) || e.Status != c.status {
				t.Errorf("%q: got %v, want status %d", c.in, err, c.status)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if n != len(c.in) {
			t.Errorf("%q: length %d, want %d", c.in, n, len(c.in))
		}
		if h.Framing != c.framing || h.ContentLength != c.cl {
			t.Errorf("%q: framing %d/%d, want %d/%d", c.in, h.Framing, h.ContentLength, c.framing, c.cl)
		}
		if got := string(h.AppendRequest(nil)); got != c.out {
			t.Errorf("%q: forwarded as %q, want %q", c.in, got, c.out)
		}
	}
}

func TestParseIncomplete(t *testing.T) {
	full := "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n"
	for i := 0; i < len(full); i++ {
		var h Head
		if _, err := ParseRequest([]byte(full[:i]), &h, Limits{}); err != ErrIncomplete {
			t.Fatalf("prefix %q: %v, want ErrIncomplete", full[:i], err)
		}
	}
}

var parseResponseCases = []struct {
	in      string
	head    bool
	framing Framing
	bad     bool
}{
	{in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", framing: Length},
	{in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", head: true, framing: NoBody},
	{in: "HTTP/1.1 204 No Content\r\n\r\n", framing: NoBody},
	{in: "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", framing: NoBody},
	{in: "HTTP/1.1 101 Switching\r\n\r\n", framing: NoBody},
	{in: "HTTP/1.0 200\r\n\r\n", framing: UntilClose},
	{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", framing: Chunked},
	{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", bad: true},
	{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", bad: true},
	{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", bad: true},
	{in: "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", bad: true},
	{in: "HTTP/1.1 20 OK\r\n\r\n", bad: true},
	{in: "HTTP/1.1 099 OK\r\n\r\n", bad: true},
	{in: "HTTP/1.1 1000 OK\r\n\r\n", bad: true},
	{in: "HTTP/1.1 101 Switching\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", bad: true},
	{in: "HTTP/1.1 101 Switching\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n\r\n", framing: NoBody},
	{in: "HTTX/1.1 200 OK\r\n\r\n", framing: UntilClose},
	{in: "http/1.1 200 OK\r\n\r\n", bad: true},
}

func TestParseResponse(t *testing.T) {
	for _, c := range parseResponseCases {
		var h Head
		_, err := ParseResponse([]byte(c.in), &h, c.head, Limits{})
		if c.bad != (err != nil) {
			t.Errorf("%q: err %v", c.in, err)
			continue
		}
		if err == nil && h.Framing != c.framing {
			t.Errorf("%q: framing %d, want %d", c.in, h.Framing, c.framing)
		}
	}
}

func TestChunkSize(t *testing.T) {
	// Accepted and refused as HAProxy 2.6.12 does (probed): leading zeros
	// do not count toward the 13-digit limit; an extension may hold CTLs.
	for in, want := range map[string]int64{"0\r\n": 0, "1a\r\n": 26, "FF;ext=1\r\n": 255, "10 ; a\r\n": 16, "3\n": 3,
		"3\t;x\r\n": 3, "3;a\x01b\r\n": 3, "3 \r\n": 3, "00000000000000000003\r\n": 3, "fffffffffffff\r\n": 1<<52 - 1} {
		n, l, err := ParseChunkSize([]byte(in))
		if err != nil || n != want || l != len(in) {
			t.Errorf("%q: %d %d %v", in, n, l, err)
		}
	}
	for _, in := range []string{"x\r\n", "-1\r\n", "1x\r\n", "ffffffffffffffffff\r\n", "\r\n",
		"10000000000000\r\n", "0x3\r\n", "3;a\rb\r\n", "3 4\r\n"} {
		if _, _, err := ParseChunkSize([]byte(in)); err == nil || err == ErrIncomplete {
			t.Errorf("%q accepted: %v", in, err)
		}
	}
	if got := string(AppendChunkSize(nil, 300)); got != "12C\r\n" {
		t.Errorf("AppendChunkSize: %q", got)
	}
}

func TestParseAllocs(t *testing.T) {
	req := []byte("GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8\r\nAccept: */*\r\nCookie: a=b\r\n\r\n")
	var h Head
	out := make([]byte, 0, 512)
	if a := testing.AllocsPerRun(100, func() {
		if _, err := ParseRequest(req, &h, Limits{}); err != nil {
			t.Fatal(err)
		}
		out = h.AppendRequest(out[:0])
	}); a != 0 {
		t.Errorf("%v allocations per request", a)
	}
}

func TestParseResponseIncomplete(t *testing.T) {
	full := "\r\nHTTP/1.1  200 OK\r\nContent-Length: 10\r\nX: a\r\n b\r\n\r\n"
	for i := 0; i < len(full); i++ {
		var h Head
		if _, err := ParseResponse([]byte(full[:i]), &h, false, Limits{}); err != ErrIncomplete {
			t.Fatalf("prefix %q: %v, want ErrIncomplete", full[:i], err)
		}
	}
}

func TestChunkedDecoder(t *testing.T) {
	body := "3;x\r\nabc\r\n00010\r\n0123456789abcdef\r\n0\r\nX-T: v\r\n\r\nNEXT"
	for step := 1; step <= len(body); step++ {
		got, err := decodeStream([]byte(body), step)
		if err != nil || string(got) != "abc0123456789abcdef" {
			t.Fatalf("step %d: %q %v", step, got, err)
		}
	}
	var d ChunkedDecoder
	buf := []byte(body)
	var n int
	for {
		_, c, done, err := d.Next(buf[n:])
		if err != nil {
			t.Fatal(err)
		}
		n += c
		if done {
			break
		}
	}
	if string(buf[n:]) != "NEXT" || d.Size != 19 || len(d.Trailers) != 1 || string(d.Trailers[0].Value) != "v" {
		t.Errorf("rest %q, size %d, trailers %q", buf[n:], d.Size, d.Trailers)
	}
	for _, bad := range []string{"3\r\nabcX", "g\r\n", "3\r\nabc\r\n0\r\nX T: v\r\n\r\n"} {
		d.Reset()
		if _, err := decodeStream([]byte(bad), len(bad)); err == nil || err == ErrIncomplete {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Reset keeps the field list's entries for the next message (no
// allocation); Forget clears them, so that a head put away holds no
// reference to the buffer its last message was read from.
func TestForgetDropsFieldReferences(t *testing.T) {
	var h Head
	if _, err := ParseRequest([]byte("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nX-B: 2\r\n\r\n"), &h, Limits{}); err != nil {
		t.Fatal(err)
	}
	h.Reset()
	if all := h.Fields[:cap(h.Fields)]; all[0].Name == nil {
		t.Fatal("Reset cleared the entries; the test cannot tell Forget's work from Reset's")
	}
	h.Forget()
	if len(h.Fields) != 0 {
		t.Fatalf("Forget left %d fields", len(h.Fields))
	}
	for i, f := range h.Fields[:cap(h.Fields)] {
		if f.Name != nil || f.Value != nil {
			t.Fatalf("entry %d still points at %q: %q", i, f.Name, f.Value)
		}
	}
}

// TestAppendCaseMap: names found in a CaseMap are sent in its case, the
// others in lower case, trailers included, without allocating.
func TestAppendCaseMap(t *testing.T) {
	var h Head
	raw := []byte("GET / HTTP/1.1\r\nHost: a\r\nX-FOO: 1\r\nX-Bar: 2\r\n\r\n")
	if _, err := ParseRequest(raw, &h, Limits{MaxFields: 100}); err != nil {
		t.Fatal(err)
	}
	cm := CaseMap{"x-foo": "X-Foo", "host": "HOST", "X-Bar": "X-BAR"}
	got := string(h.AppendRequestCase(nil, cm))
	if want := "GET / HTTP/1.1\r\nHOST: a\r\nX-Foo: 1\r\nx-bar: 2\r\n\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := string(h.AppendRequest(nil)); got != "GET / HTTP/1.1\r\nhost: a\r\nx-foo: 1\r\nx-bar: 2\r\n\r\n" {
		t.Fatalf("without a map: %q", got)
	}
	tr := AppendTrailers(nil, []Field{{Name: []byte("X-FOO"), Value: []byte("t")}}, cm)
	if string(tr) != "0\r\nX-Foo: t\r\n\r\n" {
		t.Fatalf("trailers: %q", tr)
	}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { h.AppendRequestCase(buf[:0], cm) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
