package engine

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sluice/internal/config"
	"sluice/internal/logsink"
	"sluice/internal/testkit"
)

// The steady state of a keep-alive HTTP request through the engine: a
// frontend with path and Host ACLs and use_backend rules, a backend with
// a reused server connection, real sockets on 127.0.0.1. The client and
// the server here allocate nothing per request, so what
// testing.AllocsPerRun counts (every goroutine's allocations) is the
// engine's.

// allocCfg routes like bench/http.sh's configuration: the request matches
// none of the ACLs, so every one of them is evaluated before the default
// backend takes it.
const allocCfg = `%sdefaults
%s mode http
 timeout connect 5s
 timeout client 30s
 timeout server 30s
 timeout http-keep-alive 30s
 http-reuse safe
frontend fe
 bind %s
 acl is_api path_beg /api/
 acl is_static hdr(host) -i static.example.com
 acl is_image path_end .png .jpg .gif
 use_backend api if is_api
 use_backend static if is_static or is_image
 default_backend web
backend web
 server s1 %s
backend api
 server s1 %s
backend static
 server s1 %s
`

const allocRequest = "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n" +
	"User-Agent: alloc-test\r\nAccept: */*\r\n\r\n"

const allocRequestClose = "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n" +
	"User-Agent: alloc-test\r\nAccept: */*\r\nConnection: close\r\n\r\n"

const allocResponse = "HTTP/1.1 200 OK\r\nServer: alloc-test\r\nContent-Type: text/plain\r\n" +
	"Content-Length: 6\r\n\r\nhello\n"

// cannedServer answers every request head it reads with allocResponse,
// keeping connections open; it allocates nothing per request.
type cannedServer struct {
	ln net.Listener
	wg sync.WaitGroup
}

func startCannedServer(tb testing.TB) *cannedServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &cannedServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			s.wg.Add(1)
			go s.serve(c)
		}
	}()
	tb.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *cannedServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	buf, out := make([]byte, 4096), make([]byte, 0, 4*len(allocResponse))
	w := 0
	for {
		n, err := c.Read(buf[w:])
		if n == 0 && err != nil {
			return
		}
		w += n
		r := 0
		out = out[:0]
		for {
			i := bytes.Index(buf[r:w], []byte("\r\n\r\n"))
			if i < 0 {
				break
			}
			out = append(out, allocResponse...)
			r += i + 4
		}
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
		w = copy(buf, buf[r:w])
	}
}

// allocClient is a keep-alive client reading responses framed by
// Content-Length into a buffer it keeps.
type allocClient struct {
	c    net.Conn
	buf  []byte
	r, w int
}

var errShortResponse = errors.New("response without Content-Length")

func (k *allocClient) roundTrip(req []byte) error {
	if _, err := k.c.Write(req); err != nil {
		return err
	}
	end := -1
	for end = bytes.Index(k.buf[k.r:k.w], []byte("\r\n\r\n")); end < 0; end = bytes.Index(k.buf[k.r:k.w], []byte("\r\n\r\n")) {
		if err := k.fill(); err != nil {
			return err
		}
	}
	head := k.buf[k.r : k.r+end]
	k.r += end + 4
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("response %q", head)
	}
	i := bytes.Index(head, []byte("\r\ncontent-length:"))
	if i < 0 {
		return errShortResponse
	}
	length := 0
	for _, c := range bytes.TrimSpace(head[i+17:]) {
		if c < '0' || c > '9' {
			break
		}
		length = length*10 + int(c-'0')
	}
	for length > 0 {
		if k.r == k.w {
			if err := k.fill(); err != nil {
				return err
			}
		}
		n := min(length, k.w-k.r)
		k.r += n
		length -= n
	}
	return nil
}

func (k *allocClient) fill() error {
	if k.r > 0 {
		k.w = copy(k.buf, k.buf[k.r:k.w])
		k.r = 0
	}
	n, err := k.c.Read(k.buf[k.w:])
	k.w += n
	return err
}

// startLogDrain receives syslog datagrams and drops them, allocating
// nothing per line; lines counts them.
func startLogDrain(tb testing.TB) (addr string, lines *atomic.Int64) {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pc.Close() })
	lines = new(atomic.Int64)
	go func() {
		b := make([]byte, 4096)
		for {
			if _, err := pc.(*net.UDPConn).Read(b); err != nil {
				return
			}
			lines.Add(1)
		}
	}()
	return pc.LocalAddr().String(), lines
}

// startAllocPath starts a backend server, an engine routing to it and a
// keep-alive client, and warms the path up: the pools, the field lists
// and the server connection exist when it returns. With logged, every
// request is logged (option httplog) to a syslog drain.
func startAllocPath(tb testing.TB, logged bool) (*allocClient, []byte) {
	tb.Helper()
	srv := startCannedServer(tb)
	addr := testkit.FreeAddr(tb)
	sa := srv.ln.Addr().String()
	global, logLines := "", ""
	var drained *atomic.Int64
	if logged {
		var drain string
		drain, drained = startLogDrain(tb)
		global, logLines = "global\n log "+drain+" local0 info\n", " log global\n option httplog\n"
	}
	p := filepath.Join(tb.TempDir(), "alloc.cfg")
	os.WriteFile(p, []byte(fmt.Sprintf(allocCfg, global, logLines, addr, sa, sa, sa)), 0o644)
	cfg, ds := config.Load([]string{p}, config.Options{})
	if ds.HasAlerts() {
		tb.Fatal(ds)
	}
	var opt Options
	if logged {
		sink, err := logsink.Open([]logsink.Target{cfg.Global.Logs[0].Target}, logsink.Options{Tag: "sluice"})
		if err != nil {
			tb.Fatal(err)
		}
		opt.Log = sink
		tb.Cleanup(func() { sink.Close() })
	}
	e, err := Start(cfg, opt)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.HardStop(); e.Wait(5 * time.Second); e.Close() })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(time.Minute))
	k := &allocClient{c: c, buf: make([]byte, 8192)}
	req := []byte(allocRequest)
	for range 200 {
		if err := k.roundTrip(req); err != nil {
			tb.Fatal(err)
		}
	}
	// A logged path must be logging, or its allocations say nothing.
	for deadline := time.Now().Add(10 * time.Second); logged && drained.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatal("no log line reached the drain")
		}
	}
	return k, req
}

// maxAllocsPerRequest is what a keep-alive request costs in allocations
// once the path is warm: none, as measured (BenchmarkHTTPKeepAlive: 0
// B/op). The transaction, its field lists and buffers are reused, and the
// pooled server connection's liveness check allocates nothing.
const maxAllocsPerRequest = 0

// maxAllocsPerLoggedRequest is the same with option httplog: none, as
// measured (0 B/op). The request line for %r is kept in the transaction's
// own buffer, and the log line's fields, which escape to the heap, come
// from a pool. A log-format with %[...] samples still allocates the
// closure that evaluates them.
const maxAllocsPerLoggedRequest = 0

// TestHTTPKeepAliveAllocs guards the steady state of the request path:
// parsing, ACLs and switching rules, the pooled server connection, the
// relay of the response; and the log line, with option httplog.
func TestHTTPKeepAliveAllocs(t *testing.T) {
	for _, c := range []struct {
		name   string
		logged bool
		max    int
	}{{"plain", false, maxAllocsPerRequest}, {"httplog", true, maxAllocsPerLoggedRequest}} {
		t.Run(c.name, func(t *testing.T) {
			k, req := startAllocPath(t, c.logged)
			var err error
			allocs := testing.AllocsPerRun(2000, func() {
				if e := k.roundTrip(req); e != nil && err == nil {
					err = e
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if allocs > float64(c.max) && !raceEnabled {
				t.Errorf("%v allocations per keep-alive request, want at most %d", allocs, c.max)
			}
			t.Logf("%v allocations per keep-alive request", allocs)
		})
	}
}

// BenchmarkHTTPKeepAlive is one keep-alive request's round trip through
// the engine over loopback: client, engine and server share the
// machine, so ns/op is context; allocs/op is the engine's.
func BenchmarkHTTPKeepAlive(b *testing.B) {
	for _, logged := range []bool{false, true} {
		name := "plain"
		if logged {
			name = "httplog"
		}
		b.Run(name, func(b *testing.B) {
			k, req := startAllocPath(b, logged)
			b.ReportAllocs()
			for b.Loop() {
				if err := k.roundTrip(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHTTPNewConnection is a request on a client connection of its
// own (Connection: close), through the engine of
// BenchmarkHTTPKeepAlive: Sluice accepts the client and opens a server
// connection for it (http-reuse safe). The client's own dial allocates,
// so allocs/op is an upper bound of the engine's; a memory profile
// (-memprofile) tells the two apart.
func BenchmarkHTTPNewConnection(b *testing.B) {
	k, _ := startAllocPath(b, false)
	req := []byte(allocRequestClose)
	addr := k.c.RemoteAddr().String()
	buf := make([]byte, 8192)
	b.ReportAllocs()
	for b.Loop() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		n := &allocClient{c: c, buf: buf}
		if err := n.roundTrip(req); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
