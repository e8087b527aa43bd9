package h1

import (
	"errors"
	"strings"
	"testing"
)

// haproxyCases are requests sent through HAProxy 2.6.12-1+deb12u4 (a
// mode http frontend on 127.0.0.1 in front of a raw echo server), with
// what HAProxy answered (status) or forwarded (out, the head the echo
// server received). Sluice must do the same. out is what AppendRequest
// writes: where HAProxy also rewrites a forwarded head (it drops
// Connection fields holding only close or keep-alive, removes a default
// port from a CONNECT Host), that is the engine's job and out keeps the
// field as received. The default port of an absolute target is h1's to
// remove (scheme-based normalization), from the target and Host alike. Two or more spaces in out are
// the spaces HAProxy leaves where an obs-fold was.
var haproxyCases = []struct {
	name    string
	in      string
	status  int // 0: forwarded
	out     string
	framing Framing
	cl      int64
	close   bool // HAProxy closes the connection after it
}{
	{name: "identical Host repeated is merged", in: "GET / HTTP/1.1\r\nHost: a\r\nHost: A\r\n\r\n",
		out: "GET / HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "different Host", in: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400},
	{name: "tabs in the request line", in: "GET\t/\tHTTP/1.1\r\nHost: a\r\n\r\n",
		out: "GET / HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "HTTP/0.9 version is forwarded as is", in: "GET / HTTP/0.9\r\nHost: a\r\n\r\n",
		out: "GET / HTTP/0.9\r\nhost: a\r\n\r\n"},
	{name: "HTTP/0.9 without version", in: "GET /\r\n\r\n", status: 400},
	{name: "version 1.10", in: "GET / HTTP/1.10\r\nHost: a\r\n\r\n", status: 400},
	{name: "space after version", in: "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", status: 400},
	{name: "tab in target", in: "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "CTL in method", in: "G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "TE empty element first", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked\r\n\r\n", status: 422},
	{name: "TE empty element after chunked", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,,\r\n\r\n", status: 400},
	{name: "TE trailing comma", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n",
		out: "POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked,\r\n\r\n", framing: Chunked},
	{name: "TE identity then chunked", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n", status: 422},
	{name: "TE empty", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", status: 400},
	{name: "TE in two fields", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", status: 422},
	{name: "CL with leading zeros", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0000000000000000000003\r\n\r\n",
		out: "POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 0000000000000000000003\r\n\r\n", framing: Length, cl: 3},
	{name: "CL trailing comma", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3,\r\n\r\n", status: 400},
	{name: "CL empty", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", status: 400},
	{name: "CL and TE", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
		out: "POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n", framing: Chunked, close: true},
	{name: "TE in HTTP/1.0", in: "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
		out: "POST / HTTP/1.0\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n", framing: Chunked, close: true},
	{name: "HTTP/1.0 GET with a body", in: "GET / HTTP/1.0\r\nHost: a\r\nContent-Length: 3\r\n\r\n", status: 413},
	{name: "HTTP/1.0 DELETE with an empty body", in: "DELETE / HTTP/1.0\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
		out: "DELETE / HTTP/1.0\r\nhost: a\r\ncontent-length: 0\r\n\r\n", framing: Length},
	{name: "100 fields", in: "GET / HTTP/1.1\r\nHost: a\r\n" + fields(99) + "Connection: close\r\n\r\n",
		out: "GET / HTTP/1.1\r\nhost: a\r\n" + strings.ToLower(fields(99)) + "connection: close\r\n\r\n", close: true},
	{name: "101 fields", in: "GET / HTTP/1.1\r\nHost: a\r\n" + fields(100) + "\r\n", status: 400},
	{name: "repeated CL is not counted", in: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n" + fields(98) + "\r\n",
		out: "GET / HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n" + strings.ToLower(fields(98)) + "\r\n", framing: Length},
	{name: "absolute target, other host", in: "GET http://b/ HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "absolute target, same host", in: "GET http://a/x HTTP/1.1\r\nHost: A\r\n\r\n",
		out: "GET http://a/x HTTP/1.1\r\nhost: A\r\n\r\n"},
	{name: "absolute target, default port", in: "GET https://a/x HTTP/1.1\r\nHost: a:443\r\n\r\n",
		out: "GET https://a/x HTTP/1.1\r\nhost: a:443\r\n\r\n"},
	{name: "absolute target naming its default port", in: "GET http://a:80/x HTTP/1.1\r\nHost: a:80\r\n\r\n",
		out: "GET http://a/x HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "absolute target, other port", in: "GET http://a:81/x HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "network-path target", in: "GET //a/x HTTP/1.1\r\nHost: b\r\n\r\n",
		out: "GET //a/x HTTP/1.1\r\nhost: b\r\n\r\n"},
	{name: "ftp target, other host", in: "GET ftp://a/x HTTP/1.1\r\nHost: b\r\n\r\n", status: 400},
	{name: "absolute target without Host", in: "GET http://a/x HTTP/1.1\r\n\r\n", out: "GET http://a/x HTTP/1.1\r\n\r\n"},
	{name: "CONNECT", in: "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", out: "CONNECT a:443 HTTP/1.1\r\nhost: a:443\r\n\r\n"},
	{name: "CONNECT without port", in: "CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "CONNECT to a path", in: "CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "CONNECT, other Host", in: "CONNECT a:443 HTTP/1.1\r\nHost: b:443\r\n\r\n", status: 400},
	{name: "WebSocket without key", in: "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", status: 400},
	{name: "WebSocket short key", in: "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: abc\r\n\r\n", status: 400},
	{name: "obs-fold of an empty value", in: "GET / HTTP/1.1\r\nHost: a\r\nX:\r\n  v\r\n\r\n",
		out: "GET / HTTP/1.1\r\nhost: a\r\nx: v\r\n\r\n"},
	// Recorded earlier in the same way; the obs-fold case was checked again
	// live (internal/difftest): HAProxy blanks the line break, a tab stays.
	{name: "obs-fold", in: "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", out: "GET / HTTP/1.1\r\nx: a  \tb\r\n\r\n"},
	{name: "TE gzip, chunked", in: "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 422},
	{name: "TE chunked, gzip", in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", status: 400},
	{name: "TE identity", in: "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", status: 400},
	{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", status: 400},
	{name: "CL list", in: "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\n",
		out: "POST / HTTP/1.1\r\ncontent-length: 3\r\n\r\n", framing: Length, cl: 3},
	{name: "CL sign", in: "POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n", status: 400},
	{name: "bare LF", in: "GET / HTTP/1.1\nHost: a\n\n", out: "GET / HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "HTTP/2.0", in: "GET / HTTP/2.0\r\n\r\n", out: "GET / HTTP/1.1\r\n\r\n"},
	{name: "HTTP/1.2", in: "GET / HTTP/1.2\r\n\r\n", out: "GET / HTTP/1.1\r\n\r\n"},
	{name: "lower-case version", in: "GET / http/1.1\r\n\r\n", status: 400},
	{name: "CTL and NUL in a value", in: "GET / HTTP/1.1\r\nX: a\x01\x00b\r\n\r\n", out: "GET / HTTP/1.1\r\nx: a\x01\x00b\r\n\r\n"},
	{name: "fragment", in: "GET /a#b HTTP/1.1\r\n\r\n", status: 400},
	{name: "space in target", in: "GET /a b HTTP/1.1\r\n\r\n", status: 400},
	{name: "8-bit target", in: "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", status: 400},
	{name: "two spaces after method", in: "GET  / HTTP/1.1\r\n\r\n", out: "GET / HTTP/1.1\r\n\r\n"},
	{name: "tabs around a value", in: "GET / HTTP/1.1\r\nX:\t a \t\r\n\r\n", out: "GET / HTTP/1.1\r\nx: a\r\n\r\n"},
	{name: "lower-case method", in: "get / HTTP/1.1\r\n\r\n", out: "get / HTTP/1.1\r\n\r\n"},
	{name: "leading empty lines", in: "\r\n\nGET / HTTP/1.1\r\n\r\n", out: "GET / HTTP/1.1\r\n\r\n"},
}

func fields(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("X")
		b.WriteString(strings.Repeat("y", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(": a\r\n")
	}
	return b.String()
}

func TestLikeHAProxy(t *testing.T) {
	for _, c := range haproxyCases {
		var h Head
		n, err := ParseRequest([]byte(c.in), &h, Limits{})
		if c.status != 0 {
			var e *Error
			if !errors.As(err, &e) || e.Status != c.status {
				t.Errorf("%s: got %v, want status %d", c.name, err, c.status)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if n != len(c.in) {
			t.Errorf("%s: length %d, want %d", c.name, n, len(c.in))
		}
		if got := string(h.AppendRequest(nil)); got != c.out {
			t.Errorf("%s: forwarded as %q, want %q", c.name, got, c.out)
		}
		if h.Framing != c.framing || h.ContentLength != c.cl {
			t.Errorf("%s: framing %d/%d, want %d/%d", c.name, h.Framing, h.ContentLength, c.framing, c.cl)
		}
		if got := h.Conn&ConnClose != 0; got != c.close {
			t.Errorf("%s: close %v, want %v", c.name, got, c.close)
		}
	}
}

// haproxyResponses are responses HAProxy 2.6.12 got from a server, with
// the status line it forwarded (or 502).
var haproxyResponses = []struct {
	name    string
	in      string
	bad     bool
	line    string // AppendResponse's first line
	framing Framing
	close   bool
}{
	{name: "TE gzip", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", bad: true},
	{name: "TE gzip, chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", bad: true},
	{name: "TE chunked, gzip", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", bad: true},
	{name: "TE empty", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\nContent-Length: 3\r\n\r\n",
		line: "HTTP/1.1 200 OK", framing: UntilClose, close: true},
	{name: "CL and TE", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n",
		line: "HTTP/1.1 200 OK", framing: Chunked, close: true},
	{name: "CL differ", in: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", bad: true},
	{name: "spaces", in: "HTTP/1.1  200  OK\r\nContent-Length: 3\r\n\r\n", line: "HTTP/1.1 200 OK", framing: Length},
	{name: "tabs", in: "HTTP/1.1\t200\tOK\r\nContent-Length: 3\r\n\r\n", line: "HTTP/1.1 200 OK", framing: Length},
	{name: "HTTX/1.1", in: "HTTX/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", line: "HTTP/1.1 200 OK", framing: Length},
	{name: "HTTX/1.0", in: "HTTX/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", line: "HTTX/1.0 200 OK", framing: Length},
	{name: "HTTP/0.9", in: "HTTP/0.9 200 OK\r\nContent-Length: 3\r\n\r\n", line: "HTTP/0.9 200 OK", framing: Length},
	{name: "HTTP/1.2", in: "HTTP/1.2 200 OK\r\nContent-Length: 3\r\n\r\n", line: "HTTP/1.1 200 OK", framing: Length},
	{name: "no reason", in: "HTTP/1.1 200\r\nContent-Length: 3\r\n\r\n", line: "HTTP/1.1 200 ", framing: Length},
	{name: "leading CRLF", in: "\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", line: "HTTP/1.1 200 OK", framing: Length},
	{name: "two Host", in: "HTTP/1.1 200 OK\r\nHost: a\r\nHost: b\r\nContent-Length: 3\r\n\r\n", line: "HTTP/1.1 200 OK", framing: Length},
}

func TestResponsesLikeHAProxy(t *testing.T) {
	for _, c := range haproxyResponses {
		var h Head
		_, err := ParseResponse([]byte(c.in), &h, false, Limits{})
		if c.bad {
			if err == nil {
				t.Errorf("%s: accepted", c.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		out := string(h.AppendResponse(nil))
		if line, _, _ := strings.Cut(out, "\r\n"); line != c.line {
			t.Errorf("%s: forwarded as %q, want %q", c.name, line, c.line)
		}
		if h.Framing != c.framing {
			t.Errorf("%s: framing %d, want %d", c.name, h.Framing, c.framing)
		}
		if got := h.Conn&ConnClose != 0; got != c.close {
			t.Errorf("%s: close %v, want %v", c.name, got, c.close)
		}
	}
}
