package check

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// server runs handle for every connection accepted on 127.0.0.1.
func server(t *testing.T, handle func(c net.Conn)) netip.AddrPort {
	t.Helper()
	return netip.MustParseAddrPort(testkit.Serve(t, handle))
}

// reply answers each connection with resp after reading what the check
// sends (when wantRead), then keeps it open until the check closes.
func reply(resp string, wantRead bool) func(c net.Conn) {
	return func(c net.Conn) {
		if wantRead {
			buf := make([]byte, 4096)
			c.Read(buf)
		}
		c.Write([]byte(resp))
		io.Copy(io.Discard, c)
	}
}

func closedPort(t *testing.T) netip.AddrPort {
	addr := testkit.FreeAddr(t)
	return netip.MustParseAddrPort(addr)
}

func build(t *testing.T, r Rules) *Spec {
	t.Helper()
	sp, err := Build(r)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func lines(family string, ls ...string) []Line {
	var out []Line
	for i, l := range ls {
		w := strings.Fields(l)
		out = append(out, Line{Family: family, Action: w[0], Args: w[1:], Where: "t.cfg:" + string(rune('1'+i))})
	}
	return out
}

func target(a netip.AddrPort) Target {
	return Target{Addr: a, Inter: 2 * time.Second}
}

func expectResult(t *testing.T, got Result, st Status, code int, info string) {
	t.Helper()
	if got.Status != st || got.Code != code || got.Info != info {
		t.Fatalf("got %s code %d info %q, want %s code %d info %q", got.Status, got.Code, got.Info, st, code, info)
	}
}

func TestHealthCounter(t *testing.T) {
	h := NewHealth(2, 3)
	if !h.Up() || h.Full() {
		t.Fatalf("a new server is up but not fully: %+v", h)
	}
	h.Apply(false) // one failure at start-up: down
	if h.Up() || h.H != 0 || h.Text("UP") != "0/2 DOWN" {
		t.Fatalf("after one failure at start: %+v %s", h, h.Text("UP"))
	}
	h.Apply(true)
	if h.Up() || h.Text("UP") != "1/2 DOWN" {
		t.Fatalf("one success of two: %s", h.Text("UP"))
	}
	h.Apply(true)
	if !h.Up() || !h.Full() || h.Text("UP") != "3/3 UP" {
		t.Fatalf("rise reached: %+v %s", h, h.Text("UP"))
	}
	for i, want := range []string{"2/3 UP", "1/3 UP", "0/2 DOWN"} {
		h.Apply(false)
		if h.Text("UP") != want {
			t.Fatalf("failure %d: %s, want %s", i+1, h.Text("UP"), want)
		}
	}
	if h.Apply(false) {
		t.Fatal("a failure at 0 must not move the counter")
	}
}

func TestConnectCheck(t *testing.T) {
	sp := build(t, Rules{})
	up := server(t, func(c net.Conn) {})
	expectResult(t, sp.Run(context.Background(), target(up)), L4OK, 0, "")
	expectResult(t, sp.Run(context.Background(), target(closedPort(t))), L4Con, 0, "Connection refused")
}

// unresponsive returns an address whose SYNs go unanswered: a listener
// with its accept queue full.
func unresponsive(t *testing.T) netip.AddrPort {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	a := ln.Addr().String()
	var held []net.Conn
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	for i := 0; i < 600; i++ {
		c, err := net.DialTimeout("tcp", a, 100*time.Millisecond)
		if err != nil {
			return ln.Addr().(*net.TCPAddr).AddrPort()
		}
		held = append(held, c)
	}
	t.Skip("could not fill the accept queue")
	return netip.AddrPort{}
}

func TestConnectTimeout(t *testing.T) {
	sp := build(t, Rules{})
	tg := target(unresponsive(t))
	tg.Inter = 300 * time.Millisecond
	r := sp.Run(context.Background(), tg)
	expectResult(t, r, L4Timeout, 0, "")
	if r.Duration < 250 {
		t.Fatalf("the check gave up after %dms, before inter", r.Duration)
	}
	// With timeout check set, connecting is bounded by timeout connect.
	tg.Inter, tg.Connect, tg.Check = 5*time.Second, 200*time.Millisecond, time.Second
	r = sp.Run(context.Background(), tg)
	expectResult(t, r, L4Timeout, 0, "")
	if r.Duration >= 1000 {
		t.Fatalf("connect took %dms, timeout connect is 200ms", r.Duration)
	}
}

func TestTCPCheckScript(t *testing.T) {
	redisLike := server(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			switch strings.TrimSpace(l) {
			case "PING":
				c.Write([]byte("+PONG\r\n"))
			case "INFO":
				c.Write([]byte("role:slave\r\n"))
			}
		}
	})
	silent := server(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	closer := server(t, func(c net.Conn) {
		c.Read(make([]byte, 64))
		c.Write([]byte("-ERR nope\r\n"))
	})
	resetter := server(t, func(c net.Conn) {
		c.(*net.TCPConn).SetLinger(0)
		time.Sleep(20 * time.Millisecond)
	})
	ping := lines("tcp-check", `send PING\r\n`, "expect string +PONG")
	ping[0].Args = []string{"PING\r\n"}
	sp := build(t, Rules{Option: "tcp-check", Lines: ping})
	expectResult(t, sp.Run(context.Background(), target(redisLike)), L7OK, 0, "(tcp-check)")
	expectResult(t, sp.Run(context.Background(), target(closer)), L7Rsp, 0, "TCPCHK did not match content '+PONG' at step 2")
	expectResult(t, sp.Run(context.Background(), target(resetter)), SockErr, 0, "Connection reset by peer at step 2 of tcp-check (expect string '+PONG')")
	empty := server(t, func(c net.Conn) { c.Read(make([]byte, 64)) })
	expectResult(t, sp.Run(context.Background(), target(empty)), L7Rsp, 0, "TCPCHK got an empty response at step 2")
	tg := target(silent)
	tg.Inter = 200 * time.Millisecond
	expectResult(t, sp.Run(context.Background(), tg), L7Timeout, 0, " at step 2 of tcp-check (expect string '+PONG')")
	expectResult(t, sp.Run(context.Background(), target(closedPort(t))), L4Con, 0, "Connection refused at initial connection step of tcp-check")

	// A negated expect, a comment, and an explicit connect with a port.
	host := redisLike.Addr()
	ls := []Line{
		{Family: "tcp-check", Action: "connect", Args: []string{"port", itoa(int(redisLike.Port()))}},
		{Family: "tcp-check", Action: "send", Args: []string{"INFO\r\n"}},
		{Family: "tcp-check", Action: "expect", Args: []string{"comment", "must be master", "!", "string", "role:slave"}},
	}
	sp = build(t, Rules{Option: "tcp-check", Lines: ls})
	expectResult(t, sp.Run(context.Background(), target(netip.AddrPortFrom(host, 1))), L7Rsp, 0,
		"TCPCHK matched unwanted content 'role:slave' at step 3 comment: must be master")
	// The last rule decides a passing script's result: a connect gives
	// Layer4 with "(tcp-check)", a send Layer7.
	rp := itoa(int(redisLike.Port()))
	tail := []Line{
		{Family: "tcp-check", Action: "comment", Args: []string{"ping"}},
		{Family: "tcp-check", Action: "connect", Args: []string{"port", rp}},
		{Family: "tcp-check", Action: "send", Args: []string{"PING\r\n"}},
		{Family: "tcp-check", Action: "expect", Args: []string{"string", "+PONG"}},
		{Family: "tcp-check", Action: "connect", Args: []string{"port", rp}},
	}
	// A leading comment does not bring back the implicit connect (to
	// the closed server port here).
	dead := closedPort(t)
	expectResult(t, build(t, Rules{Option: "tcp-check", Lines: tail}).Run(context.Background(), target(dead)), L4OK, 0, "(tcp-check)")
	expectResult(t, build(t, Rules{Option: "tcp-check", Lines: tail[:3]}).Run(context.Background(), target(dead)), L7OK, 0, "(tcp-check)")

	// Options may follow the pattern too, as in HAProxy.
	ls[2].Args = []string{"!", "string", "role:slave", "comment", "after the pattern"}
	sp = build(t, Rules{Option: "tcp-check", Lines: ls})
	expectResult(t, sp.Run(context.Background(), target(netip.AddrPortFrom(host, 1))), L7Rsp, 0,
		"TCPCHK matched unwanted content 'role:slave' at step 3 comment: after the pattern")
	if err := ParseLine("tcp-check", "expect", []string{"string", "a", "string", "b"}); err == nil {
		t.Error("two patterns in one expect were accepted")
	}
	ls[0].Args = []string{"port", itoa(int(closedPort(t).Port()))}
	sp = build(t, Rules{Option: "tcp-check", Lines: ls})
	r := sp.Run(context.Background(), target(redisLike))
	if r.Status != L4Con || !strings.HasPrefix(r.Info, "Connection refused at step 1 of tcp-check (connect port ") {
		t.Fatalf("refused explicit connect: %s %q", r.Status, r.Info)
	}
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n)) }

func fmtInt(n int) string {
	var b [20]byte
	i := len(b)
	for n >= 10 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	b[i] = byte('0' + n)
	return string(b[i:])
}

func TestTCPCheckBinaryAndRegex(t *testing.T) {
	// The server answers and closes: a mismatch is final at once (on a
	// connection kept open, the check would wait for more until timeout).
	srv := server(t, func(c net.Conn) {
		c.Read(make([]byte, 64))
		c.Write([]byte("\x01\x02hello 42\r\n"))
	})
	cases := []struct {
		expect []string
		st     Status
		info   string
	}{
		{[]string{"binary", "0102"}, L7OK, "(tcp-check)"},
		{[]string{"binary", "0303"}, L7Rsp, "TCPCHK did not match content (binary) at step 2"},
		{[]string{"rstring", "hello [0-9]+"}, L7OK, "(tcp-check)"},
		{[]string{"rbinary", "^0102"}, L7OK, "(tcp-check)"},
		{[]string{"min-recv", "3", "rstring", "^bye"}, L7Rsp, "TCPCHK did not match content (regex) at step 2"},
		{[]string{"error-status", "L7STS", "string", "nope"}, L7Sts, "TCPCHK did not match content 'nope' at step 2"},
	}
	for _, c := range cases {
		sp := build(t, Rules{Option: "tcp-check", Lines: []Line{
			{Family: "tcp-check", Action: "send-binary", Args: []string{"0a"}},
			{Family: "tcp-check", Action: "expect", Args: c.expect},
		}})
		tg := target(srv)
		tg.Inter = 500 * time.Millisecond
		r := sp.Run(context.Background(), tg)
		if c.st == L7Rsp && strings.Contains(c.info, "regex") {
			// min-recv makes the mismatch final without waiting.
			if r.Duration > 400 {
				t.Errorf("%v waited %dms", c.expect, r.Duration)
			}
		}
		if r.Status != c.st || r.Info != c.info {
			t.Errorf("%v: got %s %q, want %s %q", c.expect, r.Status, r.Info, c.st, c.info)
		}
	}
}

func TestSendProxyOnChecks(t *testing.T) {
	got := make(chan []byte, 2)
	srv := server(t, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(time.Second))
		b := make([]byte, 128)
		n, _ := io.ReadAtLeast(c, b, 16)
		got <- b[:n]
	})
	sp := build(t, Rules{})
	tg := target(srv)
	tg.Proxy = 2
	expectResult(t, sp.Run(context.Background(), tg), L4OK, 0, "")
	want := []byte("\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00")
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("v2 check header %x, want LOCAL %x", b, want)
	}
	tg.Proxy = 1
	sp.Run(context.Background(), tg)
	if b := <-got; !bytes.HasPrefix(b, []byte("PROXY TCP4 127.0.0.1 127.0.0.1 ")) || !bytes.HasSuffix(b, []byte(" "+itoa(int(srv.Port()))+"\r\n")) {
		t.Fatalf("v1 check header %q", b)
	}
}

func TestHTTPCheck(t *testing.T) {
	var status atomic.Int64
	status.Store(200)
	var lastReq atomic.Value
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lastReq.Store(r.Method + " " + r.RequestURI + " " + r.Proto + " host=" + r.Host)
		w.Header().Set("X-Role", "primary, ready")
		w.WriteHeader(int(status.Load()))
		w.Write([]byte("all good"))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	tg := target(ln.Addr().(*net.TCPAddr).AddrPort())

	sp := build(t, Rules{Option: "httpchk"})
	expectResult(t, sp.Run(context.Background(), tg), L7OK, 200, "")
	if r := lastReq.Load(); r != "OPTIONS / HTTP/1.0 host=" {
		t.Fatalf("default request: %v", r)
	}
	status.Store(503)
	expectResult(t, sp.Run(context.Background(), tg), L7Sts, 503, "Service Unavailable")
	status.Store(301)
	expectResult(t, sp.Run(context.Background(), tg), L7OK, 301, "")

	sp = build(t, Rules{Option: "httpchk", Args: []string{"GET", "/health", "HTTP/1.1\r\nHost: app.local"}})
	status.Store(200)
	expectResult(t, sp.Run(context.Background(), tg), L7OK, 200, "")
	if r := lastReq.Load(); r != "GET /health HTTP/1.1 host=app.local" {
		t.Fatalf("request with glued headers: %v", r)
	}

	cases := []struct {
		expect []string
		st     Status
		info   string
	}{
		{[]string{"status", "200-299"}, L7OK, ""},
		{[]string{"status", "201,202"}, L7Sts, "OK"},
		{[]string{"comment", "need201", "status", "201"}, L7Sts, "OK comment: need201"},
		{[]string{"rstatus", "^2"}, L7OK, ""},
		{[]string{"string", "good"}, L7OK, ""},
		{[]string{"string", "bad"}, L7Rsp, "HTTP content check did not match"},
		{[]string{"!", "string", "good"}, L7Rsp, "HTTP check matched unwanted content"},
		{[]string{"hdr", "name", "x-role", "value", "ready"}, L7OK, ""},
		{[]string{"hdr", "name", "x-role", "value", "-m", "beg", "prim"}, L7OK, ""},
		{[]string{"hdr", "name", "x-other"}, L7Rsp, "HTTP header did not match"},
	}
	for _, c := range cases {
		sp := build(t, Rules{Option: "httpchk", Lines: []Line{
			{Family: "http-check", Action: "send", Args: []string{"meth", "GET", "uri", "/x", "ver", "HTTP/1.1", "hdr", "Host", "h"}},
			{Family: "http-check", Action: "expect", Args: c.expect},
		}})
		r := sp.Run(context.Background(), tg)
		if r.Status != c.st || r.Info != c.info || r.Code != 200 {
			t.Errorf("expect %v: got %s %d %q, want %s 200 %q", c.expect, r.Status, r.Code, r.Info, c.st, c.info)
		}
	}
}

func TestProtocolChecks(t *testing.T) {
	pg := server(t, func(c net.Conn) {
		b := make([]byte, 256)
		n, _ := c.Read(b)
		if n < 8 || !bytes.Contains(b[:n], []byte("user\x00alice\x00")) {
			c.Write([]byte("E\x00\x00\x00\x20SFATAL\x00Mbad startup\x00\x00"))
			return
		}
		c.Write([]byte("R\x00\x00\x00\x0c\x00\x00\x00\x05salt"))
		io.Copy(io.Discard, c)
	})
	sp := build(t, Rules{Option: "pgsql-check", Args: []string{"user", "alice"}})
	expectResult(t, sp.Run(context.Background(), target(pg)), L7OK, 0, "PostgreSQL server is ok")
	sp = build(t, Rules{Option: "pgsql-check", Args: []string{"user", "bob"}})
	expectResult(t, sp.Run(context.Background(), target(pg)), L7Rsp, 0, "FATAL")

	redis := server(t, func(c net.Conn) {
		b := make([]byte, 64)
		n, _ := c.Read(b)
		if string(b[:n]) == "*1\r\n$4\r\nPING\r\n" {
			c.Write([]byte("+PONG\r\n"))
		} else {
			c.Write([]byte("-ERR unexpected\r\n"))
		}
		io.Copy(io.Discard, c)
	})
	sp = build(t, Rules{Option: "redis-check"})
	expectResult(t, sp.Run(context.Background(), target(redis)), L7OK, 0, "Redis server is ok")

	smtp := server(t, func(c net.Conn) {
		c.Write([]byte("220 mail ESMTP ready\r\n"))
		br := bufio.NewReader(c)
		l, _ := br.ReadString('\n')
		if !strings.HasPrefix(l, "EHLO example.org") {
			c.Write([]byte("502 what\r\n"))
			return
		}
		c.Write([]byte("250-mail greets example.org\r\n250 SIZE 1000\r\n"))
		if l, _ = br.ReadString('\n'); l == "QUIT\r\n" {
			c.Write([]byte("221 bye\r\n"))
		}
		io.Copy(io.Discard, br)
	})
	sp = build(t, Rules{Option: "smtpchk", Args: []string{"EHLO", "example.org"}})
	expectResult(t, sp.Run(context.Background(), target(smtp)), L7OK, 221, "bye")
	sp = build(t, Rules{Option: "smtpchk"})
	expectResult(t, sp.Run(context.Background(), target(smtp)), L7Sts, 502, "what")
	banner := server(t, reply("220-first line\r\n220 second\r\n", false))
	expectResult(t, sp.Run(context.Background(), target(banner)), L7Rsp, 0, "220-first line")

	mysql := server(t, func(c net.Conn) {
		hs := append([]byte{10}, "8.0.99-test\x00rest"...)
		c.Write(append([]byte{byte(len(hs)), 0, 0, 0}, hs...))
		io.Copy(io.Discard, c)
	})
	sp = build(t, Rules{Option: "mysql-check"})
	r := sp.Run(context.Background(), target(mysql))
	// HAProxy reports the version first, then passes again with no info.
	expectResult(t, r, L7OK, 0, "")
	if r.First == nil || r.First.Info != "8.0.99-test" || r.First.Status != L7OK {
		t.Errorf("mysql-check's first report: %+v", r.First)
	}
	// With a user, the login goes out before the greeting comes: this
	// server only greets once it has it.
	mysqlUser := server(t, func(c net.Conn) {
		b := make([]byte, 256)
		n, _ := io.ReadAtLeast(c, b, 4)
		if n < 4 || !bytes.Contains(b[:n], []byte("haproxy\x00")) {
			return
		}
		hs := append([]byte{10}, "8.0.99-test\x00rest"...)
		c.Write(append(append([]byte{byte(len(hs)), 0, 0, 0}, hs...), 7, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0))
		io.Copy(io.Discard, c)
	})
	r = build(t, Rules{Option: "mysql-check", Args: []string{"user", "haproxy"}}).Run(context.Background(), target(mysqlUser))
	expectResult(t, r, L7OK, 0, "")
	if r.First == nil || r.First.Info != "8.0.99-test" {
		t.Errorf("mysql-check user's first report: %+v", r.First)
	}
	mysqlErr := server(t, func(c net.Conn) {
		e := append([]byte{0xff, 0x15, 0x04}, "#28000Access denied"...)
		c.Write(append([]byte{byte(len(e)), 0, 0, 0}, e...))
	})
	expectResult(t, sp.Run(context.Background(), target(mysqlErr)), L7Sts, 1045, "#28000Access denied")

	ldapBad := server(t, reply("\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x31\x04\x00\x04\x00", true))
	expectResult(t, build(t, Rules{Option: "ldap-check"}).Run(context.Background(), target(ldapBad)), L7Sts, 49,
		"See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9")
	ldap := server(t, reply("\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00", true))
	sp = build(t, Rules{Option: "ldap-check"})
	r = sp.Run(context.Background(), target(ldap))
	expectResult(t, r, L7OK, 0, "")
	if r.First == nil || r.First.Info != "Success" {
		t.Errorf("ldap-check's first report: %+v", r.First)
	}

	// ssl-hello-chk against a real TLS server: any handshake or alert
	// record passes; a plain-text server does not.
	cert := selfSigned(t)
	tl, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	sp = build(t, Rules{Option: "ssl-hello-chk"})
	expectResult(t, sp.Run(context.Background(), target(tl.Addr().(*net.TCPAddr).AddrPort())), L6OK, 0, "")
	expectResult(t, sp.Run(context.Background(), target(smtp)), L6Rsp, 0, "")
}

func selfSigned(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "check.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestSchedulerSpreadsAndStops(t *testing.T) {
	s := NewScheduler()
	var runs atomic.Int64
	started := make(chan time.Time, 100)
	for i := 0; i < 5; i++ {
		task := &Task{Run: func(ctx context.Context) time.Duration {
			started <- time.Now()
			runs.Add(1)
			<-ctx.Done() // a check in progress ends when the scheduler stops
			return time.Second
		}}
		s.Add(task, time.Duration(i)*20*time.Millisecond)
	}
	s.Start()
	first := <-started
	var last time.Time
	for i := 1; i < 5; i++ {
		last = <-started
	}
	if last.Sub(first) < 60*time.Millisecond {
		t.Fatalf("checks were not spread: %v apart", last.Sub(first))
	}
	s.Stop()
	if runs.Load() != 5 {
		t.Fatalf("%d runs", runs.Load())
	}
}
