package tunnel

import (
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// rig is a client, an in-process proxy running Relay, and a server, all on
// 127.0.0.1. The test drives the client and server ends.
type rig struct {
	client, server *net.TCPConn
	res            chan Result
}

func listen(tb testing.TB) *net.TCPListener {
	tb.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	return ln
}

// pair returns both ends of a fresh loopback TCP connection.
func pair(tb testing.TB) (dialed, accepted *net.TCPConn) {
	tb.Helper()
	ln := listen(tb)
	defer ln.Close()
	d, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		tb.Fatal(err)
	}
	a, err := ln.AcceptTCP()
	if err != nil {
		tb.Fatal(err)
	}
	return d, a
}

// dialSock makes backPair dial with Dial (a Sock) instead of net, and
// dialPolled with DialPolled.
var dialSock, dialPolled bool

// relayCases are the relay tests a server side of another kind runs
// again (TestSockRelay, TestPolledRelay).
func relayCases() map[string]func(*testing.T) {
	return map[string]func(*testing.T){
		"BulkBothWays": TestBulkBothWays, "HalfCloseClientFirst": TestHalfCloseClientFirst,
		"HalfCloseServerFirst": TestHalfCloseServerFirst,
		"ServerResetMidStream": TestServerResetMidStream, "ClientGoneMidStream": TestClientGoneMidStream,
		"ClientTimeout": TestClientTimeout, "ServerTimeout": TestServerTimeout,
		"ActivityKeepsAlive": TestActivityKeepsAlive, "SlowReader": TestSlowReader,
		"ResetWhileIdle": TestResetWhileIdle, "ContextEndsIdleRelay": TestContextEndsIdleRelay,
	}
}

// backPair is pair for the proxy's server side: the proxy's end is a
// Sock when dialSock is set.
func backPair(tb testing.TB) (dialed Conn, accepted *net.TCPConn) {
	tb.Helper()
	if !dialSock && !dialPolled {
		return pair(tb)
	}
	ln := listen(tb)
	defer ln.Close()
	dial := Dial
	if dialPolled {
		dial = DialPolled
	}
	d, err := dial(context.Background(), ln.Addr().(*net.TCPAddr).AddrPort(), 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := ln.AcceptTCP()
	if err != nil {
		tb.Fatal(err)
	}
	return d, a
}

func newRig(tb testing.TB, t Timeouts) *rig {
	tb.Helper()
	client, proxyFront := pair(tb)
	proxyBack, server := backPair(tb)
	r := &rig{client: client, server: server, res: make(chan Result, 1)}
	go func() { r.res <- Relay(proxyFront, proxyBack, t) }()
	tb.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return r
}

// wait returns the relay's result, failing if it does not end in time.
func (r *rig) wait(tb testing.TB) Result {
	tb.Helper()
	select {
	case res := <-r.res:
		return res
	case <-time.After(10 * time.Second):
		tb.Fatal("relay did not finish")
		return Result{}
	}
}

// ended reports whether the relay already finished.
func (r *rig) ended() bool { return len(r.res) > 0 }

// checkLeaks registers a cleanup (run after the rig's own cleanups) that
// polls until the goroutine count and the number of open sockets are back
// to what they were when the test started.
func checkLeaks(t *testing.T) {
	t.Helper()
	g0, s0 := runtime.NumGoroutine(), countSockets(t)
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			g, s := runtime.NumGoroutine(), countSockets(t)
			if g <= g0 && s <= s0 {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				buf = buf[:runtime.Stack(buf, true)]
				t.Fatalf("leak: goroutines %d->%d sockets %d->%d\n%s", g0, g, s0, s, buf)
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// countSockets counts this process's socket descriptors. Pipes are not
// counted: the runtime keeps splice pipes in a pool on purpose.
func countSockets(tb testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Skip("no /proc/self/fd")
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// pattern is a deterministic pseudo-random block used as payload.
func pattern(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// sendBlocks writes block count times, then half-closes, and returns the
// SHA-256 of what was sent.
func sendBlocks(c *net.TCPConn, block []byte, count int) ([32]byte, error) {
	h := sha256.New()
	for range count {
		if _, err := c.Write(block); err != nil {
			return [32]byte{}, err
		}
		h.Write(block)
	}
	return [32]byte(h.Sum(nil)), c.CloseWrite()
}

// drainHash reads to EOF and returns the SHA-256 and length of the data.
func drainHash(c *net.TCPConn) ([32]byte, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, c)
	return [32]byte(h.Sum(nil)), n, err
}

// readUntilErr reads and discards until an error (or EOF) and returns it.
func readUntilErr(c *net.TCPConn) error {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64<<10)
	for {
		if _, err := c.Read(buf); err != nil {
			return err
		}
	}
}
