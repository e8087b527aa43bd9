package h1

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
)

// browserRequest is what a browser sends for a page: 11 fields.
var browserRequest = []byte("GET /articles/2024/index.html?ref=home HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Referer: https://www.example.com/\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: session=8f2c1e0b7a; theme=dark; _ga=GA1.2.123456789.1700000000\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"Sec-Fetch-Dest: document\r\n" +
	"Priority: u=0, i\r\n\r\n")

var serverResponse = []byte("HTTP/1.1 200 OK\r\n" +
	"Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n" +
	"Server: nginx\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"Content-Length: 12345\r\n" +
	"Connection: keep-alive\r\n" +
	"Cache-Control: max-age=600\r\n" +
	"ETag: \"5f2c-1e0b7a\"\r\n" +
	"Last-Modified: Sun, 31 Dec 2023 12:00:00 GMT\r\n" +
	"Vary: Accept-Encoding\r\n\r\n")

func BenchmarkParseRequest(b *testing.B) {
	var h Head
	b.ReportAllocs()
	b.SetBytes(int64(len(browserRequest)))
	for b.Loop() {
		if _, err := ParseRequest(browserRequest, &h, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseResponse(b *testing.B) {
	var h Head
	b.ReportAllocs()
	b.SetBytes(int64(len(serverResponse)))
	for b.Loop() {
		if _, err := ParseResponse(serverResponse, &h, false, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForwardRequest parses and writes back, as the engine does.
func BenchmarkForwardRequest(b *testing.B) {
	var h Head
	out := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(browserRequest)))
	for b.Loop() {
		if _, err := ParseRequest(browserRequest, &h, Limits{}); err != nil {
			b.Fatal(err)
		}
		out = h.AppendRequest(out[:0])
	}
}

var chunkedBody = func() []byte {
	var b []byte
	for i := 0; i < 16; i++ {
		b = AppendChunkSize(b, 1024)
		b = append(b, make([]byte, 1024)...)
		b = append(b, "\r\n"...)
	}
	return AppendTrailers(b, nil, nil)
}()

func BenchmarkChunkedDecoder(b *testing.B) {
	var d ChunkedDecoder
	b.ReportAllocs()
	b.SetBytes(int64(len(chunkedBody)))
	for b.Loop() {
		d.Reset()
		buf := chunkedBody
		for {
			_, n, done, err := d.Next(buf)
			if err != nil {
				b.Fatal(err)
			}
			buf = buf[n:]
			if done {
				break
			}
		}
	}
}

func TestAllocs(t *testing.T) {
	var h Head
	out := make([]byte, 0, 1024)
	var d ChunkedDecoder
	for name, f := range map[string]func(){
		"request": func() {
			if _, err := ParseRequest(browserRequest, &h, Limits{}); err != nil {
				t.Fatal(err)
			}
			out = h.AppendRequest(out[:0])
		},
		"response": func() {
			if _, err := ParseResponse(serverResponse, &h, false, Limits{}); err != nil {
				t.Fatal(err)
			}
			out = h.AppendResponse(out[:0])
		},
		"chunked": func() {
			d.Reset()
			for buf := chunkedBody; ; {
				_, n, done, err := d.Next(buf)
				if err != nil {
					t.Fatal(err)
				}
				if buf = buf[n:]; done {
					break
				}
			}
		},
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocations per run", name, a)
		}
	}
}

// BenchmarkNetHTTPReadRequest is the yardstick: net/http's parser on the
// same request.
func BenchmarkNetHTTPReadRequest(b *testing.B) {
	r := bytes.NewReader(browserRequest)
	br := bufio.NewReader(r)
	b.ReportAllocs()
	b.SetBytes(int64(len(browserRequest)))
	for b.Loop() {
		r.Reset(browserRequest)
		br.Reset(r)
		if _, err := http.ReadRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}
