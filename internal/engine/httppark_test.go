package engine

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// askPath sends GET path on c and returns the response's body.
func askPath(t *testing.T, c net.Conn, r *bufio.Reader, path string) string {
	t.Helper()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", path)
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// Idle keep-alive clients wait parked: fifty of them between two requests
// hold no goroutine each, the next request on each is served as before,
// `timeout http-keep-alive` closes one that stays idle, and a stop closes
// the idle ones at once.
func TestHTTPIdleKeepAliveParks(t *testing.T) {
	be := startHTTPBackend(t, "a")
	e, addr := startEngine(t, `defaults
 mode http
 timeout connect 1s
 timeout client 30s
 timeout server 5s
 timeout http-keep-alive 10s
frontend fe
 bind %s
 default_backend be
backend be
 server s1 `+be.hostPort()+"\n")
	const n = 50
	conns := make([]net.Conn, n)
	readers := make([]*bufio.Reader, n)
	before := runtime.NumGoroutine()
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		conns[i], readers[i] = c, bufio.NewReader(c)
	}
	for i, c := range conns {
		if got := askPath(t, c, readers[i], "/one"); got != "a GET /one" {
			t.Fatalf("conn %d: %q", i, got)
		}
	}
	time.Sleep(300 * time.Millisecond) // past parkGrace
	// What is left, beside the goroutines the accept loop keeps for new
	// connections, is a few of the backend's.
	if d := runtime.NumGoroutine() - before - idleWorkers(e); d > 10 {
		t.Errorf("%d idle keep-alive clients hold %d more goroutines, want them parked", n, d)
	}
	for i, c := range conns[:10] {
		if got := askPath(t, c, readers[i], "/two"); got != "a GET /two" {
			t.Fatalf("conn %d after parking: %q", i, got)
		}
	}
	// Idle past timeout http-keep-alive: closed without a word.
	_, addr1 := startEngine(t, `defaults
 mode http
 timeout connect 1s
 timeout client 30s
 timeout server 5s
 timeout http-keep-alive 300ms
frontend fe
 bind %s
 default_backend be
backend be
 server s1 `+be.hostPort()+"\n")
	c1, err := net.Dial("tcp", addr1)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c1.SetDeadline(time.Now().Add(10 * time.Second))
	r1 := bufio.NewReader(c1)
	askPath(t, c1, r1, "/idle")
	if b, err := r1.ReadByte(); err != io.EOF {
		t.Errorf("after the keep-alive timeout: read %q %v, want EOF", b, err)
	}

	// A stop closes idle connections at once, long before their
	// keep-alive timeout.
	e2, addr2 := startEngine(t, `defaults
 mode http
 timeout connect 1s
 timeout client 60s
 timeout server 5s
 timeout http-keep-alive 60s
frontend fe
 bind %s
 default_backend be
backend be
 server s1 `+be.hostPort()+"\n")
	c, err := net.Dial("tcp", addr2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	askPath(t, c, r, "/three")
	time.Sleep(20 * time.Millisecond)
	e2.SoftStop()
	if _, err := r.ReadByte(); err != io.EOF {
		t.Errorf("soft stop: idle connection read %v, want EOF well before its 60s keep-alive timeout", err)
	}
	if !e2.Wait(10 * time.Second) {
		t.Error("the engine did not finish after its idle connections closed")
	}
}

// A pipelined request already in the buffer is served without parking.
func TestHTTPPipelinedNotParked(t *testing.T) {
	be := startHTTPBackend(t, "a")
	addr := startHTTPEngine(t, "", be)
	out := rawHTTP(t, addr, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if strings.Count(out, "HTTP/1.1 200 OK") != 2 || !strings.Contains(out, "a GET /2") {
		t.Fatalf("pipelined: %q", out)
	}
}

// Clients that each make one request and stay idle do not each keep a
// server connection: as HAProxy (srv_add_to_idle_list), a server keeps an
// idle connection when none waits, more only as many as it needed lately.
func TestHTTPIdleServerConnectionsBounded(t *testing.T) {
	be := startHTTPBackend(t, "a")
	addr := startHTTPEngine(t, "", be)
	const n = 20
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(res.Body)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		open := be.conns.Load() - be.closed.Load()
		if open <= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d idle clients keep %d server connections open, want at most 2", n, open)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Busy keep-alive clients keep their server connections: the server's
// estimated need rises with its busy connections at once, as in HAProxy,
// so that releasing one after each response does not close it.
func TestHTTPBusyClientsKeepServerConnections(t *testing.T) {
	be := startHTTPBackend(t, "a")
	addr := startHTTPEngine(t, "", be)
	const clients, requests = 8, 25
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		go func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			r := bufio.NewReader(c)
			for k := 0; k < requests; k++ {
				fmt.Fprintf(c, "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", k)
				res, err := http.ReadResponse(r, nil)
				if err != nil {
					errs <- err
					return
				}
				io.ReadAll(res.Body)
			}
			errs <- nil
		}()
	}
	for i := 0; i < clients; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := be.conns.Load(); n > 2*clients {
		t.Errorf("%d clients making %d requests each opened %d server connections, want about one each", clients, requests, n)
	}
}

// Idle keep-alive TLS clients park as plain ones do: they hold no
// goroutine between two requests, the next request on each is served
// over the same TLS session, and `timeout http-keep-alive` closes one
// that stays idle.
func TestHTTPIdleKeepAliveParksTLS(t *testing.T) {
	f := newTLSFixture(t)
	be := startHTTPBackend(t, "a")
	cfg := `defaults
 mode http
 timeout connect 1s
 timeout client 30s
 timeout server 5s
 timeout http-keep-alive %s
frontend fe
 bind %%s ssl crt ` + f.www + `
 default_backend be
backend be
 server s1 ` + be.hostPort() + "\n"
	e, addr := startEngine(t, fmt.Sprintf(cfg, "10s"))
	const n = 40
	conns := make([]net.Conn, n)
	readers := make([]*bufio.Reader, n)
	before := runtime.NumGoroutine()
	for i := range conns {
		c := dialTLS(t, addr, f.client("www.example.test"))
		defer c.Close()
		conns[i], readers[i] = c, bufio.NewReader(c)
	}
	for i, c := range conns {
		if got := askPath(t, c, readers[i], "/one"); got != "a GET /one" {
			t.Fatalf("conn %d: %q", i, got)
		}
	}
	time.Sleep(300 * time.Millisecond) // past parkGrace
	// Parked, the clients hold no goroutine: what is left, beside the
	// goroutines the accept loop keeps for new connections, is the
	// pollers and backend ones.
	if d := runtime.NumGoroutine() - before - idleWorkers(e); d > n/4 {
		t.Errorf("%d idle keep-alive TLS clients hold %d more goroutines, want them parked", n, d)
	}
	for i, c := range conns {
		if got := askPath(t, c, readers[i], "/two"); got != "a GET /two" {
			t.Fatalf("conn %d after parking: %q", i, got)
		}
	}
	// Half a request, then a pause past parkGrace, then the rest: the
	// connection parks with part of a TLS record or none, and the rest
	// wakes it.
	c := conns[0]
	io.WriteString(c, "GET /three HTTP/1.1\r\n")
	time.Sleep(150 * time.Millisecond)
	io.WriteString(c, "Host: a\r\n\r\n")
	res, err := http.ReadResponse(readers[0], nil)
	if err != nil {
		t.Fatalf("request sent in two parts: %v", err)
	}
	if b, _ := io.ReadAll(res.Body); string(b) != "a GET /three" {
		t.Errorf("request sent in two parts: %q", b)
	}

	// Idle past timeout http-keep-alive: closed.
	_, addr1 := startEngine(t, fmt.Sprintf(cfg, "300ms"))
	c1 := dialTLS(t, addr1, f.client("www.example.test"))
	defer c1.Close()
	r1 := bufio.NewReader(c1)
	askPath(t, c1, r1, "/idle")
	start := time.Now()
	if b, err := r1.ReadByte(); err == nil {
		t.Errorf("after the keep-alive timeout: read %q, want the connection closed", b)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the idle TLS client was closed after %v, want about 300ms", d)
	}
}

// A parked keep-alive client keeps its stream: the struct must stay
// within Go's 896-byte allocation class (the next one is 1024), a
// quarter of what an idle client costs. An object of more than 512 bytes
// that holds pointers carries an 8-byte header in its allocation, so the
// struct itself may take 888 bytes. Process-wide facts live in one
// shared sample.Env, not in each stream, and the small fields are
// grouped to avoid padding.
func TestStreamSizeClass(t *testing.T) {
	const class, header = 896, 8
	if n := unsafe.Sizeof(stream{}); n > class-header {
		t.Errorf("stream is %d bytes, %d with its allocation header: past the %d-byte allocation class, each idle client costs 128 bytes more",
			n, n+header, class)
	}
}

// idleWorkers is how many goroutines e's accept loops keep waiting for
// new connections.
func idleWorkers(e *Engine) int {
	n := 0
	for _, l := range e.loops {
		n += l.IdleWorkers()
	}
	return n
}

// A client that sends its request and its end together (a half-close)
// gets its response and then the end, at once rather than after
// `timeout http-keep-alive`: the end came with the bytes read, and the
// wait for the next request must still see it. The first request comes
// late, so that the socket is in Go's poller for the second.
func TestHTTPClientEndWithRequest(t *testing.T) {
	be := startHTTPBackend(t, "a")
	_, addr := startEngine(t, httpDefaults+" timeout http-keep-alive 30s\nfrontend fe\n bind %s\n default_backend be\nbackend be\n server s1 "+be.hostPort()+"\n")
	for i := range 10 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		time.Sleep(5 * time.Millisecond) // Sluice waits for the first request
		if got := askPath(t, c, r, "/one"); got != "a GET /one" {
			t.Fatalf("conn %d: %q", i, got)
		}
		io.WriteString(c, "GET /two HTTP/1.1\r\nHost: a\r\n\r\n")
		c.(*net.TCPConn).CloseWrite()
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("conn %d: %v", i, err)
		}
		body, _ := io.ReadAll(res.Body)
		if string(body) != "a GET /two" {
			t.Fatalf("conn %d: %q", i, body)
		}
		if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
			t.Fatalf("conn %d: after the response %q, %v; want the end", i, rest, err)
		}
		c.Close()
	}
}
