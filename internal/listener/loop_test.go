package listener

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"sluice/internal/netaddr"
	"sluice/internal/tunnel"
)

func TestLimiterBasics(t *testing.T) {
	noLeaks(t)
	l := NewLimiter(2)
	ctx := context.Background()
	if l.Acquire(ctx) != nil || l.Acquire(ctx) != nil || l.InUse() != 2 {
		t.Fatalf("two acquires: in use %d", l.InUse())
	}
	if l.TryAcquire() {
		t.Fatal("TryAcquire succeeded beyond the limit")
	}
	got := make(chan error, 1)
	go func() { got <- l.Acquire(ctx) }()
	waitFor(t, "a blocked Acquire", func() bool { return l.Waiting() == 1 })
	select {
	case err := <-got:
		t.Fatalf("third Acquire returned %v while full", err)
	default:
	}
	l.Release()
	if err := <-got; err != nil || l.InUse() != 2 {
		t.Fatalf("third Acquire after Release: %v, in use %d", err, l.InUse())
	}

	// A canceled wait holds nothing.
	cctx, cancel := context.WithCancel(ctx)
	go func() { got <- l.Acquire(cctx) }()
	waitFor(t, "a blocked Acquire", func() bool { return l.Waiting() == 1 })
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) || l.InUse() != 2 || l.Waiting() != 0 {
		t.Fatalf("canceled Acquire: %v, in use %d, waiting %d", err, l.InUse(), l.Waiting())
	}

	// Raising the limit admits waiters at once.
	go func() { got <- l.Acquire(ctx) }()
	waitFor(t, "a blocked Acquire", func() bool { return l.Waiting() == 1 })
	l.SetLimit(3)
	if err := <-got; err != nil || l.InUse() != 3 {
		t.Fatalf("after SetLimit(3): %v, in use %d", err, l.InUse())
	}
	l.Release()
	l.Release()
	l.Release()
	if l.InUse() != 0 {
		t.Fatalf("in use %d after releasing all", l.InUse())
	}
}

func TestLimiterUnlimited(t *testing.T) {
	l := NewLimiter(0)
	for range 1000 {
		if err := l.Acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if l.InUse() != 1000 {
		t.Fatalf("in use %d", l.InUse())
	}
}

func TestLimiterNoAllocs(t *testing.T) {
	l := NewLimiter(4)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		l.Acquire(ctx)
		l.Release()
	})
	if allocs != 0 {
		t.Errorf("Acquire+Release allocates %v times", allocs)
	}
}

// server is a Loop on 127.0.0.1 whose handlers block until released.
type server struct {
	loop     *Loop
	addr     string
	handled  chan net.Conn // every connection handed to the handler
	release  chan struct{} // one send lets one handler return
	returned atomic.Int32
}

func startServer(t *testing.T, limits ...*Limiter) *server {
	return startServerMode(t, "net", limits...)
}

// startServerMode starts a server whose loop accepts with Go's net
// package (mode "net"), in a relay poller ("events": ServeEvents), or
// into Go's poller ("polled": ServePolled).
func startServerMode(t *testing.T, mode string, limits ...*Limiter) *server {
	t.Helper()
	ln := openOne(t, ephemeral("127.0.0.1"), DefaultOptions())
	s := &server{addr: ln.Addr().String(), handled: make(chan net.Conn, 16), release: make(chan struct{})}
	handle := func(c net.Conn, done func()) {
		defer done()
		defer s.returned.Add(1)
		defer c.Close()
		if _, ok := c.(*net.TCPConn); !ok && mode == "net" {
			t.Errorf("handler got %T, want *net.TCPConn", c)
		}
		if _, ok := c.(*tunnel.Polled); !ok && mode == "polled" {
			t.Errorf("handler got %T, want *tunnel.Polled", c)
		}
		s.handled <- c
		<-s.release
	}
	switch mode {
	case "events":
		s.loop = ServeEvents(ln, limits, func(c net.Conn, done func()) { go handle(c, done) })
		if !s.loop.events {
			t.Fatal("ServeEvents fell back to accepting with the net package")
		}
	case "polled":
		s.loop = ServePolled(ln, limits, handle)
		if s.loop.polled == nil {
			t.Fatal("ServePolled fell back to accepting with the net package")
		}
	default:
		s.loop = ServeAsync(ln, limits, handle)
	}
	t.Cleanup(func() {
		s.loop.Stop()
		close(s.release)
		s.loop.Wait()
	})
	return s
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testDeadline)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (s *server) nextHandled(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-s.handled:
		return c
	case <-time.After(testDeadline):
		t.Fatal("no connection reached the handler")
		return nil
	}
}

// forBothLoops runs f with a loop that accepts with the net package,
// one that accepts in a relay poller and one that accepts into Go's
// poller.
func forBothLoops(t *testing.T, f func(t *testing.T, mode string)) {
	for _, mode := range []string{"net", "events", "polled"} {
		t.Run(mode, func(t *testing.T) { f(t, mode) })
	}
}

func TestLoopLimit(t *testing.T) { forBothLoops(t, testLoopLimit) }

func testLoopLimit(t *testing.T, mode string) {
	noLeaks(t)
	bind, frontend, global := NewLimiter(2), NewLimiter(10), NewLimiter(0)
	s := startServerMode(t, mode, bind, frontend, global)
	dial(t, s.addr)
	dial(t, s.addr)
	s.nextHandled(t)
	s.nextHandled(t)
	dial(t, s.addr)
	// The loop is parked in the bind limiter: the third connection stays
	// in the kernel backlog, unaccepted.
	waitFor(t, "the accept loop to wait for a slot", func() bool { return bind.Waiting() == 1 })
	select {
	case <-s.handled:
		t.Fatal("third connection handled beyond maxconn 2")
	default:
	}
	if frontend.InUse() != 2 || global.InUse() != 2 {
		t.Errorf("frontend/global in use %d/%d, want 2/2", frontend.InUse(), global.InUse())
	}
	s.release <- struct{}{} // one handler returns and frees its slots
	s.nextHandled(t)
	waitFor(t, "slots to settle", func() bool { return bind.InUse() == 2 && frontend.InUse() == 2 })
}

func TestLoopStopWait(t *testing.T) { forBothLoops(t, testLoopStopWait) }

func testLoopStopWait(t *testing.T, mode string) {
	noLeaks(t)
	limit := NewLimiter(1)
	s := startServerMode(t, mode, limit)
	client := dial(t, s.addr)
	s.nextHandled(t)
	dial(t, s.addr) // queued behind the limit: Stop must interrupt that wait
	waitFor(t, "the accept loop to wait for a slot", func() bool { return limit.Waiting() == 1 })

	s.loop.Stop()
	s.loop.Stop() // idempotent
	if _, err := s.loop.Listener().Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Stop: %v, want net.ErrClosed", err)
	}
	waited := make(chan struct{})
	go func() { s.loop.Wait(); close(waited) }()
	waitFor(t, "the limiter wait to be abandoned", func() bool { return limit.Waiting() == 0 })
	select {
	case <-waited:
		t.Fatal("Wait returned while a handler was running")
	default:
	}
	// The established connection still works after the soft stop.
	client.SetDeadline(time.Now().Add(testDeadline))
	s.release <- struct{}{}
	if _, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("client read after handler closed: %v, want EOF", err)
	}
	select {
	case <-waited:
	case <-time.After(testDeadline):
		t.Fatal("Wait did not return after the handler did")
	}
	if limit.InUse() != 0 || s.loop.Err() != nil {
		t.Errorf("after Wait: in use %d, err %v", limit.InUse(), s.loop.Err())
	}
}

// flakyListener fails Accept with the queued errors before delegating.
type flakyListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (f *flakyListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		f.mu.Unlock()
		return nil, err
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

func TestLoopTemporaryErrors(t *testing.T) {
	noLeaks(t)
	ln := openOne(t, ephemeral("127.0.0.1"), DefaultOptions())
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	aborted := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.ECONNABORTED)}
	fl := &flakyListener{Listener: ln, errs: []error{emfile, emfile, aborted}}
	limit := NewLimiter(5)
	handled := make(chan struct{}, 1)
	loop := Serve(fl, []*Limiter{limit}, func(c net.Conn) { c.Close(); handled <- struct{}{} })
	defer func() { loop.Stop(); loop.Wait() }()
	dial(t, ln.Addr().String())
	select {
	case <-handled:
	case <-time.After(testDeadline):
		t.Fatal("loop did not survive temporary accept errors")
	}
	// The handler's slot is back; the idle loop holds the one reserved for
	// its next accept.
	waitFor(t, "slots released", func() bool { return limit.InUse() == 1 })
	loop.Stop()
	loop.Wait()
	if limit.InUse() != 0 {
		t.Errorf("in use %d after Stop and Wait", limit.InUse())
	}
}

func TestLoopFatalError(t *testing.T) {
	noLeaks(t)
	ln := openOne(t, ephemeral("127.0.0.1"), DefaultOptions())
	fatal := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EINVAL)}
	limit := NewLimiter(1)
	loop := Serve(&flakyListener{Listener: ln, errs: []error{fatal}}, []*Limiter{limit}, func(c net.Conn) { c.Close() })
	loop.Wait()
	if !errors.Is(loop.Err(), syscall.EINVAL) || limit.InUse() != 0 {
		t.Errorf("Err = %v, in use %d", loop.Err(), limit.InUse())
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("listener not closed after a fatal error: %v", err)
	}
}

// TestSockPair passes an accepted TCP connection over a socketpair, as a
// peer using `server ... sockpair@N` does, and accepts it with Serve.
func TestSockPair(t *testing.T) {
	noLeaks(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	sender := os.NewFile(uintptr(fds[1]), "sender")
	defer sender.Close()
	lns, err := Open(netaddr.BindAddr{Kind: netaddr.KindSockPair, FD: fds[0]}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan net.Conn, 1)
	loop := Serve(lns[0], nil, func(c net.Conn) { got <- c })
	defer func() { loop.Stop(); loop.Wait() }()

	// A TCP connection whose server side is passed to the listener.
	tcp := openOne(t, ephemeral("127.0.0.1"), DefaultOptions())
	client := dial(t, tcp.Addr().String())
	srv, err := tcp.Accept()
	if err != nil {
		t.Fatal(err)
	}
	srvFile, err := srv.(*net.TCPConn).File()
	srv.Close()
	if err != nil {
		t.Fatal(err)
	}
	err = unix.Sendmsg(int(sender.Fd()), []byte{0, 0}, unix.UnixRights(int(srvFile.Fd())), nil, 0)
	srvFile.Close()
	if err != nil {
		t.Fatal(err)
	}
	var c net.Conn
	select {
	case c = <-got:
	case <-time.After(testDeadline):
		t.Fatal("no connection received over the socketpair")
	}
	defer c.Close()
	if _, ok := c.(*net.TCPConn); !ok {
		t.Errorf("received %T, want *net.TCPConn", c)
	}
	client.SetDeadline(time.Now().Add(testDeadline))
	c.Write([]byte("hi"))
	buf := make([]byte, 2)
	if _, err := io.ReadFull(client, buf); err != nil || string(buf) != "hi" {
		t.Errorf("client read %q: %v", buf, err)
	}
}

// connOpt reads an integer socket option of a connection.
func connOpt(t *testing.T, c net.Conn, level, opt int) int {
	t.Helper()
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), level, opt) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatalf("getsockopt(%d, %d): %v", level, opt, gerr)
	}
	return v
}

// Accepted sockets start without TCP keep-alive, as HAProxy's do, whether
// the listener was bound by address or inherited as fd@N.
func TestServeKeepAliveOff(t *testing.T) {
	inherited := openOne(t, ephemeral("127.0.0.1"), DefaultOptions())
	f, err := inherited.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Dup(int(f.Fd())) // Open takes this one over
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	fdLns, err := Open(netaddr.BindAddr{Kind: netaddr.KindFD, FD: fd}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	closeAll(t, fdLns)
	fdLn := fdLns[0].(*net.TCPListener)
	fdFile, err := fdLn.File() // a second listener on the inherited socket, for ServePolled
	if err != nil {
		t.Fatal(err)
	}
	fdLn2, err := net.FileListener(fdFile)
	fdFile.Close()
	if err != nil {
		t.Fatal(err)
	}
	rawListeners.Store(fdLn2.(*net.TCPListener), struct{}{}) // as fileListener does
	for name, ln := range map[string]net.Listener{
		"address":        openOne(t, ephemeral("127.0.0.1"), DefaultOptions()),
		"fd@":            fdLn,
		"polled address": openOne(t, ephemeral("127.0.0.1"), DefaultOptions()),
		"polled fd@":     fdLn2,
	} {
		got := make(chan int, 1)
		handle := func(c net.Conn, done func()) {
			got <- connOpt(t, c, unix.SOL_SOCKET, unix.SO_KEEPALIVE)
			c.Close()
			done()
		}
		var loop *Loop
		if strings.HasPrefix(name, "polled") {
			loop = ServePolled(ln, nil, handle)
		} else {
			loop = ServeAsync(ln, nil, handle)
		}
		client := dial(t, ln.Addr().String())
		select {
		case v := <-got:
			if v != 0 {
				t.Errorf("%s: accepted socket has SO_KEEPALIVE=%d, want 0", name, v)
			}
		case <-time.After(testDeadline):
			t.Fatalf("%s: no connection accepted", name)
		}
		client.Close()
		loop.Stop()
		loop.Wait()
	}
}

// An event-driven loop, and a polled one, hand over sockets that carry
// data both ways and know both addresses without asking the kernel,
// keep-alive off as HAProxy's accepted sockets.
func TestServeEventsConn(t *testing.T) {
	for _, mode := range []string{"events", "polled"} {
		t.Run(mode, func(t *testing.T) { testServeConn(t, mode) })
	}
}

func testServeConn(t *testing.T, mode string) {
	noLeaks(t)
	s := startServerMode(t, mode)
	var clients []net.Conn
	for i := 0; i < 20; i++ { // more than one batch of the poller
		clients = append(clients, dial(t, s.addr))
	}
	for range clients {
		got := s.nextHandled(t)
		if got.LocalAddr().String() != s.addr {
			t.Errorf("LocalAddr %v, want %s", got.LocalAddr(), s.addr)
		}
		var match net.Conn
		for _, cc := range clients {
			if cc.LocalAddr().String() == got.RemoteAddr().String() {
				match = cc
			}
		}
		if match == nil {
			t.Fatalf("RemoteAddr %v is no client's address", got.RemoteAddr())
		}
		if ka := sockopt(t, got, unix.SOL_SOCKET, unix.SO_KEEPALIVE); ka != 0 {
			t.Errorf("SO_KEEPALIVE %d on an accepted socket, want 0", ka)
		}
		if nd := sockopt(t, got, unix.IPPROTO_TCP, unix.TCP_NODELAY); nd == 0 {
			t.Error("TCP_NODELAY off on an accepted socket")
		}
		got.SetDeadline(time.Now().Add(testDeadline))
		match.SetDeadline(time.Now().Add(testDeadline))
		if _, err := match.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 4)
		if _, err := io.ReadFull(got, b); err != nil || string(b) != "ping" {
			t.Fatalf("server read %q, %v", b, err)
		}
		if _, err := got.Write([]byte("pong")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(match, b); err != nil || string(b) != "pong" {
			t.Fatalf("client read %q, %v", b, err)
		}
	}
}

// goroutineID is the running goroutine's number, from its stack header.
func goroutineID() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	f := strings.Fields(string(b))
	return f[1]
}

// An event-driven loop, and a polled one, serve connections with
// goroutines that wait for the next one, at most maxIdleEvents or
// maxIdlePolled of them, and none after Stop.
func TestServeEventsWorkers(t *testing.T) {
	t.Run("events", func(t *testing.T) { testServeWorkers(t, ServeEvents, maxIdleEvents) })
	t.Run("polled", func(t *testing.T) { testServeWorkers(t, ServePolled, maxIdlePolled) })
}

func testServeWorkers(t *testing.T, serve func(net.Listener, []*Limiter, func(net.Conn, func())) *Loop, maxIdle int32) {
	noLeaks(t)
	ln := openOne(t, ephemeral("127.0.0.1"), DefaultOptions())
	ids := make(chan string, 1)
	hold := make(chan struct{})
	var holding atomic.Bool
	var held atomic.Int32
	loop := serve(ln, nil, func(c net.Conn, done func()) {
		if holding.Load() {
			held.Add(1)
			<-hold
		} else {
			ids <- goroutineID()
		}
		c.Close()
		done()
	})
	defer func() { loop.Stop(); loop.Wait() }()
	addr := ln.Addr().String()
	first := ""
	for i := 0; i < 5; i++ {
		c, err := net.DialTimeout("tcp", addr, testDeadline)
		if err != nil {
			t.Fatal(err)
		}
		id := <-ids
		c.Close()
		if first == "" {
			first = id
		} else if id != first {
			t.Fatalf("connection %d served by goroutine %s, the first by %s: not reused", i+1, id, first)
		}
		// The worker goes back to waiting before the next connection.
		waitFor(t, "the worker to wait again", func() bool { return loop.idleWorkers.Load() == 1 })
	}

	// A burst of connections held at once needs many goroutines; once
	// they are done only maxIdle stay.
	holding.Store(true)
	burst := int(maxIdle) + 36
	var conns []net.Conn
	for i := 0; i < burst; i++ {
		c, err := net.DialTimeout("tcp", addr, testDeadline)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	waitFor(t, "every connection to reach a handler", func() bool { return int(held.Load()) == burst })
	close(hold)
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, "the workers to settle", func() bool { return loop.idleWorkers.Load() == maxIdle })
}
