package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// oneShotServer answers one request per connection (its head, and a body
// of Content-Length bytes) with a keep-alive 200, then closes: the
// connection Sluice parks is dead by the time the next request wants it,
// as with a server whose keep-alive timeout has just fired. closed
// receives a value once the server has closed each connection.
func oneShotServer(t *testing.T) (addr string, conns *atomic.Int64, closed <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = new(atomic.Int64)
	done := make(chan struct{}, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer func() {
					c.Close()
					done <- struct{}{}
				}()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				var buf []byte
				tmp := make([]byte, 4096)
				for {
					n, err := c.Read(tmp)
					buf = append(buf, tmp[:n]...)
					if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
						cl := 0
						if m := regexp.MustCompile(`(?i)\r\ncontent-length: *(\d+)`).FindSubmatch(buf[:i]); m != nil {
							cl, _ = strconv.Atoi(string(m[1]))
						}
						if len(buf) >= i+4+cl {
							break
						}
					}
					if err != nil {
						return
					}
				}
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			}()
		}
	}()
	return ln.Addr().String(), conns, done
}

// A request that finds its parked server connection closed is sent again
// on a new one, whether or not Sluice looked at the socket first (it does
// not for a bodiless request on a connection parked under recentIdle ago;
// it does for one with a body), and its bytes from the client count once.
func TestHTTPReuseOfClosedServerConnection(t *testing.T) {
	rx := startSyslog(t)
	srv, conns, closed := oneShotServer(t)
	p := freeAddr(t)
	startLogged(t, rx, httpDefaults+fmt.Sprintf(" log global\n log-format \"%%ST %%U\"\n http-reuse safe\n"+
		"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", p, srv))
	c, err := net.Dial("tcp", p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	k := &allocClient{c: c, buf: make([]byte, 4096)}
	get := "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	post := "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
	// %U counts a request once, as HAProxy's HTX holds it (h1.HTXSize):
	// 39 for the GET, 55 and 5 of body for the POST.
	sizes := []int{39, 39, 60, 39}
	for i, req := range []string{get, get, post, get} {
		if i > 0 {
			// The connection Sluice parked must be closed before the
			// request that would reuse it comes: a request with a body
			// is sent again only when its connection is seen closed
			// before it is sent.
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatalf("request %d: the server did not close its connection", i)
			}
		}
		if err := k.roundTrip([]byte(req)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		want := fmt.Sprintf("200 %d", sizes[i])
		if l := rx.next(t); !regexp.MustCompile(want + `\s*$`).MatchString(l) {
			t.Fatalf("request %d logged %q, want %q at the end", i, l, want)
		}
	}
	if n := conns.Load(); n != 4 {
		t.Errorf("the server saw %d connections, want 4 (one per request)", n)
	}
}

// A client that leaves does not close the server connection it last
// used when another client has taken it from the pool since: with
// http-reuse always, B's request streams its body on A's former
// connection while A disconnects, and B's response arrives whole.
func TestHTTPLeavingClientSparesTakenServerConnection(t *testing.T) {
	b := startHTTPBackend(t, "s1")
	e, p := startEngine(t, httpDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n"+
		" http-reuse always\n server s1 "+b.hostPort()+"\n")
	a, err := net.Dial("tcp", p)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.SetDeadline(time.Now().Add(5 * time.Second))
	a.Write([]byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"))
	if got := readOneResponse(t, a); !bytes.HasSuffix(got, []byte("s1 GET /a")) {
		t.Fatalf("A's response: %q", got)
	}
	// A's client may read the response before Sluice parks the server
	// connection: B must come after.
	waitPooled(t, e.facts.backends["be"].servers[0].pool, 1)
	// B's request takes the connection A left in the pool, its body
	// coming slowly.
	c, err := net.Dial("tcp", p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nxx"))
	time.Sleep(100 * time.Millisecond)
	a.Close() // A leaves while B's request is on its former connection
	time.Sleep(100 * time.Millisecond)
	c.Write([]byte("xxxxxxxx"))
	got := readOneResponse(t, c)
	if !bytes.Contains(got, []byte("s1 10 ")) {
		t.Fatalf("B's response: %q", got)
	}
	if n := b.conns.Load(); n != 1 {
		t.Errorf("the backend saw %d connections, want B on A's one", n)
	}
}

// waitPooled waits until pool holds n idle connections.
func waitPooled(t *testing.T, pool *idlePool, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		pool.mu.Lock()
		k := len(pool.conns)
		pool.mu.Unlock()
		if k == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pool holds %d idle connections, want %d", k, n)
		}
	}
}

// readOneResponse reads one response from c and returns its body.
func readOneResponse(t *testing.T, c net.Conn) []byte {
	t.Helper()
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return body
}

// A server that half-closes an idle keep-alive connection and goes on
// reading (Apache's lingering close) is seen to have closed it when the
// next request is sent on it: that request is retried on a new
// connection at once, not answered 504 after timeout server.
func TestHTTPReuseOfHalfClosedServerConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := conns.Add(1)
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 4096)
				var got []byte
				for !bytes.Contains(got, []byte("\r\n\r\n")) {
					k, err := c.Read(buf)
					if err != nil {
						return
					}
					got = append(got, buf[:k]...)
				}
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nconn%d", n)
				// Done with the connection: its side closes, and it reads
				// on, discarding, until the peer goes.
				c.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, c)
			}()
		}
	}()
	_, addr := startEngine(t, httpDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n"+
		" http-reuse safe\n timeout server 3s\n server s1 "+ln.Addr().String()+"\n")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	for i, want := range []string{"conn1", "conn2"} {
		if i > 0 {
			time.Sleep(20 * time.Millisecond) // the server's close has come; well within recentIdle
		}
		start := time.Now()
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(body) != want {
			t.Fatalf("request %d: %d %q after %v, want 200 %q", i+1, res.StatusCode, body, time.Since(start), want)
		}
	}
}

// With http-reuse never a session's server connections are its own: one
// it used for any server carries its later requests to that server, and
// they close when the client leaves, as HAProxy's session closes them.
// With http-reuse safe the idle connection stays for other clients.
func TestHTTPPrivateConnectionsCloseWithSession(t *testing.T) {
	for _, tc := range []struct{ reuse string }{{"never"}, {"safe"}} {
		t.Run(tc.reuse, func(t *testing.T) {
			b1, b2 := startHTTPBackend(t, "s1"), startHTTPBackend(t, "s2")
			addr := startHTTPEngine(t, " http-reuse "+tc.reuse+"\n", b1, b2)
			c := dial(t, addr)
			c.SetDeadline(time.Now().Add(5 * time.Second))
			br := bufio.NewReader(c)
			var got []string
			for i := 0; i < 4; i++ {
				io.WriteString(c, "GET / HTTP/1.1\r\nhost: a\r\n\r\n")
				res, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				got = append(got, res.Header.Get("X-Server"))
			}
			if strings.Join(got, ",") != "s1,s2,s1,s2" {
				t.Fatalf("servers %v, want round robin", got)
			}
			if n := b1.conns.Load() + b2.conns.Load(); n != 2 {
				t.Fatalf("%d server connections for 4 requests to 2 servers, want 2: each is reused", n)
			}
			c.Close()
			deadline := time.Now().Add(2 * time.Second)
			alive := func() int64 {
				return b1.conns.Load() + b2.conns.Load() - b1.closed.Load() - b2.closed.Load()
			}
			if tc.reuse == "safe" {
				time.Sleep(300 * time.Millisecond)
				if alive() == 0 {
					t.Fatal("no idle server connection kept for other clients")
				}
				return
			}
			for alive() != 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := alive(); n != 0 {
				t.Fatalf("%d server connections open after the client left, want none", n)
			}
		})
	}
}
