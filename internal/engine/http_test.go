package engine

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// httpBackend is a Go HTTP server on 127.0.0.1 that names itself, echoes
// request bodies (as a SHA-256 and a length) and counts its connections.
type httpBackend struct {
	*httptest.Server
	conns  atomic.Int64
	closed atomic.Int64
}

func startHTTPBackend(t *testing.T, name string) *httpBackend {
	t.Helper()
	b := &httpBackend{}
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/sleep":
			time.Sleep(2 * time.Second)
		case "/body":
			h := sha256.New()
			n, _ := io.Copy(h, r.Body)
			fmt.Fprintf(w, "%s %d %x", name, n, h.Sum(nil)[:8])
			return
		case "/big":
			w.Write(bytes.Repeat([]byte("x"), 1<<20))
			return
		case "/chunked":
			for i := 0; i < 3; i++ {
				fmt.Fprintf(w, "part%d;", i)
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("X-Server", name)
		fmt.Fprintf(w, "%s %s %s", name, r.Method, r.URL.RequestURI())
	}))
	b.Server.Config.ConnState = func(c net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			b.conns.Add(1)
		case http.StateClosed, http.StateHijacked:
			b.closed.Add(1)
		}
	}
	b.Start()
	t.Cleanup(b.Close)
	return b
}

func (b *httpBackend) hostPort() string { return strings.TrimPrefix(b.URL, "http://") }

const httpDefaults = `defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 1s
`

func startHTTPEngine(t *testing.T, body string, backends ...*httpBackend) string {
	t.Helper()
	cfg := httpDefaults + "frontend fe\n bind %s\n default_backend be\nbackend be\n" + body
	for i, b := range backends {
		cfg += fmt.Sprintf(" server s%d %s\n", i+1, b.hostPort())
	}
	_, addr := startEngine(t, cfg)
	return addr
}

// rawHTTP sends raw bytes, then reads responses until want responses or
// the connection ends; it returns what was read.
func rawHTTP(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, req)
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestHTTPKeepAliveRoundRobinAndReuse(t *testing.T) {
	b1, b2 := startHTTPBackend(t, "b1"), startHTTPBackend(t, "b2")
	addr := startHTTPEngine(t, "", b1, b2)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	var got []string
	for i := 0; i < 6; i++ {
		resp, err := client.Get("http://" + addr + "/p?q=" + fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = append(got, string(b))
		if resp.Header.Get("X-Server") == "" {
			t.Errorf("response headers lost: %v", resp.Header)
		}
	}
	want := []string{"b1 GET /p?q=0", "b2 GET /p?q=1", "b1 GET /p?q=2", "b2 GET /p?q=3", "b1 GET /p?q=4", "b2 GET /p?q=5"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	// One client connection; each server keeps one connection for it.
	if n1, n2 := b1.conns.Load(), b2.conns.Load(); n1 != 1 || n2 != 1 {
		t.Errorf("server connections: %d and %d, want 1 each (reused)", n1, n2)
	}
}

func TestHTTPBodies(t *testing.T) {
	b := startHTTPBackend(t, "b")
	addr := startHTTPEngine(t, "", b)
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	sum := sha256.Sum256(body)
	want := fmt.Sprintf("b %d %x", len(body), sum[:8])
	// Content-Length upload.
	resp, err := http.Post("http://"+addr+"/body", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != want {
		t.Errorf("content-length upload: %q, want %q", got, want)
	}
	// Chunked upload (unknown length).
	resp, err = http.Post("http://"+addr+"/body", "application/octet-stream", io.MultiReader(bytes.NewReader(body[:1000]), bytes.NewReader(body[1000:])))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != want {
		t.Errorf("chunked upload: %q, want %q", got, want)
	}
	// Large and chunked downloads.
	resp, err = http.Get("http://" + addr + "/big")
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(got) != 1<<20 {
		t.Errorf("download: %d bytes", len(got))
	}
	out := rawHTTP(t, addr, "GET /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if !strings.Contains(out, "transfer-encoding: chunked\r\n") || !strings.HasSuffix(out, "0\r\n\r\n") ||
		!strings.Contains(out, "part0;") || !strings.Contains(out, "part2;") {
		t.Errorf("chunked download: %q", out)
	}
}

func TestHTTPPipelinedAndHead(t *testing.T) {
	b := startHTTPBackend(t, "b")
	addr := startHTTPEngine(t, "", b)
	out := rawHTTP(t, addr, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	r := bufio.NewReader(strings.NewReader(out))
	var bodies []string
	for _, m := range []string{"GET", "HEAD", "GET"} {
		resp, err := http.ReadResponse(r, &http.Request{Method: m})
		if err != nil {
			t.Fatalf("reading responses from %q: %v", out, err)
		}
		b, _ := io.ReadAll(resp.Body)
		bodies = append(bodies, string(b))
	}
	if want := "b GET /1||b GET /3"; strings.Join(bodies, "|") != want {
		t.Errorf("bodies %q, want %q", bodies, want)
	}
	if !strings.Contains(out, "connection: close\r\n") {
		t.Errorf("the last response does not announce the close: %q", out)
	}
}

func TestHTTPErrors(t *testing.T) {
	b := startHTTPBackend(t, "b")
	addr := startHTTPEngine(t, "", b)
	for req, status := range map[string]string{
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n":                        "400 Bad request",
		"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab": "400 Bad request",
		// A 504 leaves the connection open unless the client closes it.
		"GET /sleep HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n": "504 Gateway Time-out",
	} {
		out := rawHTTP(t, addr, req)
		if !strings.HasPrefix(out, "HTTP/1.1 "+status+"\r\n") || !strings.Contains(strings.ToLower(out), "connection: close\r\n") {
			t.Errorf("%q: got %q, want %s", req, out, status)
		}
	}
	// No server listening: 503 once the connection attempts fail.
	dead := startHTTPBackend(t, "dead")
	dead.Close()
	addr = startHTTPEngine(t, "", dead)
	if out := rawHTTP(t, addr, "GET / HTTP/1.1\r\n\r\n"); !strings.HasPrefix(out, "HTTP/1.1 503 Service Unavailable\r\n") {
		t.Errorf("dead server: %q", out)
	}
}

// startUpgradeServer is a raw server that accepts one WebSocket upgrade,
// then echoes what follows; it returns its address.
func startUpgradeServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		if _, err := http.ReadRequest(r); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
		io.Copy(c, r)
	}()
	return ln.Addr().String()
}

func TestHTTPUpgradeTunnel(t *testing.T) {
	_, addr := startEngine(t, httpDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n timeout tunnel 5s\n server s1 "+startUpgradeServer(t)+"\n")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nhello")
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("echo through the tunnel: %q %v", buf, err)
	}
	io.WriteString(c, "again")
	if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "again" {
		t.Fatalf("second echo: %q %v", buf, err)
	}
}

// An errorfile replaces the built-in page for its status.
func TestHTTPErrorfile(t *testing.T) {
	dir := t.TempDir()
	page := "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<h1>Sluice maintenance</h1>\n"
	if err := os.WriteFile(dir+"/503.http", []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	dead := startHTTPBackend(t, "dead")
	dead.Close()
	addr := startHTTPEngine(t, " errorfile 503 "+dir+"/503.http\n", dead)
	out := rawHTTP(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.0 503 Service Unavailable\r\n") || !strings.HasSuffix(out, "<h1>Sluice maintenance</h1>\n") {
		t.Errorf("errorfile not served: %q", out)
	}
}

// Expect: 100-continue: a server that refuses before the body gets its
// final answer to the client at once (and the client connection closes,
// its body unread); a server that waits for the body without a 100 gets
// it when the client sends it anyway, later or at once.
func TestHTTPExpectContinueEarlyAnswer(t *testing.T) {
	_, addr := startEngine(t, httpDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 "+startExpectServer(t)+"\n")
	expectContinueCases(t, func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

// startExpectServer answers /refuse with a 417 without reading the body,
// and anything else, once it has the body, with a 200 echoing it.
func startExpectServer(t *testing.T) string {
	return testkit.Serve(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		req, err := http.ReadRequest(r)
		if err != nil {
			return
		}
		if req.URL.Path == "/refuse" {
			io.WriteString(c, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
			return
		}
		b, _ := io.ReadAll(req.Body) // no 100: it waits for the body
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(b), b)
	})
}

// expectContinueCases runs TestHTTPExpectContinueEarlyAnswer's cases
// over connections dial opens to a proxy in front of startExpectServer.
func expectContinueCases(t *testing.T, dial func() net.Conn) {
	t.Helper()
	c := dial()
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, "PUT /refuse HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	got, _ := io.ReadAll(c) // the proxy must answer and close without the body
	if !strings.HasPrefix(string(got), "HTTP/1.1 417 Expectation Failed\r\n") || !strings.Contains(string(got), "\r\nconnection: close\r\n") {
		t.Errorf("early refusal: %q, want the 417 with connection: close, before the body was sent", got)
	}
	for _, pause := range []time.Duration{200 * time.Millisecond, 0} {
		c2 := dial()
		defer c2.Close()
		c2.SetDeadline(time.Now().Add(3 * time.Second))
		// Head and body in two writes (two TLS records on a TLS
		// connection), the body at once or a moment later.
		io.WriteString(c2, "PUT /wait HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
		time.Sleep(pause)
		io.WriteString(c2, "hello")
		res, err := http.ReadResponse(bufio.NewReader(c2), nil)
		if err != nil {
			t.Fatalf("body sent after %v: %v", pause, err)
		}
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || string(b) != "hello" {
			t.Errorf("a server that waits for the body, sent after %v: %d %q, want 200 \"hello\"", pause, res.StatusCode, b)
		}
	}
}

// A chunk size line longer than the buffer, found once the head went to
// the server, is a malformed body: the stream answers 400, its page
// formatted as HAProxy's streams format replies (lower-case names).
func TestHTTPChunkLineLargerThanBuffer(t *testing.T) {
	b := startHTTPBackend(t, "b1")
	addr := startHTTPEngine(t, "", b)
	req := "POST /body HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5;" +
		strings.Repeat("x", 17000) + "\r\nhello\r\n0\r\n\r\n"
	got := rawHTTP(t, addr, req)
	want := "HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\ncache-control: no-cache\r\n"
	if !strings.HasPrefix(got, want) {
		t.Errorf("got %q, want it to start with %q", got, want)
	}
}
