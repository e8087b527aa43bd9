package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPolledRelay runs the main relay cases with the server side dialed
// by DialPolled, as a WebSocket's server connection is after its 101.
func TestPolledRelay(t *testing.T) {
	dialPolled = true
	defer func() { dialPolled = false }()
	for name, f := range relayCases() {
		t.Run(name, f)
	}
}

// TestDialPolledConn: a connection made by DialPolled carries data both
// ways, knows both addresses, half-closes, and its deadlines end waits
// with an error that says it timed out.
func TestDialPolledConn(t *testing.T) {
	checkLeaks(t)
	ln := listen(t)
	defer ln.Close()
	c, err := DialPolled(context.Background(), ln.Addr().(*net.TCPAddr).AddrPort(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	server, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if got, want := c.RemoteAddr().String(), ln.Addr().String(); got != want {
		t.Errorf("RemoteAddr %s, want %s", got, want)
	}
	if got, want := c.LocalAddr().String(), server.RemoteAddr().String(); got != want {
		t.Errorf("LocalAddr %s, want %s", got, want)
	}
	// TCP_NODELAY is on, as for every server connection.
	rc, _ := c.SyscallConn()
	var nodelay int
	rc.Control(func(fd uintptr) { nodelay, _ = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NODELAY) })
	if nodelay == 0 {
		t.Error("TCP_NODELAY is off")
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(server, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("server read %q, %v", buf, err)
	}
	if _, err := server.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("proxy read %q, %v", buf, err)
	}
	// Nothing more comes: the read deadline ends the wait.
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err = c.Read(buf)
	// As the net package reports it: a temporary net.Error (crypto/tls
	// keeps a connection whose read failed only on such an error).
	ne, ok := err.(net.Error)
	if !ok || !ne.Timeout() || !ne.Temporary() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %#v, want a temporary net.Error that timed out", err)
	}
	c.SetReadDeadline(time.Time{})
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if n, err := server.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("server read %d, %v after CloseWrite, want EOF", n, err)
	}
	server.Close()
	if n, err := c.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read %d, %v after the server closed, want EOF", n, err)
	}
	c.Close()
	if _, err := c.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v, want net.ErrClosed", err)
	}
}

// TestDialPolledWaits: a connection the server leaves unanswered (its
// accept queue is full, so SYNs are dropped) ends at the timeout, or
// when the context ends, with no socket left behind.
func TestDialPolledWaits(t *testing.T) {
	checkLeaks(t)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	addr := netip.AddrPortFrom(netip.AddrFrom4(sa.(*unix.SockaddrInet4).Addr), uint16(sa.(*unix.SockaddrInet4).Port))
	// Fill the accept queue; the next connection stays unanswered.
	var held []Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	var timedOut error
	for i := 0; i < 8 && timedOut == nil; i++ {
		c, err := DialPolled(context.Background(), addr, 200*time.Millisecond)
		if err != nil {
			timedOut = err
			break
		}
		held = append(held, c)
	}
	var ne net.Error
	if timedOut == nil || !errors.As(timedOut, &ne) || !ne.Timeout() {
		t.Fatalf("dials to a full accept queue: %v, want a timeout", timedOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	c, err := DialPolled(ctx, addr, 10*time.Second)
	if err == nil {
		c.Close()
		t.Fatal("dial to a full accept queue succeeded")
	}
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Fatalf("dial with a canceled context: %v after %v, want context.Canceled", err, time.Since(start))
	}
}
