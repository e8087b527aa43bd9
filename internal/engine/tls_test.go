package engine

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// tlsFixture is a CA and two server certificates signed by it, written
// as HAProxy crt files: the first (www.example.test) is the default.
type tlsFixture struct {
	dir       string
	pool      *x509.CertPool
	www, shop string // crt paths
}

func newTLSFixture(t *testing.T) *tlsFixture {
	t.Helper()
	ca := testkit.GenCert(t, testkit.CertOptions{CN: "Sluice test CA", IsCA: true})
	dir := t.TempDir()
	f := &tlsFixture{dir: dir, pool: x509.NewCertPool()}
	f.pool.AddCert(ca.Leaf)
	www := testkit.GenCert(t, testkit.CertOptions{CN: "www.example.test", DNS: []string{"www.example.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, CA: ca})
	shop := testkit.GenCert(t, testkit.CertOptions{CN: "shop.example.test", DNS: []string{"shop.example.test"}, CA: ca})
	f.www = testkit.WriteFile(t, dir, "www.pem", www.PEM())
	f.shop = testkit.WriteFile(t, dir, "shop.pem", shop.PEM())
	return f
}

func (f *tlsFixture) client(sni string) *tls.Config {
	return &tls.Config{RootCAs: f.pool, ServerName: sni}
}

// dialTLS opens a TLS connection and fails the test if the handshake does.
func dialTLS(t *testing.T, addr string, cfg *tls.Config) *tls.Conn {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS to %s: %v", addr, err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// A frontend with a TLS bind and a plain one: the TLS one serves HTTP
// over TLS with the certificate its SNI names (the first one loaded
// otherwise), ssl_fc tells them apart in rules, and the plain one sends
// clients to https with `redirect scheme https unless { ssl_fc }`.
func TestTLSTerminationHTTP(t *testing.T) {
	f := newTLSFixture(t)
	be := startHTTPBackend(t, "a")
	plain, secure := freeAddr(t), freeAddr(t)
	startCfg(t, httpDefaults+fmt.Sprintf(`frontend fe
 bind %s
 bind %s ssl crt %s crt %s alpn http/1.1
 http-request redirect scheme https code 301 if { path /login } !{ ssl_fc }
 http-request redirect location "/info?sni=%%[ssl_fc_sni]&proto=%%[ssl_fc_protocol]&alpn=%%[ssl_fc_alpn]" if { path /tls }
 http-request set-header X-Forwarded-Proto https if { ssl_fc }
 default_backend be
backend be
 server s1 %s
`, plain, secure, f.www, f.shop, be.hostPort()))

	// SNI picks the certificate; no SNI (dialing an IP address sends
	// none) gets the first one loaded.
	for sni, cn := range map[string]string{"shop.example.test": "shop.example.test", "www.example.test": "www.example.test", "": "www.example.test"} {
		cfg := f.client(sni)
		if sni == "" {
			cfg = &tls.Config{InsecureSkipVerify: true}
		}
		c := dialTLS(t, secure, cfg)
		if got := c.ConnectionState().PeerCertificates[0].Subject.CommonName; got != cn {
			t.Errorf("SNI %q: certificate %q, want %q", sni, got, cn)
		}
		c.Close()
	}

	// HTTP over TLS, keep-alive: two requests on one TLS connection.
	alpn := f.client("shop.example.test")
	alpn.NextProtos = []string{"h2", "http/1.1"}
	c := dialTLS(t, secure, alpn)
	defer c.Close()
	if got := c.ConnectionState().NegotiatedProtocol; got != "http/1.1" {
		t.Errorf("ALPN: %q, want http/1.1", got)
	}
	br := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		io.WriteString(c, "GET /hello HTTP/1.1\r\nHost: shop.example.test\r\n\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d over TLS: %v", i, err)
		}
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || string(body) != "a GET /hello" {
			t.Fatalf("request %d over TLS: %d %q", i, res.StatusCode, body)
		}
	}
	io.WriteString(c, "GET /tls HTTP/1.1\r\nHost: shop.example.test\r\n\r\n")
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if want := "/info?sni=shop.example.test&proto=TLSv1.3&alpn=http/1.1"; res.Header.Get("Location") != want {
		t.Errorf("TLS fetches: %q, want %q", res.Header.Get("Location"), want)
	}

	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: f.client("www.example.test")}}
	defer hc.CloseIdleConnections()

	// The plain bind redirects to https; the TLS bind does not.
	out := rawHTTP(t, plain, "GET /login HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 301 Moved Permanently\r\n") || !strings.Contains(out, "\r\nlocation: https://www.example.test/login\r\n") {
		t.Errorf("plain bind: %q, want a 301 to https://www.example.test/login", out)
	}
	req, _ := http.NewRequest("GET", "https://"+secure+"/login", nil)
	req.Host = "www.example.test"
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("TLS bind: /login answered %d, want 200 from the server", res.StatusCode)
	}
}

// X-Forwarded-Proto set under ssl_fc reaches the server from the TLS bind
// only: the rule sees the TLS session of its own connection.
func TestTLSRulesSeeSession(t *testing.T) {
	f := newTLSFixture(t)
	seen := make(chan string, 4)
	srv := startRawHTTPServer(t, func(req *http.Request) { seen <- req.Header.Get("X-Forwarded-Proto") })
	plain, secure := freeAddr(t), freeAddr(t)
	startCfg(t, httpDefaults+fmt.Sprintf(`frontend fe
 bind %s
 bind %s ssl crt %s
 http-request set-header X-Forwarded-Proto https if { ssl_fc }
 http-request set-header X-Forwarded-Proto http unless { ssl_fc }
 default_backend be
backend be
 server s1 %s
`, plain, secure, f.www, srv))
	c := dialTLS(t, secure, f.client("www.example.test"))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	io.ReadAll(c)
	c.Close()
	rawHTTP(t, plain, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	got := []string{<-seen, <-seen}
	if got[0] != "https" || got[1] != "http" {
		t.Fatalf("X-Forwarded-Proto seen by the server: %q, want [https http]", got)
	}
}

// startRawHTTPServer answers every request with a small 200 after
// passing it to fn, on a loopback port it returns.
func startRawHTTPServer(t *testing.T, fn func(*http.Request)) string {
	t.Helper()
	return testkit.Serve(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			fn(req)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
}

// In mode tcp an ssl bind terminates TLS and relays clear text: a large
// upload and its echo arrive whole, and a half-close goes through as
// close_notify then FIN.
func TestTLSTerminationTCP(t *testing.T) {
	f := newTLSFixture(t)
	echo := startEchoServer(t)
	p := freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf("listen l\n bind %s ssl crt %s\n server s1 %s\n", p, f.www, echo))
	c := dialTLS(t, p, f.client("www.example.test"))
	defer c.Close()
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	go func() {
		c.Write(data)
		c.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the echo: %v (after %d bytes)", err, len(got))
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("echo through TLS: %d bytes, want %d identical ones", len(got), len(data))
	}
}

// startEchoServer echoes each connection until its EOF, then closes it.
func startEchoServer(t *testing.T) string {
	t.Helper()
	return testkit.Serve(t, func(c net.Conn) {
		io.Copy(c, c)
		c.(*net.TCPConn).CloseWrite()
	})
}

// Content rules on an ssl bind read clear text: a payload ACL matches the
// decrypted bytes, and what it read still reaches the server.
func TestTLSContentInspection(t *testing.T) {
	f := newTLSFixture(t)
	echo := startEchoServer(t)
	p := freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf(`listen l
 bind %s ssl crt %s
 tcp-request inspect-delay 2s
 tcp-request content reject if { req.payload(0,4) -m str EVIL }
 tcp-request content accept if { req.len ge 4 }
 server s1 %s
`, p, f.www, echo))
	talkTLS := func(msg string) (string, error) {
		c := dialTLS(t, p, f.client("www.example.test"))
		defer c.Close()
		io.WriteString(c, msg)
		c.CloseWrite()
		b, err := io.ReadAll(c)
		return string(b), err
	}
	if got, err := talkTLS("GOOD data"); got != "GOOD data" {
		t.Errorf("accepted stream: echo %q (%v), want the whole message", got, err)
	}
	if got, _ := talkTLS("EVIL data"); got != "" {
		t.Errorf("rejected stream: echo %q, want nothing", got)
	}
}

// A TLS client gets the same Expect: 100-continue handling as a plain
// one: a server's early answer reaches it before it sent its body.
func TestTLSExpectContinue(t *testing.T) {
	f := newTLSFixture(t)
	p := freeAddr(t)
	startCfg(t, httpDefaults+fmt.Sprintf("frontend fe\n bind %s ssl crt %s\n default_backend be\nbackend be\n server s1 %s\n", p, f.www, startExpectServer(t)))
	expectContinueCases(t, func() net.Conn { return dialTLS(t, p, f.client("www.example.test")) })
}

// A WebSocket upgrade over TLS becomes a tunnel that still speaks TLS to
// the client.
func TestTLSUpgradeTunnel(t *testing.T) {
	f := newTLSFixture(t)
	srv := startUpgradeServer(t)
	p := freeAddr(t)
	startCfg(t, httpDefaults+fmt.Sprintf("frontend fe\n bind %s ssl crt %s\n default_backend be\nbackend be\n timeout tunnel 5s\n server s1 %s\n", p, f.www, srv))
	c := dialTLS(t, p, f.client("www.example.test"))
	defer c.Close()
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nhello")
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	buf := make([]byte, 5)
	for _, msg := range []string{"hello", "again"} {
		if msg != "hello" {
			io.WriteString(c, msg)
		}
		if _, err := io.ReadFull(r, buf); err != nil || string(buf) != msg {
			t.Fatalf("echo through the TLS tunnel: %q %v, want %q", buf, err, msg)
		}
	}
}

// Logs: an HTTP line names the frontend with '~' and gives %sslv and
// %sslc; a failed handshake gets HAProxy's connection error line naming
// the listener by number or by its `name`; dontlognull hides a
// connection that sent nothing but not a failed handshake.
func TestTLSLogs(t *testing.T) {
	f := newTLSFixture(t)
	be := startHTTPBackend(t, "a")
	rx := startSyslog(t)
	p1, p2 := freeAddr(t), freeAddr(t)
	startLogged(t, rx, httpDefaults+fmt.Sprintf(` log global
 option dontlognull
frontend fe
 log-format "%%ft %%sslv %%sslc %%ST"
 bind %s ssl crt %s
 bind %s ssl crt %s name secure
 default_backend be
backend be
 server s1 %s
`, p1, f.www, p2, f.www, be.hostPort()))
	c := dialTLS(t, p1, f.client("www.example.test"))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	io.ReadAll(c)
	c.Close()
	if l := rx.next(t); !regexp.MustCompile(`: fe~ TLSv1\.3 TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256) 200\n?$`).MatchString(l) {
		t.Errorf("HTTP over TLS: %q, want \"fe~ TLSv1.3 <TLS 1.3 suite> 200\"", l)
	}
	// Clear text on a TLS port: a handshake failure, logged.
	rawHTTP(t, p1, "GET / HTTP/1.1\r\n\r\n")
	if l := rx.next(t); !strings.HasSuffix(strings.TrimSpace(l), "] fe/1: SSL handshake failure") {
		t.Errorf("clear text on the TLS bind: %q, want HAProxy's \"fe/1: SSL handshake failure\"", l)
	}
	rawHTTP(t, p2, "GET / HTTP/1.1\r\n\r\n")
	if l := rx.next(t); !strings.HasSuffix(strings.TrimSpace(l), "] fe/secure: SSL handshake failure") {
		t.Errorf("named bind: %q, want \"fe/secure: SSL handshake failure\"", l)
	}
	// A client that connects and leaves: dontlognull hides it.
	nc, err := net.Dial("tcp", p2)
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	rx.none(t, 300*time.Millisecond)
}
