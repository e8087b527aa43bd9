package engine

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A response larger than the socket buffers goes to a client that reads
// it slowly whole, and a client that stops reading is cut off after
// `timeout client`: a write that has to wait waits within it.
func TestHTTPWriteWaitsWithinClientTimeout(t *testing.T) {
	const size = 32 << 20
	chunk := []byte(strings.Repeat("y", 64<<10))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, addr := startEngine(t, `defaults
 mode http
 timeout connect 1s
 timeout client 1s
 timeout server 10s
frontend fe
 bind %s
 default_backend be
backend be
 server s1 `+ln.Addr().String()+"\n")

	get := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(30 * time.Second))
		fmt.Fprintf(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReaderSize(c, 64<<10)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 200 || resp.ContentLength != size {
			t.Fatalf("response %v, %v", resp, err)
		}
		return c, br
	}

	// Slow but steady: every wait of the proxy's writes is well within
	// the timeout, and every byte arrives.
	_, br := get()
	buf := make([]byte, 256<<10)
	got := 0
	for got < size {
		n, err := br.Read(buf)
		got += n
		if err != nil {
			t.Fatalf("slow reader: %v after %d of %d bytes", err, got, size)
		}
		if got%(4<<20) < n {
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Stalled: the proxy gives up after timeout client, not before.
	_, br = get()
	start := time.Now()
	time.Sleep(3 * time.Second)
	got = 0
	for {
		n, err := br.Read(buf)
		got += n
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("stalled reader: %v", err)
			}
			break
		}
	}
	if got >= size {
		t.Fatalf("a client that stopped reading for 3s (timeout client 1s) still got all %d bytes", size)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("the connection ended %v after the client stopped reading, before timeout client", d)
	}
}
