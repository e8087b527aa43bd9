package engine

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"sluice/internal/tunnel"
)

// tcpPair is a connected pair of TCP sockets on loopback.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	a, b := loopbackPair(t, func(ln *net.TCPListener) (net.Conn, error) { return ln.AcceptTCP() })
	return a, b.(*net.TCPConn)
}

// loopbackPair dials a listener on loopback and returns the dialed end
// and the one accept made of it.
func loopbackPair(t *testing.T, accept func(*net.TCPListener) (net.Conn, error)) (*net.TCPConn, net.Conn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	b, err := accept(ln)
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// TestSendThenFill: the message reaches the peer whole, and the answer's
// first bytes are in the buffer when sendThenFill returns; an answer
// that does not come in time, or a peer that closes, is the next fill's
// error; a message too large for the socket's buffers is sent whole all
// the same, its answer left to the next fill.
func TestSendThenFill(t *testing.T) {
	t.Run("answered", func(t *testing.T) {
		a, peer := tcpPair(t)
		h := newClientConn(a)
		if h.raw == nil {
			t.Fatal("a TCP connection has no raw connection")
		}
		go func() {
			buf := make([]byte, 5)
			if _, err := io.ReadFull(peer, buf); err == nil && string(buf) == "hello" {
				peer.Write([]byte("world"))
			}
		}()
		if n, err := h.sendThenFill([]byte("hello"), 5*time.Second); n != 5 || err != nil {
			t.Fatalf("sendThenFill: %d, %v", n, err)
		}
		if got := string(h.pending()); got != "world" {
			t.Fatalf("buffered after sendThenFill: %q, want the answer", got)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		a, peer := tcpPair(t)
		h := newClientConn(a)
		start := time.Now()
		if n, err := h.sendThenFill([]byte("hello"), 50*time.Millisecond); n != 5 || err != nil {
			t.Fatalf("sendThenFill: %d, %v", n, err)
		}
		if d := time.Since(start); d < 40*time.Millisecond {
			t.Errorf("returned after %v, before its timeout", d)
		}
		buf := make([]byte, 5)
		if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "hello" {
			t.Fatalf("peer read %q, %v", buf, err)
		}
		if _, err := h.fill(time.Now().Add(5 * time.Second)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("next fill: %v, want the wait's timeout", err)
		}
		// The error is reported once: the fill after reads again.
		peer.Write([]byte("late"))
		if _, err := h.fill(time.Now().Add(5 * time.Second)); err != nil || string(h.pending()) != "late" {
			t.Fatalf("fill after: %q, %v", h.pending(), err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		a, peer := tcpPair(t)
		h := newClientConn(a)
		go func() {
			io.ReadFull(peer, make([]byte, 5))
			peer.Close()
		}()
		if _, err := h.sendThenFill([]byte("hello"), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := h.fill(time.Now().Add(5 * time.Second)); err != io.EOF {
			t.Fatalf("next fill: %v, want EOF", err)
		}
	})
	t.Run("large", func(t *testing.T) {
		a, peer := tcpPair(t)
		h := newClientConn(a)
		msg := make([]byte, 16<<20)
		for i := range msg {
			msg[i] = byte(i)
		}
		got := make(chan error, 1)
		go func() {
			buf := make([]byte, len(msg))
			time.Sleep(20 * time.Millisecond) // the socket fills first
			if _, err := io.ReadFull(peer, buf); err != nil {
				got <- err
				return
			}
			for i := range buf {
				if buf[i] != byte(i) {
					got <- errors.New("the message arrived altered")
					return
				}
			}
			peer.Write([]byte("done"))
			got <- nil
		}()
		if n, err := h.sendThenFill(msg, 5*time.Second); n != len(msg) || err != nil {
			t.Fatalf("sendThenFill: %d, %v", n, err)
		}
		if err := <-got; err != nil {
			t.Fatal(err)
		}
		for len(h.pending()) < 4 {
			if _, err := h.fill(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		if string(h.pending()) != "done" {
			t.Fatalf("answer %q", h.pending())
		}
	})
}

// polledPair is a connected pair on loopback whose first end is a
// tunnel.Polled as the HTTP engine accepts it (not in Go's poller until
// a read or write has to wait).
func polledPair(t *testing.T) (net.Conn, *net.TCPConn) {
	t.Helper()
	b, a := loopbackPair(t, func(ln *net.TCPListener) (net.Conn, error) {
		pl, err := tunnel.ListenPolled(ln)
		if err != nil {
			return nil, err
		}
		defer pl.Close()
		return pl.Accept()
	})
	return a, b
}

// A plain socket's read deadline is set only when a read has to wait,
// and then it is that read's: a deadline an earlier read left in force,
// earlier than the one wanted, or already passed, never cuts a read
// short; and a read with nothing coming still ends at its own deadline.
func TestFillDeadlineIsTheWaitingReads(t *testing.T) {
	pairs := map[string]func(*testing.T) (net.Conn, *net.TCPConn){
		"tcpconn": func(t *testing.T) (net.Conn, *net.TCPConn) { a, b := tcpPair(t); return a, b },
		"polled":  polledPair,
	}
	for name, pair := range pairs {
		t.Run(name, func(t *testing.T) {
			a, peer := pair(t)
			h := newClientConn(a)
			if h.raw == nil {
				t.Fatal("not a plain socket's hconn")
			}
			// fill reads once within timeout while the peer writes after
			// delay; it reports what it read.
			fill := func(timeout, delay time.Duration) (int, error) {
				if delay >= 0 {
					time.AfterFunc(delay, func() { peer.Write([]byte("x")) })
				}
				n, err := h.fill(time.Now().Add(timeout))
				h.r, h.w = 0, 0
				return n, err
			}
			// A read that waits sets its deadline.
			if n, err := fill(300*time.Millisecond, 100*time.Millisecond); n != 1 || err != nil {
				t.Fatalf("first read: %d, %v", n, err)
			}
			// The next waits past the first one's deadline, within its own.
			if n, err := fill(300*time.Millisecond, 250*time.Millisecond); n != 1 || err != nil {
				t.Fatalf("read past an earlier read's deadline: %d, %v", n, err)
			}
			// Data already there: no wait, and the deadline in force is
			// left; it then passes.
			peer.Write([]byte("x"))
			time.Sleep(20 * time.Millisecond)
			if n, err := fill(50*time.Millisecond, -1); n != 1 || err != nil {
				t.Fatalf("read of data already there: %d, %v", n, err)
			}
			time.Sleep(400 * time.Millisecond)
			if n, err := fill(300*time.Millisecond, 100*time.Millisecond); n != 1 || err != nil {
				t.Fatalf("read after the deadline in force passed: %d, %v", n, err)
			}
			// Nothing comes: the read ends at its own deadline, not before
			// (and a read left without one gets bytes after 3s, to fail).
			start := time.Now()
			late := time.AfterFunc(3*time.Second, func() { peer.Write([]byte("late")) })
			defer late.Stop()
			_, err := fill(150*time.Millisecond, -1)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read with nothing coming: %v, want the deadline", err)
			}
			if d := time.Since(start); d < 140*time.Millisecond || d > 2*time.Second {
				t.Fatalf("read with nothing coming ended after %v, want 150ms", d)
			}
		})
	}
}

// Putting a connection back drops the safe idle connections whose server
// closed them, as HAProxy's watch on idle connections would have, so
// that they do not crowd out the new one; other idle connections are not
// looked at (a system call each), dead or not.
func TestIdlePoolPrunesOnlySafeDeadConnections(t *testing.T) {
	var used atomic.Int64
	p := &idlePool{used: &used}
	conn := func(closeServer bool) *srvConn {
		c, s := tcpPair(t)
		if closeServer {
			s.Close()
		}
		return newSrvConn(c, nil)
	}
	deadSafe := conn(true)
	if !p.put(deadSafe, true, false) {
		t.Fatal("the first safe connection was not kept")
	}
	time.Sleep(50 * time.Millisecond) // the server's FIN arrives
	fresh := conn(false)
	if !p.put(fresh, false, false) {
		t.Fatal("a new connection was refused beside a safe one its server had closed")
	}
	if len(p.conns) != 1 || p.conns[0] != fresh || !deadSafe.closed.Load() {
		t.Fatalf("pool holds %d connections, want only the new one (dead safe one closed: %v)", len(p.conns), deadSafe.closed.Load())
	}
	// A dead connection that is not safe stays until taken: with it in
	// the pool and none safe, the next one is refused without a look.
	fresh.c.(*net.TCPConn).Close()
	another := conn(false)
	if p.put(another, false, false) {
		t.Fatal("a second connection that is not safe was kept")
	}
	if len(p.conns) != 1 || fresh.closed.Load() {
		t.Fatal("a connection that is not safe was looked at and dropped")
	}
}
