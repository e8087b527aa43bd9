//go:build unix

package proxyproto

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection: the client, with
// Nagle off so that each Write leaves as its own segment, and the server.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	client.SetNoDelay(true)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

type readResult struct {
	h   Header
	n   int
	err error
}

// readAsync runs ReadFrom on its own goroutine; the result comes on the
// channel, which the test always drains.
func readAsync(c Conn, deadline time.Time, buf []byte) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		h, n, err := ReadFrom(c, deadline, buf)
		ch <- readResult{h, n, err}
	}()
	return ch
}

func wait(t *testing.T, ch <-chan readResult) readResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("ReadFrom did not return")
	}
	panic("unreachable")
}

// TestReadFromByteByByte sends the header one byte per segment, the last
// one together with payload, and checks that ReadFrom saw every partial
// header, woke once per arrival (no busy loop), and left the payload in the
// socket.
func TestReadFromByteByByte(t *testing.T) {
	headers := map[string][]byte{
		"v1": []byte("PROXY TCP6 2001:db8::1 ::ffff:1.2.3.4 1234 80\r\n"),
		"v2": AppendV2(nil, Proxy, ap("1.2.3.4:1111"), ap("5.6.7.8:80"), TLV{Type: TypeCRC32C}, TLV{TypeUniqueID, []byte("abc")}),
	}
	for name, hdr := range headers {
		t.Run(name, func(t *testing.T) {
			client, server := tcpPair(t)
			want, _, err := Parse(hdr)
			if err != nil {
				t.Fatal(err)
			}
			payload := []byte("payload that must stay unread")

			peeks := make(chan int, 1024)
			peekHook = func(m int) { peeks <- m }
			defer func() { peekHook = nil }()

			buf := make([]byte, 512)
			done := readAsync(server, time.Now().Add(10*time.Second), buf)
			for i := range hdr {
				seg := hdr[i : i+1]
				if i == len(hdr)-1 {
					seg = append(seg, payload...)
				}
				if _, err := client.Write(seg); err != nil {
					t.Fatal(err)
				}
				if i == len(hdr)-1 {
					break
				}
				// Wait until ReadFrom has peeked this byte, so that the
				// next one arrives while it waits in the poller.
				for m := 0; m < i+1; {
					select {
					case m = <-peeks:
					case <-time.After(10 * time.Second):
						t.Fatalf("ReadFrom never peeked byte %d", i)
					}
				}
			}
			r := wait(t, done)
			if r.err != nil {
				t.Fatalf("ReadFrom: %v", r.err)
			}
			if r.n != len(hdr) || !bytes.Equal(buf[:r.n], hdr) {
				t.Errorf("ReadFrom n = %d, buf %q; want %q", r.n, buf[:r.n], hdr)
			}
			if !reflect.DeepEqual(r.h, want) {
				t.Errorf("ReadFrom = %+v, want %+v", r.h, want)
			}
			// One peek per arrival, plus possibly one before the first.
			close(peeks)
			extra := 0
			for range peeks {
				extra++
			}
			if extra > 3 {
				t.Errorf("%d peeks after the last byte: busy loop?", extra)
			}
			got := make([]byte, len(payload))
			server.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(server, got); err != nil || !bytes.Equal(got, payload) {
				t.Errorf("payload after header = %q, %v; want %q", got, err, payload)
			}
		})
	}
}

// TestReadFromAtOnce is the common case: header and payload in one segment.
func TestReadFromAtOnce(t *testing.T) {
	client, server := tcpPair(t)
	hdr := AppendV1(nil, ap("192.168.0.1:56324"), ap("192.168.0.11:443"))
	client.Write(append(hdr, "GET / HTTP/1.0\r\n\r\n"...))
	client.CloseWrite()
	h, n, err := ReadFrom(server, time.Now().Add(5*time.Second), make([]byte, 232))
	if err != nil || n != len(hdr) || h.Src != ap("192.168.0.1:56324") || h.Dst != ap("192.168.0.11:443") {
		t.Fatalf("ReadFrom = %+v, %d, %v", h, n, err)
	}
	rest, err := io.ReadAll(server)
	if err != nil || string(rest) != "GET / HTTP/1.0\r\n\r\n" {
		t.Errorf("rest = %q, %v", rest, err)
	}
}

func TestReadFromErrors(t *testing.T) {
	v2 := AppendV2(nil, Proxy, ap("1.2.3.4:1"), ap("5.6.7.8:2"))
	tests := []struct {
		name  string
		send  []byte
		close bool // half-close after sending
		first bool // send (and close) before ReadFrom starts
		want  error
	}{
		{"empty", nil, true, false, ErrEmpty},
		{"empty before read", nil, true, true, ErrEmpty},
		{"truncated v1", []byte("PROXY TCP4 1.2.3.4 5.6"), true, false, ErrTruncated},
		// The FIN is queued before ReadFrom runs: no poller edge will
		// come, only POLLRDHUP tells.
		{"truncated v2 before read", v2[:20], true, true, ErrTruncated},
		{"garbage", []byte("GET / HTTP/1.1\r\n\r\n"), false, false, ErrNotProxy},
		{"invalid", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n"), false, false, ErrInvalid},
		{"bad protocol early", []byte("PROXY UDP"), false, false, ErrBadProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := tcpPair(t)
			send := func() {
				if len(tt.send) > 0 {
					client.Write(tt.send)
				}
				if tt.close {
					client.CloseWrite()
				}
			}
			if tt.first {
				send()
			}
			start := time.Now()
			done := readAsync(server, start.Add(10*time.Second), make([]byte, 256))
			if !tt.first {
				send()
			}
			r := wait(t, done)
			if !errors.Is(r.err, tt.want) {
				t.Fatalf("ReadFrom = %+v, %v; want %v", r.h, r.err, tt.want)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %v: should not wait for the deadline", el)
			}
		})
	}
}

func TestReadFromTimeout(t *testing.T) {
	client, server := tcpPair(t)
	client.Write([]byte("PROXY TCP4 "))
	_, _, err := ReadFrom(server, time.Now().Add(50*time.Millisecond), make([]byte, 256))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadFrom = %v, want a deadline error", err)
	}
	if got := Reason(err); got != "Timeout while waiting for PROXY protocol header" {
		t.Errorf("Reason = %q", got)
	}
}

func TestReadFromNoDeadline(t *testing.T) {
	_, server := tcpPair(t)
	if _, _, err := ReadFrom(server, time.Time{}, make([]byte, 256)); err == nil {
		t.Fatal("ReadFrom accepted a zero deadline")
	}
}

func TestReadFromTooLong(t *testing.T) {
	client, server := tcpPair(t)
	client.Write(AppendV2(nil, Proxy, ap("1.2.3.4:1"), ap("5.6.7.8:2"), TLV{TypeNOOP, make([]byte, 200)}))
	_, _, err := ReadFrom(server, time.Now().Add(5*time.Second), make([]byte, MaxV1Len))
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("ReadFrom = %v, want ErrTooLong", err)
	}
}

// TestReadFromClearsDeadline checks the connection is usable after the
// deadline given to ReadFrom has passed.
func TestReadFromClearsDeadline(t *testing.T) {
	client, server := tcpPair(t)
	client.Write(AppendV2(nil, Local, netip.AddrPort{}, netip.AddrPort{}))
	deadline := time.Now().Add(50 * time.Millisecond)
	h, _, err := ReadFrom(server, deadline, make([]byte, 256))
	if err != nil || h.Command != Local || !h.Unknown {
		t.Fatalf("ReadFrom = %+v, %v", h, err)
	}
	time.Sleep(time.Until(deadline) + 10*time.Millisecond) // let it pass
	client.Write([]byte("x"))
	var b [1]byte
	if _, err := server.Read(b[:]); err != nil {
		t.Fatalf("read after ReadFrom's deadline: %v", err)
	}
}

// TestReadFromUnix checks that a unix stream socket works too (unix@ binds
// with accept-proxy).
func TestReadFromUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.DialUnix("unix", nil, ln.Addr().(*net.UnixAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	client.Write([]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nrest"))
	h, _, err := ReadFrom(server, time.Now().Add(5*time.Second), make([]byte, 256))
	if err != nil || h.Src != ap("1.2.3.4:1") {
		t.Fatalf("ReadFrom = %+v, %v", h, err)
	}
	var b [4]byte
	if _, err := io.ReadFull(server, b[:]); err != nil || string(b[:]) != "rest" {
		t.Fatalf("rest = %q, %v", b, err)
	}
}
