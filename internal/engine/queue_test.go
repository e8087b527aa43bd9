package engine

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// holdServer greets each connection with its name and holds it open
// until the client closes.
func holdServer(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, name)
				io.Copy(io.Discard, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// greeting reads a server's name within d: "" when nothing came, "EOF"
// when the proxy closed the connection.
func greeting(c net.Conn, d time.Duration) string {
	c.SetReadDeadline(time.Now().Add(d))
	b := make([]byte, 16)
	n, err := c.Read(b)
	if n > 0 {
		return string(b[:n])
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return ""
	}
	return "EOF"
}

// A server at its maxconn queues the next connection, which gets the
// slot as soon as one frees.
func TestServerMaxconnQueues(t *testing.T) {
	p := freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf(" timeout queue 5s\nlisten l\n bind %s\n server a %s maxconn 1\n", p, holdServer(t, "a")))
	c1 := dial(t, p)
	if g := greeting(c1, 5*time.Second); g != "a" {
		t.Fatalf("first: %q", g)
	}
	c2 := dial(t, p)
	if g := greeting(c2, 300*time.Millisecond); g != "" {
		t.Fatalf("second connection should wait in the queue, got %q", g)
	}
	c1.Close()
	if g := greeting(c2, 5*time.Second); g != "a" {
		t.Fatalf("queued connection after the slot freed: %q", g)
	}
}

// A connection waiting longer than timeout queue is closed.
func TestQueueTimeout(t *testing.T) {
	p := freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf(" timeout queue 200ms\nlisten l\n bind %s\n server a %s maxconn 1\n", p, holdServer(t, "a")))
	c1 := dial(t, p)
	if g := greeting(c1, 5*time.Second); g != "a" {
		t.Fatalf("first: %q", g)
	}
	c2 := dial(t, p)
	start := time.Now()
	if g := greeting(c2, 5*time.Second); g != "EOF" {
		t.Fatalf("queued past timeout queue: got %q, want a close", g)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("closed after %v, before timeout queue", el)
	}
}

// With balance source a full server queues on itself, refusing past its
// maxqueue at once.
func TestMaxqueue(t *testing.T) {
	p := freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf(" timeout queue 10s\nlisten l\n bind %s\n balance source\n server a %s maxconn 1 maxqueue 1\n", p, holdServer(t, "a")))
	c1 := dial(t, p)
	if g := greeting(c1, 5*time.Second); g != "a" {
		t.Fatalf("first: %q", g)
	}
	c2 := dial(t, p)
	if g := greeting(c2, 300*time.Millisecond); g != "" {
		t.Fatalf("second should queue, got %q", g)
	}
	c3 := dial(t, p)
	start := time.Now()
	if g := greeting(c3, 5*time.Second); g != "EOF" || time.Since(start) > 3*time.Second {
		t.Fatalf("third past maxqueue: got %q after %v, want an immediate close", g, time.Since(start))
	}
	c1.Close()
	if g := greeting(c2, 5*time.Second); g != "a" {
		t.Fatalf("queued connection: %q", g)
	}
}

// When every server is full, connections wait in the backend's queue in
// arrival order and take whichever server frees first.
func TestBackendQueueFIFO(t *testing.T) {
	p := freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf(" timeout queue 10s\nlisten l\n bind %s\n server a %s maxconn 1\n server b %s maxconn 1\n",
		p, holdServer(t, "a"), holdServer(t, "b")))
	c1, c2 := dial(t, p), dial(t, p)
	g1, g2 := greeting(c1, 5*time.Second), greeting(c2, 5*time.Second)
	if g1 == g2 || g1 == "" || g2 == "" {
		t.Fatalf("two servers should take one each: %q %q", g1, g2)
	}
	c3 := dial(t, p)
	time.Sleep(50 * time.Millisecond) // let c3 reach the queue before c4
	c4 := dial(t, p)
	if g := greeting(c3, 200*time.Millisecond); g != "" {
		t.Fatalf("third should queue: %q", g)
	}
	c2.Close()
	if g := greeting(c3, 5*time.Second); g != g2 {
		t.Fatalf("oldest waiter should get %s's slot, got %q", g2, g)
	}
	if g := greeting(c4, 200*time.Millisecond); g != "" {
		t.Fatalf("younger waiter served first: %q", g)
	}
	c1.Close()
	if g := greeting(c4, 5*time.Second); g != g1 {
		t.Fatalf("fourth: %q, want %q", g, g1)
	}
}

// option redispatch sends the last retry to another server; without it
// the client is closed once the retries to the dead server are spent.
func TestRedispatch(t *testing.T) {
	dead := freeAddr(t) // nothing listens here
	good := holdServer(t, "good")
	for _, tc := range []struct {
		opt  string
		want string
	}{{" option redispatch\n", "good"}, {"", "EOF"}} {
		p := freeAddr(t)
		startCfg(t, tcpDefaults+fmt.Sprintf("listen l\n bind %s\n balance first\n retries 1\n%s server dead %s\n server good %s\n", p, tc.opt, dead, good))
		c := dial(t, p)
		if g := greeting(c, 5*time.Second); g != tc.want {
			t.Errorf("option %q: got %q, want %q", tc.opt, g, tc.want)
		}
	}
}

// A server written 0.0.0.0 connects to the address the client reached,
// and :+N shifts the client's destination port.
func TestServerPortOffset(t *testing.T) {
	target := holdServer(t, "t")
	_, tport, _ := net.SplitHostPort(target)
	// Bind the proxy on the target's port minus 1000 when free; otherwise skip.
	var tp int
	fmt.Sscan(tport, &tp)
	if tp <= 1100 {
		t.Skip("target port too low for an offset")
	}
	p := fmt.Sprintf("127.0.0.1:%d", tp-1000)
	ln, err := net.Listen("tcp", p)
	if err != nil {
		t.Skipf("port %s busy", p)
	}
	ln.Close()
	startCfg(t, tcpDefaults+fmt.Sprintf("listen l\n bind %s\n server s 127.0.0.1:+1000\n", p))
	if g := greeting(dial(t, p), 5*time.Second); g != "t" {
		t.Fatalf("offset server: %q", g)
	}
}

// With minconn, a server's limit grows with the backend's load up to
// maxconn at fullconn: at low load it is minconn, so a second connection
// queues even though maxconn would take it.
func TestMinconnFullconn(t *testing.T) {
	p := freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf(" timeout queue 5s\nlisten l\n bind %s\n fullconn 100\n server a %s minconn 1 maxconn 10\n", p, holdServer(t, "a")))
	c1 := dial(t, p)
	if g := greeting(c1, 5*time.Second); g != "a" {
		t.Fatalf("first: %q", g)
	}
	c2 := dial(t, p)
	if g := greeting(c2, 300*time.Millisecond); g != "" {
		t.Fatalf("second should queue at the dynamic limit of 1, got %q", g)
	}
	c1.Close()
	if g := greeting(c2, 5*time.Second); g != "a" {
		t.Fatalf("queued connection: %q", g)
	}
}

func TestDynamicLimit(t *testing.T) {
	b := &backend{dynamic: true, fullconn: 100}
	s := &server{maxconn: 50, minconn: 5}
	for _, tc := range []struct{ beconn, want int }{{0, 5}, {10, 5}, {20, 10}, {60, 30}, {100, 50}, {500, 50}} {
		b.conns.Store(int64(tc.beconn))
		if got := s.limit(b); got != tc.want {
			t.Errorf("beconn %d: limit %d, want %d", tc.beconn, got, tc.want)
		}
	}
}

// minconn alone is a static limit, as HAProxy raises maxconn to it.
func TestMinconnWithoutMaxconn(t *testing.T) {
	p := freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf(" timeout queue 5s\nlisten l\n bind %s\n server a %s minconn 1\n", p, holdServer(t, "a")))
	c1 := dial(t, p)
	if g := greeting(c1, 5*time.Second); g != "a" {
		t.Fatalf("first: %q", g)
	}
	if g := greeting(dial(t, p), 300*time.Millisecond); g != "" {
		t.Fatalf("second should queue behind minconn 1, got %q", g)
	}
}

// Redispatch looks for another server among the active ones only: with
// the only active server refusing, the retries stay on it, never a backup.
func TestRedispatchStaysOffBackups(t *testing.T) {
	dead := freeAddr(t)
	p := freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf("listen l\n bind %s\n retries 1\n option redispatch\n server dead %s\n server spare %s backup\n", p, dead, holdServer(t, "spare")))
	if g := greeting(dial(t, p), 5*time.Second); g != "EOF" {
		t.Fatalf("got %q, want a close (HAProxy does not redispatch to a backup while an active server is up)", g)
	}
}

// A queued client that leaves is dropped from the queue at once, as
// HAProxy's back_may_abort_req: in mode tcp a reset is logged CD and a
// close of a client that sent nothing CQ, both with no server and the
// wait (%Tw) they spent; a client that sent data and closes is still
// served unless option abortonclose is set.
func TestQueuedClientLeaves(t *testing.T) {
	for _, tc := range []struct {
		name, opt, data, act, state string
	}{
		{"reset", "", "hello", "rst", "CD"},
		{"close with nothing sent", "", "", "close", "CQ"},
		{"close after data, abortonclose", " option abortonclose\n", "hello", "close", "CQ"},
		{"close after data", "", "hello", "close", "served"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rx := startSyslog(t)
			p := freeAddr(t)
			startLogged(t, rx, tcpDefaults+fmt.Sprintf(" log global\n option tcplog\n timeout queue 5s\nlisten l\n bind %s\n%s server a %s maxconn 1\n", p, tc.opt, holdServer(t, "a")))
			c1 := dial(t, p)
			if g := greeting(c1, 5*time.Second); g != "a" {
				t.Fatalf("first: %q", g)
			}
			c2 := dial(t, p)
			io.WriteString(c2, tc.data)
			time.Sleep(100 * time.Millisecond)
			if tc.act == "rst" {
				c2.(*net.TCPConn).SetLinger(0)
			}
			c2.Close()
			if tc.state == "served" {
				rx.none(t, 300*time.Millisecond)
				c1.Close()
				for _, want := range []string{"--", "--"} {
					if f := parseTCPLog(t, rx.next(t)); f[4] != "a" || f[9] != want && f[9] != "CD" {
						t.Fatalf("after the slot freed: %q", f)
					}
				}
				return
			}
			f := parseTCPLog(t, rx.next(t))
			if f[9] != tc.state || f[4] != "<NOSRV>" || f[5] == "-1" || f[6] != "-1" {
				t.Fatalf("got state %s server %s Tw %s Tc %s, want %s <NOSRV> with the wait logged: %q", f[9], f[4], f[5], f[6], tc.state, f)
			}
			// The slot goes to no one: the holder still has it, and a new
			// client queues behind it.
			c3 := dial(t, p)
			if g := greeting(c3, 200*time.Millisecond); g != "" {
				t.Fatalf("third connection: %q", g)
			}
			c1.Close()
			if g := greeting(c3, 5*time.Second); g != "a" {
				t.Fatalf("third connection after the slot freed: %q", g)
			}
		})
	}
}

// A request whose body is still coming is watched while it waits in the
// queue (its client leaving would end the wait); the rest of the body,
// sent while it waits or once it has its server, still goes through.
func TestHTTPQueuedBodyGoesThrough(t *testing.T) {
	be := startHTTPBackend(t, "s1")
	_, addr := startEngine(t, httpDefaults+" timeout queue 10s\n timeout server 10s\nfrontend fe\n bind %s\n default_backend be\nbackend be\n server s1 "+be.hostPort()+" maxconn 1\n")
	holder := make(chan string, 1)
	go func() { holder <- rawHTTP(t, addr, "GET /sleep HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n") }()
	time.Sleep(200 * time.Millisecond)
	post := "POST /body HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\nconnection: close\r\n\r\nhello"
	sum := sha256.Sum256([]byte("helloworld"))
	want := fmt.Sprintf("s1 10 %x", sum[:8])
	a, b := dial(t, addr), dial(t, addr)
	io.WriteString(a, post)
	io.WriteString(b, post)
	time.Sleep(300 * time.Millisecond) // both queued behind the holder
	io.WriteString(a, "world")         // a's body ends while it waits
	if got := <-holder; !strings.Contains(got, "200 OK") {
		t.Fatalf("holder: %q", got)
	}
	time.Sleep(500 * time.Millisecond) // b has its server by now, a is served
	io.WriteString(b, "world")
	for name, c := range map[string]net.Conn{"rest while queued": a, "rest once served": b} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, _ := io.ReadAll(c)
		if !strings.HasSuffix(string(got), want) {
			t.Errorf("%s: got %q, want the body echoed (%s)", name, got, want)
		}
	}
}
