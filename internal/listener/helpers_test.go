package listener

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

const testDeadline = 5 * time.Second

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling interval, not a wait for an event
	}
}

// noLeaks fails the test if it leaves goroutines behind once its cleanups
// have run.
func noLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(testDeadline)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Errorf("goroutine leak: %d before, %d after\n%s",
					before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// closeAll registers the listeners for closing at the end of the test.
func closeAll(t *testing.T, lns []net.Listener) {
	t.Cleanup(func() {
		for _, ln := range lns {
			ln.Close()
		}
	})
}

// roundTrip dials addr on network, accepts on ln, and checks that bytes go
// through; it returns the accepted connection's type for inspection.
func roundTrip(t *testing.T, ln net.Listener, network, addr string) net.Conn {
	t.Helper()
	type result struct {
		c   net.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		accepted <- result{c, err}
	}()
	client, err := net.DialTimeout(network, addr, testDeadline)
	if err != nil {
		t.Fatalf("dial %s %q: %v", network, addr, err)
	}
	defer client.Close()
	var r result
	select {
	case r = <-accepted:
	case <-time.After(testDeadline):
		t.Fatal("accept timed out")
	}
	if r.err != nil {
		t.Fatalf("accept: %v", r.err)
	}
	t.Cleanup(func() { r.c.Close() })
	client.SetDeadline(time.Now().Add(testDeadline))
	if _, err := client.Write([]byte("ping")); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, 4)
	r.c.SetDeadline(time.Now().Add(testDeadline))
	if _, err := io.ReadFull(r.c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q: %v", buf, err)
	}
	return r.c
}
