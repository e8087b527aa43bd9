package h1

import (
	"errors"
	"testing"
)

func TestParseRequest(t *testing.T) {
	cases := []struct {
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
	}
	for _, c := range cases {
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

func TestParseResponse(t *testing.T) {
	cases := []struct {
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
		// HAProxy 2.6 answers 502 to a response coded without chunked last.
		{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", bad: true},
		{in: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", framing: NoBody},
		{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", framing: Chunked},
		{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", bad: true},
		{in: "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", bad: true},
		{in: "HTTP/1.1 20 OK\r\n\r\n", bad: true},
		{in: "HTTX/1.1 200 OK\r\n\r\n", bad: true},
	}
	for _, c := range cases {
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
	for in, want := range map[string]int64{"0\r\n": 0, "1a\r\n": 26, "FF;ext=1\r\n": 255, "10 ; a\r\n": 16, "3\n": 3} {
		n, l, err := ParseChunkSize([]byte(in))
		if err != nil || n != want || l != len(in) {
			t.Errorf("%q: %d %d %v", in, n, l, err)
		}
	}
	for _, in := range []string{"x\r\n", "-1\r\n", "1x\r\n", "ffffffffffffffffff\r\n", "\r\n"} {
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
