package tunnel

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// relayGoroutines returns the stacks of goroutines working on a relay
// direction (the poller's own goroutine is not one).
func relayGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "tunnel.(*evDir).pump") || strings.Contains(g, "tunnel.(*relay).run") {
			out = append(out, g)
		}
	}
	return out
}

// echo answers every read on c with the same bytes until EOF, then closes.
func echo(c io.ReadWriteCloser) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	c.Close()
}

// TestSmallMessages: request/response exchanges of various small sizes
// arrive intact, an idle relay holds no goroutine, and a half-close after
// them ends the relay cleanly with the right counts.
func TestSmallMessages(t *testing.T) {
	if !useEvents || runtime.GOOS != "linux" {
		t.Skip("event relay only")
	}
	checkLeaks(t)
	r := newRig(t, Timeouts{Client: 5 * time.Second, Server: 5 * time.Second})
	go echo(r.server)
	var sent int64
	for i, size := range []int{1, 64, 100, 1000, 4000, 64, 1} {
		msg := pattern(uint64(20+i), size)
		if _, err := r.client.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, size)
		if _, err := io.ReadFull(r.client, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("exchange %d (%d bytes): err %v, intact %v", i, size, err, bytes.Equal(got, msg))
		}
		sent += int64(size)
	}
	// The echo has answered: both directions are idle, waiting in the
	// poller, unless a pump is still finishing its last read.
	waitIdle(t)
	r.client.CloseWrite()
	if n, err := io.Copy(io.Discard, r.client); err != nil || n != 0 {
		t.Fatalf("after half-close: %d more bytes, err %v", n, err)
	}
	res := r.wait(t)
	if res.Side != SideClient || res.Cause != CauseEOF || res.ClientToServer != sent || res.ServerToClient != sent {
		t.Fatalf("result %+v, want client EOF and %d bytes each way", res, sent)
	}
}

func waitIdle(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		g := relayGoroutines()
		if len(g) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("idle relay still holds goroutines:\n%s", strings.Join(g, "\n\n"))
		}
	}
}

// TestSlowReader: the server sends far more than the client reads for a
// while, in small writes; everything arrives in order once the client
// reads, and small exchanges work again afterwards.
func TestSlowReader(t *testing.T) {
	checkLeaks(t)
	r := newRig(t, Timeouts{})
	data := pattern(30, 8<<20)
	errc := make(chan error, 1)
	go func() {
		for b := data; len(b) > 0; {
			n := min(len(b), 1000)
			if _, err := r.server.Write(b[:n]); err != nil {
				errc <- err
				return
			}
			b = b[n:]
		}
		errc <- nil
	}()
	time.Sleep(50 * time.Millisecond) // let the buffers fill; not a correctness wait
	got := make([]byte, len(data))
	if _, err := io.ReadFull(r.client, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("client read: err %v, intact %v", err, bytes.Equal(got, data))
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	go echo(r.client)
	msg := pattern(31, 64)
	if _, err := r.server.Write(msg); err != nil {
		t.Fatal(err)
	}
	back := make([]byte, len(msg))
	if _, err := io.ReadFull(r.server, back); err != nil || !bytes.Equal(back, msg) {
		t.Fatalf("echo after the slow read: err %v", err)
	}
	r.server.Close()
	res := r.wait(t)
	if res.ServerToClient != int64(len(data)+len(msg)) || res.ClientToServer != int64(len(msg)) {
		t.Fatalf("result %+v", res)
	}
}

// TestResetWhileIdle: the server resets an idle relay; the client sees a
// reset and the relay reports the server.
func TestResetWhileIdle(t *testing.T) {
	checkLeaks(t)
	r := newRig(t, Timeouts{})
	if _, err := r.server.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r.client, make([]byte, 5)); err != nil {
		t.Fatal(err)
	}
	_ = r.server.SetLinger(0)
	r.server.Close()
	if err := readUntilErr(r.client); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read error %v, want ECONNRESET", err)
	}
	res := r.wait(t)
	if res.Side != SideServer || res.Cause != CauseReset || res.ServerToClient != 5 {
		t.Fatalf("result %+v", res)
	}
}

// TestGoroutineRelay runs the main cases with a goroutine per direction,
// the relay of systems without epoll.
func TestGoroutineRelay(t *testing.T) {
	useEvents = false
	defer func() { useEvents = true }()
	for name, f := range map[string]func(*testing.T){
		"BulkBothWays": TestBulkBothWays, "HalfCloseClientFirst": TestHalfCloseClientFirst,
		"ServerResetMidStream": TestServerResetMidStream, "ClientTimeout": TestClientTimeout,
		"ActivityKeepsAlive": TestActivityKeepsAlive, "SpliceUsed": TestSpliceUsed,
		"SlowReader": TestSlowReader, "ResetWhileIdle": TestResetWhileIdle,
		"ContextEndsIdleRelay": TestContextEndsIdleRelay,
	} {
		t.Run(name, f)
	}
}

// TestContextEndsIdleRelay: cancelling StartContext's context ends an
// idle relay and closes both sides.
func TestContextEndsIdleRelay(t *testing.T) {
	checkLeaks(t)
	client, proxyFront := pair(t)
	proxyBack, server := backPair(t)
	defer client.Close()
	defer server.Close()
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan Result, 1)
	StartContext(ctx, proxyFront, proxyBack, Timeouts{Client: time.Minute}, func(r Result) { res <- r })
	if _, err := client.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(server, make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case r := <-res:
		if r.ClientToServer != 4 {
			t.Errorf("result %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("relay did not end when its context was cancelled")
	}
	if err := readUntilErr(server); err != io.EOF {
		t.Errorf("server read %v, want EOF", err)
	}
}
