package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http/httputil"
	"testing"
)

// requestSeeds are the request inputs of the table tests, so that every
// fuzz target starts from the cases already known to matter.
func requestSeeds() []string {
	var s []string
	for _, c := range parseRequestCases {
		s = append(s, c.in)
	}
	for _, c := range haproxyCases {
		s = append(s, c.in)
	}
	return append(s,
		"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8\r\nAccept: */*\r\nCookie: a=b\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: keep-alive, Upgrade\r\nExpect: 100-continue\r\n\r\nabc")
}

func responseSeeds() []string {
	var s []string
	for _, c := range parseResponseCases {
		s = append(s, c.in)
	}
	for _, c := range haproxyResponses {
		s = append(s, c.in)
	}
	return s
}

// FuzzParseRequest: no input panics, and an accepted request written back
// with AppendRequest parses again to the same method, target, fields and
// framing (what Sluice forwards, a server reading like Sluice reads the
// same way).
func FuzzParseRequest(f *testing.F) {
	for _, s := range requestSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// Strict, and lax as the accept-invalid option parses: what is
		// forwarded parses again the same way, as the engine reads a
		// request head twice.
		for _, lax := range []bool{false, true} {
			var h Head
			n, err := ParseRequest(bytes.Clone(in), &h, Limits{Lax: lax})
			if err != nil {
				var e *Error
				if err != ErrIncomplete && !errors.As(err, &e) {
					t.Fatalf("error of type %T: %v", err, err)
				}
				continue
			}
			if n <= 0 || n > len(in) {
				t.Fatalf("length %d of %d", n, len(in))
			}
			out := h.AppendRequest(nil)
			var h2 Head
			n2, err := ParseRequest(bytes.Clone(out), &h2, Limits{Lax: lax, Again: true})
			if err != nil {
				t.Fatalf("lax %v: %q forwarded as %q, which is refused: %v", lax, in, out, err)
			}
			if n2 != len(out) {
				t.Fatalf("%q: forwarded head %q read as %d bytes", in, out, n2)
			}
			sameHead(t, in, &h, &h2)
			if string(h.Method()) != string(h2.Method()) || string(h.URI()) != string(h2.URI()) || h.Is11() != h2.Is11() {
				t.Fatalf("%q: start line changed: %q %q -> %q %q", in, h.Method(), h.URI(), h2.Method(), h2.URI())
			}
		}
	})
}

// FuzzParseResponse: the same for responses.
func FuzzParseResponse(f *testing.F) {
	for _, s := range responseSeeds() {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, headReq bool) {
		for _, lax := range []bool{false, true} {
			var h Head
			n, err := ParseResponse(bytes.Clone(in), &h, headReq, Limits{Lax: lax})
			if err != nil {
				var e *Error
				if err != ErrIncomplete && !errors.As(err, &e) {
					t.Fatalf("error of type %T: %v", err, err)
				}
				continue
			}
			if n <= 0 || n > len(in) {
				t.Fatalf("length %d of %d", n, len(in))
			}
			out := h.AppendResponse(nil)
			var h2 Head
			if _, err := ParseResponse(bytes.Clone(out), &h2, headReq, Limits{Lax: lax}); err != nil {
				t.Fatalf("lax %v: %q forwarded as %q, which is refused: %v", lax, in, out, err)
			}
			sameHead(t, in, &h, &h2)
			if h.Status() != h2.Status() || string(h.Reason()) != string(h2.Reason()) {
				t.Fatalf("%q: status line changed: %d %q -> %d %q", in, h.Status(), h.Reason(), h2.Status(), h2.Reason())
			}
		}
	})
}

func sameHead(t *testing.T, in []byte, h, h2 *Head) {
	t.Helper()
	if h.Framing != h2.Framing || h.ContentLength != h2.ContentLength {
		t.Fatalf("%q: framing %d/%d, then %d/%d", in, h.Framing, h.ContentLength, h2.Framing, h2.ContentLength)
	}
	if h.NumFields() != h2.NumFields() {
		t.Fatalf("%q: %d fields, then %d", in, h.NumFields(), h2.NumFields())
	}
	for i := range h.Fields {
		a, b := h.Fields[i], h2.Fields[i]
		if !equalFoldBytes(a.Name, b.Name) || string(a.Value) != string(b.Value) {
			t.Fatalf("%q: field %d %q: %q, then %q: %q", in, i, a.Name, a.Value, b.Name, b.Value)
		}
	}
}

// decodeChunked runs a chunked body through ParseChunkSize, ParseChunkEnd
// and ParseTrailers. It returns the data and where the last-chunk line
// ends, or an error.
func decodeChunked(in []byte) (data []byte, lastEnd int, err error) {
	i := 0
	for {
		size, n, err := ParseChunkSize(in[i:])
		if err != nil {
			return nil, 0, err
		}
		i += n
		if size == 0 {
			lastEnd = i
			var tr []Field
			if _, err := ParseTrailers(in[i:], &tr, Limits{}); err != nil {
				return nil, 0, err
			}
			return data, lastEnd, nil
		}
		if int64(len(in)-i) < size {
			return nil, 0, ErrIncomplete
		}
		data = append(data, in[i:i+int(size)]...)
		i += int(size)
		n, err = ParseChunkEnd(in[i:])
		if err != nil {
			return nil, 0, err
		}
		i += n
	}
}

// FuzzChunked compares the chunk-line functions and ChunkedDecoder with
// net/http's chunked reader. Where both accept a body they must decode
// the same bytes and agree on where the last chunk's line ends: two
// readers that disagree there would let a request be smuggled after the
// body. Intentional differences, where only one accepts:
//   - a bare LF ending a chunk line or chunk data: HAProxy accepts it
//     (probed), net/http refuses it since RFC 9112 erratum 7633;
//   - whitespace before a chunk extension ("3 ;x"): HAProxy accepts it
//     (RFC 9112 section 7.1.1 BWS), net/http refuses it;
//   - sizes: HAProxy refuses values of 2^52 and above, net/http more
//     than 16 hex digits, leading zeros included;
//   - net/http limits extension overhead ("too much non-data") and line
//     length (4 KiB);
//   - trailers: net/http's chunked reader does not read them; Sluice
//     checks their syntax.
func FuzzChunked(f *testing.F) {
	for _, s := range []string{
		"3\r\nabc\r\n0\r\n\r\n", "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: v\r\n\r\n",
		"3\nabc\n0\n\n", "3 ;x\r\nabc\r\n0\r\n\r\n", "00000000000000000003\r\nabc\r\n0\r\n\r\n",
		"fffffffffffff\r\n", "3\r\nabcX\r\n0\r\n\r\n", "0\r\nA: b\r\n c\r\n\r\n", "1\r\n\r\r\n0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		data, lastEnd, err := decodeChunked(in)
		dec, decErr := decodeStream(in, 7)
		if (err == nil) != (decErr == nil) || err == nil && !bytes.Equal(data, dec) {
			t.Fatalf("%q: functions %q %v, ChunkedDecoder %q %v", in, data, err, dec, decErr)
		}
		br := bufio.NewReader(bytes.NewReader(in))
		std, stdErr := io.ReadAll(httputil.NewChunkedReader(br))
		if err != nil || stdErr != nil {
			return
		}
		if !bytes.Equal(data, std) {
			t.Fatalf("%q: Sluice decodes %q, net/http %q", in, data, std)
		}
		if stdEnd := len(in) - br.Buffered(); stdEnd != lastEnd {
			t.Fatalf("%q: Sluice's body ends at %d, net/http's at %d", in, lastEnd, stdEnd)
		}
	})
}

// decodeStream feeds in to a ChunkedDecoder step bytes at a time, the way
// a connection's reads would, keeping unconsumed bytes in front.
func decodeStream(in []byte, step int) ([]byte, error) {
	var d ChunkedDecoder
	var out, buf []byte
	for off := 0; ; {
		data, n, done, err := d.Next(buf)
		out = append(out, data...)
		buf = buf[n:]
		if done {
			return out, nil
		}
		switch {
		case err == ErrIncomplete:
			if off == len(in) {
				return nil, ErrIncomplete
			}
			end := min(off+step, len(in))
			buf = append(bytes.Clone(buf), in[off:end]...)
			off = end
		case err != nil:
			return nil, err
		case n == 0 && data == nil:
			return nil, errors.New("no progress")
		}
	}
}

// FuzzChunkedPrefix: walking a chunked body's prefix never panics, and
// the data it finds fits in the input and the cap, collected or counted
// alike.
func FuzzChunkedPrefix(f *testing.F) {
	f.Add([]byte("3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"), int64(100))
	f.Add([]byte("a;ext\r\n0123"), int64(5))
	f.Fuzz(func(t *testing.T, b []byte, max int64) {
		if max < 0 {
			max = -max
		}
		got, n, left := ChunkedPrefix(nil, b, max, true)
		_, m, left2 := ChunkedPrefix(nil, b, max, false)
		if int64(len(got)) != n || n != m || left != left2 {
			t.Fatalf("collected %d, counted %d/%d, left %d/%d", len(got), n, m, left, left2)
		}
		if n > int64(len(b)) || n > max || left < 0 {
			t.Fatalf("data %d of %d bytes (max %d), left %d", n, len(b), max, left)
		}
	})
}
