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

// acceptPolled connects a client to a PolledListener and returns both
// ends, the accepted one a *Polled.
func acceptPolled(t *testing.T) (*Polled, *net.TCPConn) {
	t.Helper()
	ln := listen(t)
	t.Cleanup(func() { ln.Close() })
	pl, err := ListenPolled(ln)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pl.Close() })
	client, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	c, err := pl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*Polled), client
}

// TestPolledJoinsPollerOnWait: an accepted connection reads what is
// there and writes what fits without joining Go's poller, keeps the
// deadlines set meanwhile, and joins the poller on its first wait, after
// which reads, writes, deadlines and the RawConn work as before.
func TestPolledJoinsPollerOnWait(t *testing.T) {
	checkLeaks(t)
	p, client := acceptPolled(t)
	if _, err := client.Write([]byte("GET")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	// The bytes may take a moment to show on loopback: read until they do
	// through the RawConn, never waiting.
	var n int
	for n == 0 {
		rc, _ := p.SyscallConn()
		if err := rc.Control(func(fd uintptr) { n, _ = RawRead(fd, buf) }); err != nil {
			t.Fatal(err)
		}
		if n < 0 {
			n = 0
			time.Sleep(time.Millisecond)
		}
	}
	if string(buf[:n]) != "GET" {
		t.Fatalf("read %q", buf[:n])
	}
	if _, err := p.Write([]byte("200")); err != nil {
		t.Fatal(err)
	}
	if p.pd.Load() != 0 {
		t.Fatal("the socket joined Go's poller without waiting")
	}
	if _, err := io.ReadFull(client, buf[:3]); err != nil || string(buf[:3]) != "200" {
		t.Fatalf("client read %q, %v", buf[:3], err)
	}
	// A deadline noted before the first wait ends that wait.
	p.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	start := time.Now()
	_, err := p.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read with nothing to read: %v, want a timeout", err)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Errorf("the read gave up after %v, before its deadline", time.Since(start))
	}
	if p.pd.Load() == 0 {
		t.Fatal("a read that waited did not join Go's poller")
	}
	// From then on the poller's waits are used.
	p.SetReadDeadline(time.Time{})
	go func() {
		time.Sleep(10 * time.Millisecond)
		client.Write([]byte("next"))
	}()
	if n, err := p.Read(buf); err != nil || string(buf[:n]) != "next" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Read(buf); err != io.EOF {
		t.Errorf("client read after close: %v, want EOF", err)
	}
	if _, err := p.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after close: %v, want net.ErrClosed", err)
	}
}

// TestPolledRawConnWaits: a RawConn read whose function must wait
// joins the poller and is called again when bytes come; a write that
// fills the socket's buffer waits for the peer to read.
func TestPolledRawConnWaits(t *testing.T) {
	checkLeaks(t)
	p, client := acceptPolled(t)
	rc, _ := p.SyscallConn()
	go func() {
		time.Sleep(20 * time.Millisecond)
		client.Write([]byte("late"))
	}()
	buf := make([]byte, 16)
	var n int
	calls := 0
	err := rc.Read(func(fd uintptr) bool {
		calls++
		var rerr error
		n, rerr = RawRead(fd, buf)
		return rerr != unix.EAGAIN
	})
	if err != nil || n != 4 || string(buf[:n]) != "late" {
		t.Fatalf("raw read %q (%d), %v", buf[:max(n, 0)], n, err)
	}
	if calls < 2 {
		t.Errorf("read function called %d times, want a call before and after the wait", calls)
	}
	// A write larger than the socket buffers completes once the client
	// reads it all.
	big := make([]byte, 8<<20)
	got := make(chan int, 1)
	go func() {
		n, _ := io.Copy(io.Discard, io.LimitReader(client, int64(len(big))))
		got <- int(n)
	}()
	if n, err := p.Write(big); err != nil || n != len(big) {
		t.Fatalf("write %d, %v", n, err)
	}
	if n := <-got; n != len(big) {
		t.Errorf("client read %d bytes of %d", n, len(big))
	}
}

// TestPolledCloseBeforeWait: a connection closed before it ever waited
// closes its descriptor (the peer sees the end) and refuses further use;
// a deadline in the past noted before the first wait fails it at once.
func TestPolledCloseBeforeWait(t *testing.T) {
	checkLeaks(t)
	p, client := acceptPolled(t)
	p.SetReadDeadline(time.Unix(1, 0))
	if _, err := p.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v", err)
	}
	p2, client2 := acceptPolled(t)
	if err := p2.Close(); err != nil {
		t.Fatal(err)
	}
	client2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := client2.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("peer read after close: %v, want EOF", err)
	}
	if err := p2.Close(); err == nil {
		t.Error("a second Close succeeded")
	}
	if _, err := p2.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if err := p2.SetReadDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("deadline after close: %v", err)
	}
	_ = client
}

// TestPolledPastDeadlineBeforeWait: before the socket joined the poller,
// a read or write whose deadline has passed fails with a timeout as a
// net.Conn's does, even with data waiting or room to write.
func TestPolledPastDeadlineBeforeWait(t *testing.T) {
	checkLeaks(t)
	p, client := acceptPolled(t)
	if _, err := client.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the bytes are there
	p.SetReadDeadline(time.Now().Add(-time.Second))
	if n, err := p.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %d, %v", n, err)
	}
	p.SetWriteDeadline(time.Now().Add(-time.Second))
	if n, err := p.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past its deadline: %d, %v", n, err)
	}
	p.SetDeadline(time.Time{})
	buf := make([]byte, 8)
	if n, err := p.Read(buf); err != nil || string(buf[:n]) != "data" {
		t.Fatalf("read after clearing the deadline: %q, %v", buf[:n], err)
	}
}

// TestNetpollCalls exercises each of Go's poller calls a Polled makes
// through go:linkname, on a socket of its own: readiness reported while
// nobody waits is kept for the next wait, a deadline ends a wait with a
// timeout, an unblock with closing, and the descriptor leaves the
// poller. A runtime whose calls changed shape fails here.
func TestNetpollCalls(t *testing.T) {
	p, client := acceptPolled(t)
	fd, err := unix.Dup(p.fd)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	netpollInit.Do(runtimePollServerInit)
	pd, errno := runtimePollOpen(uintptr(fd))
	if errno != 0 {
		t.Fatalf("runtime_pollOpen: errno %d", errno)
	}
	runtimePollSetDeadline(pd, int64(30*time.Millisecond), 'r')
	start := time.Now()
	if code := runtimePollWait(pd, 'r'); code != pollErrTimeout {
		t.Fatalf("wait with nothing to read: %d, want a timeout (%d)", code, pollErrTimeout)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Errorf("the wait timed out after %v, before its deadline", time.Since(start))
	}
	runtimePollSetDeadline(pd, 0, 'r')
	client.Write([]byte("x"))
	time.Sleep(20 * time.Millisecond) // the poller has seen the bytes, with nobody waiting
	done := make(chan int, 1)
	go func() { done <- runtimePollWait(pd, 'r') }()
	select {
	case code := <-done:
		if code != pollNoError {
			t.Fatalf("wait on a readable socket: %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readiness reported before the wait was lost")
	}
	go func() { done <- runtimePollWait(pd, 'r') }() // consumed: this one waits
	time.Sleep(10 * time.Millisecond)
	runtimePollUnblock(pd)
	if code := <-done; code != pollErrClosing {
		t.Fatalf("wait ended by unblock: %d, want closing (%d)", code, pollErrClosing)
	}
	runtimePollClose(pd)
}

// TestPolledReadAfterWait: on a socket in Go's poller, ReadAfterWait
// calls its function only once the socket is readable (no read finds
// nothing), and finds bytes that came before it was called, whose
// readiness the poller reported while nobody waited.
func TestPolledReadAfterWait(t *testing.T) {
	checkLeaks(t)
	p, client := acceptPolled(t)
	p.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := p.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with nothing there: %v", err)
	}
	if p.pd.Load() == 0 {
		t.Fatal("a read that waited did not join Go's poller")
	}
	p.SetReadDeadline(time.Now().Add(5 * time.Second))
	rc, _ := p.SyscallConn()
	raw := rc.(polledRaw)
	buf := make([]byte, 16)
	read := func() (string, int, error) {
		calls, n := 0, 0
		err := raw.ReadAfterWait(func(fd uintptr) bool {
			calls++
			var rerr error
			n, rerr = RawRead(fd, buf)
			return rerr != unix.EAGAIN
		})
		return string(buf[:max(n, 0)]), calls, err
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		client.Write([]byte("late"))
	}()
	if got, calls, err := read(); err != nil || got != "late" || calls != 1 {
		t.Fatalf("read %q in %d calls, %v; want \"late\" in one call, after the wait", got, calls, err)
	}
	client.Write([]byte("early"))
	time.Sleep(20 * time.Millisecond) // the poller has seen the bytes, with nobody waiting
	if got, _, err := read(); err != nil || got != "early" {
		t.Fatalf("read %q, %v; want the bytes that came before the wait", got, err)
	}
}

// TestPolledCloseEndsWait: Close from another goroutine ends a read
// waiting in the poller with net.ErrClosed, and the peer sees the end.
func TestPolledCloseEndsWait(t *testing.T) {
	checkLeaks(t)
	p, client := acceptPolled(t)
	errc := waitingRead(p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("waiting read after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the waiting read")
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("peer read after close: %v, want EOF", err)
	}
}

// TestPolledWaitsInBothDirections: a read waiting in the poller (the
// socket joined it for that wait) holds up no write: a write that finds
// the socket full waits for room, and completes when the peer reads,
// while the read still waits.
func TestPolledWaitsInBothDirections(t *testing.T) {
	checkLeaks(t)
	p, client := acceptPolled(t)
	unix.SetsockoptInt(p.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
	client.SetReadBuffer(4096)
	fill := make([]byte, 64<<10)
	filled := 0
	for {
		n, err := RawWrite(uintptr(p.fd), fill)
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		filled += n
	}
	if p.pd.Load() != 0 {
		t.Fatal("the socket joined the poller before any wait")
	}
	rerr := waitingRead(p)
	werr := make(chan error, 1)
	go func() {
		_, err := p.Write([]byte("hello"))
		werr <- err
	}()
	time.Sleep(10 * time.Millisecond) // the write finds no room and waits
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, make([]byte, filled+5)); err != nil {
		t.Fatalf("peer read: %v", err)
	}
	select {
	case err := <-werr:
		if err != nil {
			t.Fatalf("write: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the write stayed stuck behind the waiting read")
	}
	select {
	case err := <-rerr:
		t.Fatalf("the read ended with nothing sent: %v", err)
	default:
	}
	client.Write([]byte("x"))
	if err := <-rerr; err != nil {
		t.Fatalf("read: %v", err)
	}
}

// TestPolledRegisterBesideWait: joining the poller does not wait for a
// call waiting in it. A read and a write that both found the socket not
// ready before it joined would otherwise leave the second stuck until
// the first's wait ended, and every call behind it.
func TestPolledRegisterBesideWait(t *testing.T) {
	checkLeaks(t)
	p, client := acceptPolled(t)
	rerr := waitingRead(p)
	done := make(chan error, 1)
	go func() {
		p.mu.RLock() // as wait calls it
		defer p.mu.RUnlock()
		done <- p.register()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("register waited for the read's wait")
	}
	client.Write([]byte("x"))
	if err := <-rerr; err != nil {
		t.Fatalf("read: %v", err)
	}
}

// waitingRead starts a read of p with nothing to read and returns once
// it waits in Go's poller, with the channel its outcome comes on.
func waitingRead(p *Polled) chan error {
	rerr := make(chan error, 1)
	go func() {
		_, err := p.Read(make([]byte, 8))
		rerr <- err
	}()
	for p.pd.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // past joining, in the wait
	return rerr
}
