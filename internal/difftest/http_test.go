package difftest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The Layer 7 request differential sends a corpus of raw requests, valid
// and malformed (request smuggling attempts included), through haproxy and
// Sluice running the same mode http configuration, each in front of its own
// raw backend (l7Backend). For every entry it compares what the client got
// back (every byte: error pages included), the exact bytes each backend
// connection received, whether the client connection stayed open for a
// probe request, and how many backend connections were opened (the echo
// body names the connection and the request's rank on it, so connection
// reuse shows in the bytes the client gets).
//
// Entries whose request path starts with /s/NAME make the backend answer
// with the scripted response NAME (l7Scripts) instead of the echo: the
// response-side cases.

// l7Case is one corpus entry: raw bytes sent on one client connection.
type l7Case struct {
	name string
	raw  string
	// reqs is how many final responses the client waits for (default
	// 1); -1: the client sends raw and closes at once, reading nothing.
	reqs int
	// head: the responses answer HEAD requests (no body).
	head bool
	// noProbe: no probe request after the responses (the connection is
	// a tunnel or deliberately left hanging).
	noProbe bool
	// known, when set, is why Sluice is allowed to differ from haproxy
	// here; the difference is logged instead of failing the test.
	known string
	// to: "2" sends the connection to the second frontend of an
	// l7feat_test.go case (%BIND2).
	to string
}

func get(path string, hdrs ...string) string {
	return "GET " + path + " HTTP/1.1\r\nhost: a\r\n" + joinHdrs(hdrs) + "\r\n"
}

func joinHdrs(h []string) string {
	var b strings.Builder
	for _, x := range h {
		b.WriteString(x + "\r\n")
	}
	return b.String()
}

var l7Corpus = []l7Case{
	// Well-formed requests.
	{name: "get", raw: get("/")},
	{name: "get with headers kept in order and case", raw: "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-Foo: Bar\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n"},
	{name: "post content-length", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello"},
	{name: "post empty content-length", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n"},
	{name: "post chunked", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
	{name: "post chunked upper-case hex", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n"},
	{name: "chunk extensions", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5;name=val\r\nhello\r\n0;x\r\n\r\n"},
	{name: "chunked trailers", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: v\r\nOther: w\r\n\r\n"},
	{name: "chunk size leading zeros", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n0005\r\nhello\r\n000\r\n\r\n"},
	{name: "head", raw: "HEAD / HTTP/1.1\r\nhost: a\r\n\r\n", head: true},
	{name: "pipelined gets", raw: get("/1") + get("/2") + get("/3"), reqs: 3},
	{name: "pipelined post then get", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nabc" + get("/2"), reqs: 2},
	{name: "http/1.0", raw: "GET / HTTP/1.0\r\n\r\n"},
	{name: "http/1.0 keep-alive", raw: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
	{name: "http/1.0 with host", raw: "GET / HTTP/1.0\r\nhost: a\r\n\r\n"},
	{name: "connection close", raw: get("/", "Connection: close")},
	{name: "connection close with other tokens", raw: get("/", "Connection: close, X-Foo", "X-Foo: 1")},
	{name: "connection tokens around close", raw: get("/", "Connection: X-A, close ,X-B", "X-A: 1", "X-B: 2")},
	{name: "connection keep-alive on 1.1", raw: get("/", "Connection: keep-alive")},
	{name: "expect 100-continue", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\nhello"},
	{name: "expect other", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\nexpect: something\r\n\r\nhello"},
	{name: "obs-fold", raw: "GET / HTTP/1.1\r\nhost: a\r\nX-Folded: one\r\n two\r\n\tthree\r\n\r\n"},
	{name: "leading CRLFs", raw: "\r\n\r\n" + get("/")},
	{name: "leading bare LF", raw: "\n" + get("/")},
	{name: "empty header value", raw: get("/", "X-Empty:")},
	{name: "header value with trailing spaces", raw: get("/", "X-Sp:  v  ")},
	{name: "tab around value", raw: get("/", "X-Tab:\tv\t")},
	{name: "long header name", raw: get("/", "X-"+strings.Repeat("n", 500)+": v")},
	{name: "8-bit header value", raw: get("/", "X-8: caf\xc3\xa9")},
	{name: "upgrade websocket", raw: "GET /s/upgrade HTTP/1.1\r\nhost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", noProbe: true},
	{name: "upgrade header without connection upgrade", raw: get("/", "Upgrade: websocket")},

	// Content-Length and Transfer-Encoding variants.
	{name: "TE gzip, chunked", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE chunked, gzip", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE chunked twice in one header", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE chunked in two headers", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE gzip then TE chunked headers", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE upper-case CHUNKED", raw: "POST /p HTTP/1.1\r\nhost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE identity", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: identity\r\ncontent-length: 5\r\n\r\nhello"},
	{name: "TE gzip alone", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip\r\n\r\nhello"},
	{name: "TE empty", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding:\r\ncontent-length: 5\r\n\r\nhello"},
	{name: "TE with HTTP/1.0", raw: "POST /p HTTP/1.0\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE with HTTP/1.0 keep-alive", raw: "POST /p HTTP/1.0\r\nhost: a\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE and CL", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "CL 3, 3", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 3, 3\r\n\r\nabc"},
	{name: "CL duplicated identical", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ncontent-length: 3\r\n\r\nabc"},
	{name: "CL duplicated different", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd"},
	{name: "CL 3, 4", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 3, 4\r\n\r\nabcd"},
	{name: "CL body longer than CL", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nabcdef", reqs: 2},
	{name: "CL +3", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: +3\r\n\r\nabc"},
	{name: "CL negative", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: -3\r\n\r\nabc"},
	{name: "CL hex", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 0x3\r\n\r\nabc"},
	{name: "CL with space inside", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 1 2\r\n\r\nabcdefghijkl"},
	{name: "CL empty", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length:\r\n\r\n"},
	{name: "CL huge overflow", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 99999999999999999999999\r\n\r\nabc"},
	{name: "CL leading zeros", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 0003\r\n\r\nabc"},
	{name: "CL on GET", raw: "GET / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nabc"},

	// Malformed heads.
	{name: "two Host headers", raw: "GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n"},
	{name: "two identical Host headers", raw: "GET / HTTP/1.1\r\nhost: a\r\nhost: a\r\n\r\n"},
	{name: "no Host on 1.1", raw: "GET / HTTP/1.1\r\n\r\n"},
	{name: "space before colon", raw: "GET / HTTP/1.1\r\nhost: a\r\nX-Foo : bar\r\n\r\n"},
	{name: "empty header name", raw: "GET / HTTP/1.1\r\nhost: a\r\n: bar\r\n\r\n"},
	{name: "header without colon", raw: "GET / HTTP/1.1\r\nhost: a\r\nX-Foo bar\r\n\r\n"},
	{name: "bare LF line endings", raw: "GET / HTTP/1.1\nhost: a\nX-Foo: bar\n\n"},
	{name: "bare LF after request line only", raw: "GET / HTTP/1.1\nhost: a\r\n\r\n"},
	{name: "bare CR in header value", raw: "GET / HTTP/1.1\r\nhost: a\r\nX-Foo: b\rar\r\n\r\n"},
	{name: "bare CR ending a line", raw: "GET / HTTP/1.1\rhost: a\r\n\r\n"},
	{name: "NUL in header value", raw: "GET / HTTP/1.1\r\nhost: a\r\nX-Foo: b\x00ar\r\n\r\n"},
	{name: "CTL in header value", raw: "GET / HTTP/1.1\r\nhost: a\r\nX-Foo: b\x01ar\r\n\r\n"},
	{name: "DEL in header value", raw: "GET / HTTP/1.1\r\nhost: a\r\nX-Foo: b\x7far\r\n\r\n"},
	{name: "8-bit in header name", raw: "GET / HTTP/1.1\r\nhost: a\r\nX-F\xe9o: bar\r\n\r\n"},
	{name: "folded line first", raw: "GET / HTTP/1.1\r\n host: a\r\n\r\n"},
	{name: "HTTP/0.9", raw: "GET /\r\n", noProbe: true},
	{name: "HTTP/2.0", raw: "GET / HTTP/2.0\r\nhost: a\r\n\r\n"},
	{name: "HTTP/1.2", raw: "GET / HTTP/1.2\r\nhost: a\r\n\r\n"},
	{name: "HTTP/3.0", raw: "GET / HTTP/3.0\r\nhost: a\r\n\r\n"},
	{name: "lowercase http/1.1", raw: "GET / http/1.1\r\nhost: a\r\n\r\n"},
	{name: "version without minor", raw: "GET / HTTP/1\r\nhost: a\r\n\r\n"},
	{name: "lowercase method", raw: "get / HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "unknown method", raw: "FOO / HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "method with bad char", raw: "G(T / HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "two spaces after method", raw: "GET  / HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "tab separator", raw: "GET\t/ HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "trailing space after version", raw: "GET / HTTP/1.1 \r\nhost: a\r\n\r\n"},
	{name: "hash in URI", raw: "GET /a#frag HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "space in URI", raw: "GET /a b HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "8-bit in URI", raw: "GET /caf\xc3\xa9 HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "CTL in URI", raw: "GET /a\x01b HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "quote and braces in URI", raw: "GET /a\"{}|\\^` HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "absolute URI matching Host", raw: "GET http://a/x HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "absolute URI mismatching Host", raw: "GET http://b/x HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "absolute URI without Host", raw: "GET http://b/x HTTP/1.1\r\n\r\n"},
	{name: "absolute URI with port", raw: "GET http://a:80/x HTTP/1.1\r\nhost: a:80\r\n\r\n"},
	{name: "absolute URI with port and a body", raw: "POST http://a:80/x HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\n\r\nok"},
	{name: "absolute URI with other port", raw: "GET http://a:8080/x HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "https absolute URI", raw: "GET https://a/x HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "OPTIONS *", raw: "OPTIONS * HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "GET *", raw: "GET * HTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "CONNECT", raw: "CONNECT a:443 HTTP/1.1\r\nhost: a:443\r\n\r\n",
		known: "HAProxy forwards Host a:443 as \"a\" for an authority-form CONNECT; Sluice leaves it as sent (the port normalisation is only done for http/https absolute-form targets)"},
	{name: "empty request line", raw: " \r\n\r\n"},
	{name: "too many headers", raw: "GET / HTTP/1.1\r\nhost: a\r\n" + manyHeaders(101) + "\r\n"},
	{name: "max headers", raw: "GET / HTTP/1.1\r\nhost: a\r\n" + manyHeaders(100) + "\r\n"},
	{name: "100 fields", raw: "GET / HTTP/1.1\r\nhost: a\r\n" + manyHeaders(99) + "\r\n"},
	{name: "header name of 255 bytes", raw: get("/", "X-"+strings.Repeat("n", 253)+": v")},
	{name: "header name of 256 bytes", raw: get("/", "X-"+strings.Repeat("n", 254)+": v")},
	{name: "tab before version", raw: "GET /\tHTTP/1.1\r\nhost: a\r\n\r\n"},
	{name: "head bigger than bufsize - maxrewrite", raw: "GET / HTTP/1.1\r\nhost: a\r\nX-Big: " + strings.Repeat("b", 15400) + "\r\n\r\n"},
	{name: "head just under bufsize - maxrewrite", raw: "GET / HTTP/1.1\r\nhost: a\r\nX-Big: " + strings.Repeat("b", 15000) + "\r\n\r\n"},
	{name: "long URI", raw: "GET /" + strings.Repeat("u", 8000) + " HTTP/1.1\r\nhost: a\r\n\r\n"},

	// Bad chunked bodies.
	{name: "chunk size not hex", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", noProbe: true},
	{name: "chunk size overflow", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n", noProbe: true},
	{name: "chunk size negative", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", noProbe: true},
	{name: "chunk size with 0x", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", noProbe: true},
	{name: "chunk data missing CRLF", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", noProbe: true},
	{name: "chunk data longer than size", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", noProbe: true},
	{name: "many chunks coalesced", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n2\r\nbb\r\n1f\r\n" + strings.Repeat("c", 31) + "\r\n0\r\n\r\n"},
	{name: "chunk size with space", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n"},
	{name: "chunk size bare LF", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\nhello\n0\n\n"},
	{name: "bad trailer", raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nbad trailer\r\n\r\n", noProbe: true},

	// Request smuggling classics.
	{name: "CL.TE", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 13\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED", noProbe: true},
	{name: "TE.CL", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n"},
	{name: "TE.TE space before colon", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 4\r\nTransfer-Encoding : chunked\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n"},
	{name: "TE.TE xchunked", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 4\r\nTransfer-Encoding: xchunked\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n"},
	{name: "TE.TE tab", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 4\r\nTransfer-Encoding:\tchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE.TE duplicate with garbage", raw: "POST /p HTTP/1.1\r\nhost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE.TE quoted", raw: "POST /p HTTP/1.1\r\nhost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE.TE folded", raw: "POST /p HTTP/1.1\r\nhost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE.TE chunked-false", raw: "POST /p HTTP/1.1\r\nhost: a\r\nTransfer-Encoding: chunked-false\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "TE.TE trailing comma", raw: "POST /p HTTP/1.1\r\nhost: a\r\nTransfer-Encoding: chunked,\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	{name: "CL smuggled second request", raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: a\r\n\r\n", reqs: 2},

	// Response side: scripted answers.
	{name: "response chunked with extensions and trailers", raw: get("/s/chunked")},
	{name: "response close-delimited", raw: get("/s/noclen")},
	{name: "response close-delimited to 1.0", raw: "GET /s/noclen HTTP/1.0\r\n\r\n"},
	{name: "response bad status line", raw: get("/s/badstatus")},
	{name: "response status 99", raw: get("/s/status99"),
		known: "HAProxy relays a status below 100 as an interim-like reply (Content-Length dropped) and closes; Sluice refuses a status outside 100-999 with 502 (RFC 9112 section 4), deliberately stricter"},
	{name: "response status 1000", raw: get("/s/status1000"),
		known: "HAProxy reads as many status digits as come (1000) and relays them; Sluice refuses a status that is not 3 digits with 502 (RFC 9112 section 4), deliberately stricter"},
	{name: "response no reason", raw: get("/s/noreason")},
	{name: "response bad CL", raw: get("/s/badcl")},
	{name: "response CL 3, 3", raw: get("/s/cl33")},
	{name: "response CL+TE", raw: get("/s/clte")},
	{name: "response TE gzip", raw: get("/s/tegzip")},
	{name: "response 204 with CL body", raw: get("/s/204body")},
	{name: "response 204", raw: get("/s/204")},
	{name: "response 304", raw: get("/s/304")},
	{name: "response HEAD with CL", raw: "HEAD /s/headcl HTTP/1.1\r\nhost: a\r\n\r\n", head: true},
	{name: "response 100 interim", raw: get("/s/100")},
	{name: "response 103 interim", raw: get("/s/103")},
	{name: "response 100 to expect", raw: "POST /s/100 HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\nexpect: 100-continue\r\n\r\nok"},
	{name: "response HTTP/1.0", raw: get("/s/http10")},
	{name: "response HTTP/1.0 keep-alive", raw: get("/s/http10ka")},
	{name: "response connection close", raw: get("/s/connclose")},
	{name: "response obs-fold", raw: get("/s/fold")},
	{name: "response bare LF", raw: get("/s/barelf")},
	{name: "response space before colon", raw: get("/s/spacecolon")},
	{name: "response lowercase version", raw: get("/s/lowerver")},
	{name: "response 101 without upgrade", raw: get("/s/101")},
	{name: "server closes before answering", raw: get("/s/closenow")},
	{name: "server closes mid-headers", raw: get("/s/halfhead")},
	{name: "server closes mid-body", raw: get("/s/halfbody"), noProbe: true},
	{name: "server times out", raw: get("/s/hang")},
	{name: "server closes after pipelined first", raw: get("/1") + get("/s/connclose") + get("/3"), reqs: 3},
}

func manyHeaders(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "X-H%d: v\r\n", i)
	}
	return b.String()
}

// l7Scripts are the scripted responses; "" answers nothing and closes,
// "hang" answers nothing and keeps the connection open.
var l7Scripts = map[string]string{
	"chunked":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n",
	"noclen":     "HTTP/1.1 200 OK\r\nX-A: b\r\n\r\nuntil close",
	"badstatus":  "HTTP/1.1 abc OK\r\ncontent-length: 0\r\n\r\n",
	"status99":   "HTTP/1.1 099 Low\r\ncontent-length: 0\r\n\r\n",
	"status1000": "HTTP/1.1 1000 High\r\ncontent-length: 0\r\n\r\n",
	"noreason":   "HTTP/1.1 200\r\ncontent-length: 2\r\n\r\nok",
	"badcl":      "HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\nok",
	"cl33":       "HTTP/1.1 200 OK\r\ncontent-length: 2, 2\r\n\r\nok",
	"clte":       "HTTP/1.1 200 OK\r\ncontent-length: 50\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"tegzip":     "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nnot really gzip",
	"204body":    "HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\nhello",
	"204":        "HTTP/1.1 204 No Content\r\n\r\n",
	"304":        "HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n",
	"headcl":     "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n",
	"100":        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
	"103":        "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
	"http10":     "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok",
	"http10ka":   "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok",
	"connclose":  "HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\nok",
	"fold":       "HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\ncontent-length: 2\r\n\r\nok",
	"barelf":     "HTTP/1.1 200 OK\nX-A: b\ncontent-length: 2\n\nok",
	"spacecolon": "HTTP/1.1 200 OK\r\nX-A : b\r\ncontent-length: 2\r\n\r\nok",
	"lowerver":   "http/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
	"101":        "HTTP/1.1 101 Switching Protocols\r\n\r\n",
	"upgrade":    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nframes",
	"closenow":   "",
	"halfhead":   "HTTP/1.1 200 OK\r\nX-A: b\r\n",
	"halfbody":   "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf",
	"hang":       "hang",
	"503":        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n",
	// Response headers for the capture cases (l7feat_test.go).
	"setcookie": "HTTP/1.1 200 OK\r\nSet-Cookie: other=1; Path=/\r\nSet-Cookie: SESSx = \"a;b\" c ; Path=/; Expires=Thu, 01 Jan 2030 00:00:00 GMT\r\nSet-Cookie: SESSy=2\r\ncontent-length: 2\r\n\r\nok",
	"caphdrs":   "HTTP/1.1 200 OK\r\nX-Resp: hello world\r\nLocation: /a/very/long/location/path\r\ncontent-length: 2\r\n\r\nok",
}

// sleepScript is how long /s/sleep waits before its echo.
const sleepScript = 700 * time.Millisecond

// closeAfter lists the scripts after which the backend closes.
var closeAfter = map[string]bool{"noclen": true, "tegzip": true, "closenow": true, "halfhead": true,
	"halfbody": true, "connclose": true, "http10": true, "upgrade": true}

// l7Backend is a raw HTTP/1 server that records every byte it receives,
// per connection, and answers each request it can delimit (its own simple
// framing: Content-Length or chunked) with an echo of where it arrived:
// "conn=K req=J", K counting the connections of the current case.
type l7Backend struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []*l7Conn
	wg    sync.WaitGroup
}

type l7Conn struct {
	c    net.Conn
	mu   sync.Mutex
	got  []byte
	done chan struct{}
}

func newL7Backend(t *testing.T) *l7Backend {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &l7Backend{ln: ln}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			lc := &l7Conn{c: c, done: make(chan struct{})}
			b.mu.Lock()
			b.conns = append(b.conns, lc)
			k := len(b.conns)
			b.mu.Unlock()
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				defer close(lc.done)
				lc.serve(k)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		b.reset()
		b.wg.Wait()
	})
	return b
}

// reset closes every connection and forgets them, returning what each
// received.
func (b *l7Backend) reset() []string {
	b.mu.Lock()
	conns := b.conns
	b.conns = nil
	b.mu.Unlock()
	var out []string
	for _, c := range conns {
		c.c.Close()
		<-c.done
		c.mu.Lock()
		out = append(out, string(c.got))
		c.mu.Unlock()
	}
	return out
}

func (c *l7Conn) serve(k int) {
	defer c.c.Close()
	var buf []byte
	rd := make([]byte, 32<<10)
	read := func() bool {
		n, err := c.c.Read(rd)
		c.mu.Lock()
		c.got = append(c.got, rd[:n]...)
		c.mu.Unlock()
		buf = append(buf, rd[:n]...)
		return err == nil || n > 0
	}
	for j := 1; ; j++ {
		var n int
		var script string
		for {
			var ok bool
			n, script, ok = delimit(buf)
			if ok {
				break
			}
			if n < 0 || !read() {
				// Not HTTP as this backend reads it: keep recording.
				for read() {
				}
				return
			}
		}
		buf = buf[n:]
		if script == "sleep" {
			// A slow answer: the connection holds its server slot a
			// while (the queue cases).
			time.Sleep(sleepScript)
			script = ""
		}
		if script == "" {
			body := fmt.Sprintf("conn=%d req=%d\n", k, j)
			fmt.Fprintf(c.c, "HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s", len(body), body)
			continue
		}
		resp, known := l7Scripts[script]
		if !known {
			resp = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
		}
		if resp == "hang" {
			for read() {
			}
			return
		}
		io.WriteString(c.c, resp)
		if closeAfter[script] || resp == "" {
			return
		}
		if script == "upgrade" {
			for read() {
			}
			return
		}
	}
}

// delimit finds a complete request at the start of b: its length, the
// script its path names ("" for the echo), and ok; n < 0 when b cannot
// be a request this backend understands.
func delimit(b []byte) (n int, script string, ok bool) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, "", false
	}
	head := string(b[:end])
	n = end + 4
	lines := strings.Split(head, "\r\n")
	parts := strings.Split(lines[0], " ")
	if len(parts) != 3 {
		return -1, "", false
	}
	if p, ok := strings.CutPrefix(parts[1], "/s/"); ok {
		script = p
	}
	cl, chunked := int64(0), false
	for _, l := range lines[1:] {
		name, val, _ := strings.Cut(l, ":")
		val = strings.TrimSpace(val)
		switch strings.ToLower(name) {
		case "content-length":
			v, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return -1, "", false
			}
			cl = v
		case "transfer-encoding":
			chunked = strings.EqualFold(val, "chunked")
		}
	}
	if chunked {
		m, ok := chunkedLen(b[n:])
		if m < 0 {
			return -1, "", false
		}
		return n + m, script, ok
	}
	if int64(len(b)-n) < cl {
		return 0, "", false
	}
	return n + int(cl), script, true
}

// l7Result is what one proxy did with one corpus entry.
type l7Result struct {
	response string   // every byte the client received before the probe
	end      string   // "open", "closed" or "timeout" after the responses
	probe    string   // the probe's response, or why there is none
	backend  []string // bytes received, per backend connection
}

func (r l7Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  response: %q\n  client conn: %s\n  probe: %q\n  backend connections: %d\n", r.response, r.end, r.probe, len(r.backend))
	for i, s := range r.backend {
		fmt.Fprintf(&b, "    conn %d received %q\n", i+1, s)
	}
	return b.String()
}

// l7Probe is the request sent after the entry's responses to see whether
// the client connection, and the backend one, are still used.
const l7Probe = "GET /probe HTTP/1.1\r\nhost: probe\r\n\r\n"

// l7Deadline bounds each wait of the client: more than the proxies'
// timeouts, so that their own timeouts show.
const l7Deadline = 3 * time.Second

func runL7Case(addr string, be *l7Backend, tc l7Case) l7Result {
	var r l7Result
	c, err := net.Dial("tcp", addr)
	if err != nil {
		r.end = "dial: " + err.Error()
		return r
	}
	defer c.Close()
	io.WriteString(c, tc.raw)
	if tc.reqs < 0 {
		c.Close()
		r.end = "closed by the client"
		time.Sleep(100 * time.Millisecond) // what it sent reaches the backend, if anything
		r.backend = be.reset()
		return r
	}
	reqs := tc.reqs
	if reqs == 0 {
		reqs = 1
	}
	rd := &respReader{c: c}
	for i := 0; i < reqs && rd.end == ""; i++ {
		rd.next(tc.head)
	}
	r.response = string(rd.got)
	r.end = rd.end
	if r.end == "" {
		r.end = "open"
		if tc.noProbe {
			r.probe = "not sent"
		} else {
			io.WriteString(c, l7Probe)
			p := &respReader{c: c}
			p.next(false)
			r.probe = string(p.got)
			if p.end != "" {
				r.probe += " <" + p.end + ">"
			}
		}
	}
	c.Close()
	r.backend = be.reset()
	return r
}

// respReader reads HTTP responses from a client connection, recording
// every byte.
type respReader struct {
	c   net.Conn
	buf []byte // unparsed
	got []byte
	end string // "closed" or "timeout" once the connection is done
}

func (r *respReader) fill() bool {
	if r.end != "" {
		return false
	}
	b := make([]byte, 32<<10)
	r.c.SetReadDeadline(time.Now().Add(l7Deadline))
	n, err := r.c.Read(b)
	r.buf = append(r.buf, b[:n]...)
	r.got = append(r.got, b[:n]...)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			r.end = "timeout"
		} else {
			r.end = "closed"
		}
	}
	return n > 0 || err == nil
}

// next reads one final response (skipping interim ones); a 101 or a
// response without length reads to the end of the connection.
func (r *respReader) next(head bool) {
	for {
		end := bytes.Index(r.buf, []byte("\r\n\r\n"))
		for end < 0 {
			if !r.fill() {
				return
			}
			end = bytes.Index(r.buf, []byte("\r\n\r\n"))
		}
		lines := strings.Split(string(r.buf[:end]), "\r\n")
		r.buf = r.buf[end+4:]
		status := 0
		if f := strings.Fields(lines[0]); len(f) > 1 {
			status, _ = strconv.Atoi(f[1])
		}
		if status >= 100 && status < 200 && status != 101 {
			continue
		}
		cl, chunked := int64(-1), false
		for _, l := range lines[1:] {
			name, val, _ := strings.Cut(l, ":")
			val = strings.TrimSpace(val)
			switch strings.ToLower(name) {
			case "content-length":
				cl, _ = strconv.ParseInt(val, 10, 64)
			case "transfer-encoding":
				chunked = strings.Contains(strings.ToLower(val), "chunked")
			}
		}
		switch {
		case head || status == 204 || status == 304:
		case status == 101 || (cl < 0 && !chunked):
			for r.fill() {
			}
		case chunked:
			// Exactly the chunked body: pipelined responses may follow
			// it in the same read.
			n, ok := chunkedLen(r.buf)
			for !ok {
				if n < 0 || !r.fill() {
					return
				}
				n, ok = chunkedLen(r.buf)
			}
			r.buf = r.buf[n:]
		default:
			for int64(len(r.buf)) < cl {
				if !r.fill() {
					return
				}
			}
			r.buf = r.buf[cl:]
		}
		return
	}
}

// chunkedLen is the length of the chunked body, trailers included, at
// the start of b; ok is false while b does not hold all of it, and n is
// -1 when a chunk size is not one.
func chunkedLen(b []byte) (n int, ok bool) {
	for {
		le := bytes.Index(b[n:], []byte("\r\n"))
		if le < 0 {
			return 0, false
		}
		size, err := strconv.ParseInt(strings.SplitN(string(b[n:n+le]), ";", 2)[0], 16, 64)
		if err != nil {
			return -1, false
		}
		n += le + 2
		if size == 0 {
			if bytes.HasPrefix(b[n:], []byte("\r\n")) {
				return n + 2, true
			}
			te := bytes.Index(b[n:], []byte("\r\n\r\n"))
			if te < 0 {
				return 0, false
			}
			return n + te + 4, true
		}
		if int64(len(b)-n) < size+2 {
			return 0, false
		}
		n += int(size) + 2
	}
}

// l7Proxy is one running proxy and its backend.
type l7Proxy struct {
	name string
	addr string
	be   *l7Backend
	stop func()
}

// l7Config has http-reuse never: a request goes over its own client's
// server connection or a new one, never over an idle one a previous
// entry left (which the backend closes between entries, and which the
// proxies could notice closed sooner or later).
const l7Config = `global
defaults
 mode http
 timeout connect 1s
 timeout client 2s
 timeout server 1s
 timeout http-request 1s
 http-reuse never
frontend f
 bind %BIND
 default_backend b
backend b
 server s1 %SRV
`

func startL7Proxy(t *testing.T, name, bin string) *l7Proxy {
	be := newL7Backend(t)
	bind := freeAddr(t)
	cfg := strings.NewReplacer("%BIND", bind, "%SRV", be.ln.Addr().String()).Replace(l7Config)
	stop, _ := proxyRun(t, bin, cfg, bind)
	p := &l7Proxy{name: name, addr: bind, be: be, stop: stop}
	t.Cleanup(p.stop)
	return p
}

func TestL7RequestDifferential(t *testing.T) {
	hap := haproxyPath()
	if hap == "" {
		t.Skip("haproxy not installed")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	proxies := [2]*l7Proxy{startL7Proxy(t, "haproxy", hap), startL7Proxy(t, "sluice", sluiceBin)}
	for _, p := range proxies {
		p.be.reset() // the readiness probe's connection, if any
	}
	only := os.Getenv("L7DIFF_ONLY")
	for _, tc := range l7Corpus {
		if only != "" && !strings.Contains(tc.name, only) {
			continue
		}
		var res [2]l7Result
		var wg sync.WaitGroup
		for i, p := range proxies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i] = runL7Case(p.addr, p.be, tc)
			}()
		}
		wg.Wait()
		same := res[0].String() == res[1].String()
		switch {
		case same && tc.known != "":
			t.Errorf("%s: listed as a known difference (%s) but sluice now behaves as haproxy: drop the entry's known note", tc.name, tc.known)
		case !same && tc.known != "":
			t.Logf("%s: known difference: %s\nhaproxy:\n%ssluice:\n%s", tc.name, tc.known, res[0], res[1])
		case !same:
			t.Errorf("%s: %q\nhaproxy:\n%ssluice:\n%s", tc.name, tc.raw, res[0], res[1])
		case testing.Verbose():
			t.Logf("%s: same\n%s", tc.name, res[0])
		}
	}
}

// TestL7CorpusNames keeps entry names unique, so that L7DIFF_ONLY and
// failure messages point at one entry.
func TestL7CorpusNames(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range l7Corpus {
		if seen[tc.name] {
			t.Errorf("duplicate corpus entry %q", tc.name)
		}
		seen[tc.name] = true
	}
	for name := range l7Scripts {
		if name == "" {
			t.Error("empty script name")
		}
	}
}
