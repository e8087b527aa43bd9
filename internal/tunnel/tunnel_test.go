package tunnel

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBulkBothWays(t *testing.T) {
	checkLeaks(t)
	r := newRig(t, Timeouts{Client: 5 * time.Second, Server: 5 * time.Second})
	const blocks, size = 64, 1 << 20
	type sum struct {
		h   [32]byte
		n   int64
		err error
	}
	sent := make(chan sum, 2)
	recv := make(chan sum, 2)
	up, down := pattern(1, size), pattern(2, size)
	go func() { h, err := sendBlocks(r.client, up, blocks); sent <- sum{h, 0, err} }()
	go func() { h, err := sendBlocks(r.server, down, blocks); sent <- sum{h, 0, err} }()
	go func() { h, n, err := drainHash(r.server); recv <- sum{h, n, err} }()
	go func() { h, n, err := drainHash(r.client); recv <- sum{h, n, err} }()

	want := map[[32]byte]bool{}
	for range 2 {
		s := <-sent
		if s.err != nil {
			t.Fatal(s.err)
		}
		want[s.h] = true
	}
	for range 2 {
		s := <-recv
		if s.err != nil || s.n != blocks*size || !want[s.h] {
			t.Fatalf("received %d bytes, err %v, hash match %v", s.n, s.err, want[s.h])
		}
	}
	res := r.wait(t)
	if res.ClientToServer != blocks*size || res.ServerToClient != blocks*size {
		t.Fatalf("byte counts %+v", res)
	}
	if res.TermFlags() != "--" || res.Cause != CauseEOF {
		t.Fatalf("result %+v", res)
	}
}

// TestHalfCloseClientFirst: the client sends its request and shuts its
// write side; the server must see EOF and the full reply must still flow.
func TestHalfCloseClientFirst(t *testing.T) {
	checkLeaks(t)
	r := newRig(t, Timeouts{})
	req, reply := pattern(3, 300<<10), pattern(4, 3<<20)
	halfCloseExchange(t, r.client, r.server, req, reply)
	res := r.wait(t)
	if res.Side != SideClient || res.Cause != CauseEOF || res.TermFlags() != "--" {
		t.Fatalf("result %+v", res)
	}
	if res.ClientToServer != int64(len(req)) || res.ServerToClient != int64(len(reply)) {
		t.Fatalf("byte counts %+v", res)
	}
	if res.ClientEnd != CauseEOF || res.ServerEnd != CauseEOF {
		t.Fatalf("ends %+v", res)
	}
}

// TestHalfCloseServerFirst is the mirror: a server banner followed by FIN,
// then the client still uploads.
func TestHalfCloseServerFirst(t *testing.T) {
	checkLeaks(t)
	r := newRig(t, Timeouts{})
	banner, upload := pattern(5, 1<<20), pattern(6, 2<<20)
	halfCloseExchange(t, r.server, r.client, banner, upload)
	res := r.wait(t)
	if res.Side != SideServer || res.Cause != CauseEOF || res.TermFlags() != "--" {
		t.Fatalf("result %+v", res)
	}
}

// halfCloseExchange: first writes msg and shuts its write side; second
// reads it to EOF, then answers with reply and closes; first reads the
// whole reply.
func halfCloseExchange(t *testing.T, first, second interface {
	io.ReadWriter
	CloseWrite() error
	Close() error
}, msg, reply []byte) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		if _, err := first.Write(msg); err != nil {
			errc <- err
			return
		}
		errc <- first.CloseWrite()
	}()
	got, err := io.ReadAll(second)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("second read %d/%d bytes, err %v", len(got), len(msg), err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := second.Write(reply)
		second.Close()
		errc <- err
	}()
	got, err = io.ReadAll(first)
	if err != nil || !bytes.Equal(got, reply) {
		t.Fatalf("first read %d/%d bytes after half-close, err %v", len(got), len(reply), err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestServerResetMidStream: the server resets while the client is reading;
// the client must see a reset too, not a clean EOF.
func TestServerResetMidStream(t *testing.T) {
	checkLeaks(t)
	r := newRig(t, Timeouts{})
	data := pattern(7, 128<<10)
	if _, err := r.server.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r.client, make([]byte, len(data))); err != nil {
		t.Fatal(err)
	}
	_ = r.server.SetLinger(0)
	r.server.Close()
	if err := readUntilErr(r.client); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read error %v, want ECONNRESET", err)
	}
	res := r.wait(t)
	if res.Side != SideServer || res.Cause != CauseReset || res.TermFlags() != "SD" {
		t.Fatalf("result %+v", res)
	}
	if res.ServerToClient != int64(len(data)) || res.ServerEnd != CauseReset {
		t.Fatalf("result %+v", res)
	}
}

// TestClientGoneMidStream: the client disappears (RST) while the server is
// streaming; the server connection must be torn down and the relay end.
func TestClientGoneMidStream(t *testing.T) {
	checkLeaks(t)
	r := newRig(t, Timeouts{})
	werr := make(chan error, 1)
	go func() {
		block := pattern(8, 64<<10)
		for {
			if _, err := r.server.Write(block); err != nil {
				werr <- err
				return
			}
		}
	}()
	if _, err := io.ReadFull(r.client, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	_ = r.client.SetLinger(0)
	r.client.Close()
	select {
	case err := <-werr:
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Fatalf("server write error %v, want reset", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server side was not closed")
	}
	res := r.wait(t)
	if res.Side != SideClient || res.Cause != CauseReset || res.TermFlags() != "CD" {
		t.Fatalf("result %+v", res)
	}
}

// TestClientTimeout: nothing flows; the client timeout ends the session
// and the server sees the connection closed.
func TestClientTimeout(t *testing.T) {
	checkLeaks(t)
	r := newRig(t, Timeouts{Client: 100 * time.Millisecond})
	res := r.wait(t)
	if res.Side != SideClient || res.Cause != CauseTimeout || res.TermFlags() != "cD" {
		t.Fatalf("result %+v", res)
	}
	assertDuration(t, res, 100*time.Millisecond)
	if err := readUntilErr(r.server); err != io.EOF {
		t.Fatalf("server read %v, want EOF", err)
	}
}

// TestServerTimeout: the server side expires first.
func TestServerTimeout(t *testing.T) {
	checkLeaks(t)
	r := newRig(t, Timeouts{Client: 5 * time.Second, Server: 100 * time.Millisecond})
	res := r.wait(t)
	if res.Side != SideServer || res.TermFlags() != "sD" {
		t.Fatalf("result %+v", res)
	}
	assertDuration(t, res, 100*time.Millisecond)
}

// TestActivityKeepsAlive: traffic in either direction on a side refreshes
// its timeout, including one-way traffic towards a client that never sends
// (HAProxy without "option independent-streams").
func TestActivityKeepsAlive(t *testing.T) {
	checkLeaks(t)
	const to = 150 * time.Millisecond
	r := newRig(t, Timeouts{Client: to, Server: to})
	tick := time.NewTicker(30 * time.Millisecond)
	defer tick.Stop()
	buf := make([]byte, 1)
	for start := time.Now(); time.Since(start) < 4*to; {
		<-tick.C
		if _, err := r.server.Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r.client, buf); err != nil {
			t.Fatal(err)
		}
	}
	if r.ended() {
		t.Fatalf("relay ended despite activity: %+v", <-r.res)
	}
	res := r.wait(t)
	if res.Cause != CauseTimeout {
		t.Fatalf("result %+v", res)
	}
}

// TestTunnelOverrides: "timeout tunnel" replaces both client and server.
func TestTunnelOverrides(t *testing.T) {
	checkLeaks(t)
	r := newRig(t, Timeouts{Client: 50 * time.Millisecond, Server: 50 * time.Millisecond, Tunnel: 300 * time.Millisecond})
	res := r.wait(t)
	if res.Cause != CauseTimeout {
		t.Fatalf("result %+v", res)
	}
	assertDuration(t, res, 300*time.Millisecond)
}

// TestClientFin: once the client half-closed, "timeout client-fin"
// replaces the (long) client timeout.
func TestClientFin(t *testing.T) {
	checkLeaks(t)
	r := newRig(t, Timeouts{Client: 10 * time.Second, ClientFin: 100 * time.Millisecond})
	if _, err := r.client.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	r.client.CloseWrite()
	if got, err := io.ReadAll(r.server); err != nil || string(got) != "bye" {
		t.Fatalf("server got %q, %v", got, err)
	}
	res := r.wait(t)
	if res.Side != SideClient || res.TermFlags() != "cD" || res.ClientEnd != CauseEOF {
		t.Fatalf("result %+v", res)
	}
	assertDuration(t, res, 100*time.Millisecond)
}

// TestServerFinOverridesTunnel: the fin timeouts override the tunnel one.
func TestServerFinOverridesTunnel(t *testing.T) {
	checkLeaks(t)
	r := newRig(t, Timeouts{Tunnel: 10 * time.Second, ServerFin: 100 * time.Millisecond})
	r.server.CloseWrite()
	if _, err := io.ReadAll(r.client); err != nil {
		t.Fatal(err)
	}
	res := r.wait(t)
	if res.Side != SideServer || res.TermFlags() != "sD" {
		t.Fatalf("result %+v", res)
	}
	assertDuration(t, res, 100*time.Millisecond)
}

func assertDuration(t *testing.T, res Result, want time.Duration) {
	t.Helper()
	if res.Duration < want-5*time.Millisecond || res.Duration > want+time.Second {
		t.Fatalf("relay lasted %v, want about %v", res.Duration, want)
	}
}

// TestSpliceUsed checks that the copy really runs through the kernel
// splice path: with the client not reading, a relay goroutine must be
// found blocked inside internal/poll.Splice (or copyBulk, which splices
// for a Sock).
func TestSpliceUsed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("splice is Linux only")
	}
	checkLeaks(t)
	r := newRig(t, Timeouts{})
	go func() {
		block := pattern(9, 64<<10)
		for {
			if _, err := r.server.Write(block); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(5 * time.Second); ; {
		buf = buf[:runtime.Stack(buf[:cap(buf)], true)]
		if strings.Contains(string(buf), "internal/poll.Splice") ||
			dialSock && strings.Contains(string(buf), "tunnel.copyBulk") {
			break
		}
		if strings.Contains(string(buf), "io.copyBuffer") && strings.Contains(string(buf), "genericReadFrom") {
			t.Fatal("relay uses the user-space copy loop, not splice")
		}
		if time.Now().After(deadline) {
			t.Fatalf("no goroutine in internal/poll.Splice:\n%s", buf)
		}
		time.Sleep(time.Millisecond)
	}
	r.client.Close()
	r.wait(t)
}

func TestTermFlags(t *testing.T) {
	cases := []struct {
		side  Side
		cause Cause
		want  string
	}{
		{SideNone, CauseNone, "--"},
		{SideClient, CauseEOF, "--"},
		{SideServer, CauseEOF, "--"},
		{SideClient, CauseTimeout, "cD"},
		{SideServer, CauseTimeout, "sD"},
		{SideClient, CauseReset, "CD"},
		{SideServer, CauseError, "SD"},
	}
	for _, c := range cases {
		if got := (Result{Side: c.side, Cause: c.cause}).TermFlags(); got != c.want {
			t.Errorf("%v/%v: got %q want %q", c.side, c.cause, got, c.want)
		}
	}
	if SideClient.String() != "client" || SideServer.String() != "server" || CauseReset.String() != "reset" {
		t.Error("String methods")
	}
}
