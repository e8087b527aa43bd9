//go:build linux

package tunnel

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// parkPair returns the two ends of a loopback TCP connection.
func parkPair(t *testing.T) (srv, cli net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); cli.Close() })
	return srv, cli
}

type wakeup struct {
	timedOut bool
	at       time.Time
}

func parkOrFail(t *testing.T, c net.Conn, d time.Duration) chan wakeup {
	t.Helper()
	ch := make(chan wakeup, 2)
	if Park(c.(*net.TCPConn), time.Now().Add(d), func(to bool) { ch <- wakeup{to, time.Now()} }) == nil {
		t.Fatal("Park refused a TCP connection")
	}
	return ch
}

func waitWake(t *testing.T, ch chan wakeup) wakeup {
	t.Helper()
	select {
	case w := <-ch:
		return w
	case <-time.After(5 * time.Second):
		t.Fatal("never woken")
	}
	return wakeup{}
}

// A parked connection wakes when its peer sends, once, and what was sent
// is still there to read; bytes already waiting wake it at once.
func TestParkWakesOnData(t *testing.T) {
	srv, cli := parkPair(t)
	ch := parkOrFail(t, srv, 5*time.Second)
	time.Sleep(20 * time.Millisecond)
	select {
	case w := <-ch:
		t.Fatalf("woken before any byte: %+v", w)
	default:
	}
	cli.Write([]byte("next request"))
	if w := waitWake(t, ch); w.timedOut {
		t.Fatal("woken as timed out, want readable")
	}
	buf := make([]byte, 64)
	n, err := srv.Read(buf)
	if err != nil || string(buf[:n]) != "next request" {
		t.Fatalf("read after wake: %q %v", buf[:n], err)
	}
	select {
	case w := <-ch:
		t.Fatalf("woken twice: %+v", w)
	case <-time.After(50 * time.Millisecond):
	}
	cli.Write([]byte("x"))
	time.Sleep(20 * time.Millisecond)
	if w := waitWake(t, parkOrFail(t, srv, 5*time.Second)); w.timedOut {
		t.Fatal("bytes already waiting: woken as timed out")
	}
}

// The deadline wakes it as timed out; Cancel does too, at once; a peer
// that closes wakes it as readable (the read then sees EOF).
func TestParkTimeoutCancelClose(t *testing.T) {
	srv, _ := parkPair(t)
	start := time.Now()
	if w := waitWake(t, parkOrFail(t, srv, 100*time.Millisecond)); !w.timedOut || w.at.Sub(start) < 90*time.Millisecond {
		t.Fatalf("deadline: %+v after %v", w, w.at.Sub(start))
	}
	ch := make(chan wakeup, 2)
	k := Park(srv.(*net.TCPConn), time.Now().Add(time.Hour), func(to bool) { ch <- wakeup{to, time.Now()} })
	k.Cancel()
	k.Cancel()
	if w := waitWake(t, ch); !w.timedOut {
		t.Fatal("Cancel: woken as readable")
	}
	srv2, cli2 := parkPair(t)
	ch2 := parkOrFail(t, srv2, 5*time.Second)
	cli2.Close()
	if w := waitWake(t, ch2); w.timedOut {
		t.Fatal("peer close: woken as timed out")
	}
	if _, err := srv2.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after the peer closed: %v, want EOF", err)
	}
}

// Parked connections hold no goroutine.
func TestParkHoldsNoGoroutine(t *testing.T) {
	const n = 50
	var conns []net.Conn
	for i := 0; i < n; i++ {
		srv, _ := parkPair(t)
		conns = append(conns, srv)
	}
	before := runtime.NumGoroutine()
	var ks []*Parked
	for _, c := range conns {
		ks = append(ks, Park(c.(*net.TCPConn), time.Now().Add(time.Hour), func(bool) {}))
	}
	time.Sleep(20 * time.Millisecond)
	if d := runtime.NumGoroutine() - before; d > 2 {
		t.Errorf("%d parked connections added %d goroutines, want at most the poller's", n, d)
	}
	for _, k := range ks {
		k.Cancel()
	}
}
