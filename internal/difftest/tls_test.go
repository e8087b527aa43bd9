package difftest

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// tlsConfig terminates TLS on two binds of one frontend (the second
// named), logs each request with the TLS fields and each failed handshake
// with HAProxy's connection error line, and answers from a rule so that
// no server is involved.
const tlsConfig = `global
 log stdout format raw local0 info
defaults
 mode http
 log global
 option dontlognull
 timeout connect 1s
 timeout client 600ms
 timeout server 1s
frontend fe
 log-format "%ft %sslv %ST %{+Q}r sni=%[ssl_fc_sni] alpn=%[ssl_fc_alpn] fc=%[ssl_fc] %[ssl_fc_has_sni] %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed]"
 bind %BIND1 ssl crt %CRT1 crt %CRT2 alpn http/1.1
 bind %BIND2 ssl crt %CRT1 name named ssl-min-ver TLSv1.3
 bind %BIND3 ssl crt %CRT1 verify required ca-file %CA
 http-request return status 200 if { path /ok }
 http-request redirect scheme http code 302 if { ssl_fc } { path /down }
 http-request deny
`

type tlsProxy struct {
	name                string
	addr1, addr2, addr3 string
	out                 *testkit.SyncBuffer
}

func startTLSProxy(t *testing.T, name, bin string, f *tlsFiles) *tlsProxy {
	t.Helper()
	p := &tlsProxy{name: name, addr1: freeAddr(t), addr2: freeAddr(t), addr3: freeAddr(t), out: &testkit.SyncBuffer{}}
	cfg := strings.NewReplacer("%BIND1", p.addr1, "%BIND2", p.addr2, "%BIND3", p.addr3,
		"%CRT1", f.crt1, "%CRT2", f.crt2, "%CA", f.ca).Replace(tlsConfig)
	path := filepath.Join(t.TempDir(), name+".cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for _, a := range []string{p.addr1, p.addr2} { // addr3 wants a client certificate
		for {
			// A probe that completes a handshake is not logged.
			c, err := tls.Dial("tcp", a, &tls.Config{InsecureSkipVerify: true})
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never served TLS on %s: %v\n%s", name, a, err, p.out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return p
}

// tlsFiles are the certificates: two server ones and the CA that signed
// them and the client certificates (ca), and a client certificate from
// that CA (good) and from another (stranger).
type tlsFiles struct {
	crt1, crt2, ca string
	good, stranger tls.Certificate
}

func clientCert(c *testkit.Cert) tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.Leaf.Raw}, PrivateKey: c.Key, Leaf: c.Leaf}
}

// tlsAct is one client behaviour, played against both proxies.
type tlsAct struct {
	name string
	do   func(p *tlsProxy, f *tlsFiles) string // what the client saw
}

func tlsRequest(addr string, cfg *tls.Config, req string) string {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return "handshake refused"
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, req)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "no response: " + err.Error()
	}
	res.Body.Close()
	return fmt.Sprintf("%d %s %s", res.StatusCode, res.Proto, res.Header.Get("Location"))
}

var tlsActs = []tlsAct{
	{"request with SNI and ALPN", func(p *tlsProxy, _ *tlsFiles) string {
		return tlsRequest(p.addr1, &tls.Config{InsecureSkipVerify: true, ServerName: "shop.example.test", NextProtos: []string{"http/1.1"}},
			"GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
	}},
	{"request without SNI, denied", func(p *tlsProxy, _ *tlsFiles) string {
		return tlsRequest(p.addr1, &tls.Config{InsecureSkipVerify: true}, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
	}},
	{"redirect under ssl_fc", func(p *tlsProxy, _ *tlsFiles) string {
		return tlsRequest(p.addr2, &tls.Config{InsecureSkipVerify: true, ServerName: "www.example.test"}, "GET /down HTTP/1.1\r\nHost: a\r\n\r\n")
	}},
	{"clear text on a TLS bind", func(p *tlsProxy, _ *tlsFiles) string {
		return rawExchange(p.addr1, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", nil)
	}},
	{"clear text on the named bind", func(p *tlsProxy, _ *tlsFiles) string {
		return rawExchange(p.addr2, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", nil)
	}},
	{"TLS 1.2 only on a TLS 1.3 bind", func(p *tlsProxy, _ *tlsFiles) string {
		return tlsRequest(p.addr2, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
	}},
	{"connect and close (dontlognull)", func(p *tlsProxy, _ *tlsFiles) string {
		return rawExchange(p.addr1, "", nil)
	}},
	// A reset before any byte is not compared: haproxy logs it as a
	// handshake failure or not at all, depending on when it reads.
	{"reset after a partial hello", func(p *tlsProxy, _ *tlsFiles) string {
		return rawExchange(p.addr1, "", func(c net.Conn) {
			c.Write([]byte{0x16, 3, 1, 0, 0x50, 1, 0})
			time.Sleep(100 * time.Millisecond)
			c.(*net.TCPConn).SetLinger(0)
		})
	}},
	{"client certificate required, none given", func(p *tlsProxy, _ *tlsFiles) string {
		return tlsRequest(p.addr3, &tls.Config{InsecureSkipVerify: true}, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
	}},
	{"client certificate from another CA", func(p *tlsProxy, f *tlsFiles) string {
		return tlsRequest(p.addr3, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{f.stranger}}, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
	}},
	{"client certificate trusted", func(p *tlsProxy, f *tlsFiles) string {
		return tlsRequest(p.addr3, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{f.good}}, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
	}},
	{"silent client, timeout client", func(p *tlsProxy, _ *tlsFiles) string {
		return rawExchange(p.addr2, "", func(c net.Conn) { time.Sleep(900 * time.Millisecond) })
	}},
}

// rawExchange connects, optionally waits (before), sends msg, and returns
// what came back before the proxy closed.
func rawExchange(addr, msg string, before func(net.Conn)) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return "connect: " + err.Error()
	}
	defer c.Close()
	if before != nil {
		before(c)
	}
	if msg == "" {
		return "closed by the client"
	}
	io.WriteString(c, msg)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	b, _ := io.ReadAll(c)
	if len(b) > 0 && b[0] == 0x15 {
		return "TLS alert" // a plain text request gets an alert record back
	}
	return fmt.Sprintf("%d bytes", len(b))
}

var (
	tlsLogDate = regexp.MustCompile(`\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\]`)
	tlsLogPort = regexp.MustCompile(`127\.0\.0\.1:\d+`)
)

// TestTLSDifferential plays client behaviours against haproxy and Sluice
// with the same configuration and certificates: each must see the same
// answers, and each proxy must write the same log lines (dates and ports
// aside): request lines with %ft's '~' and the TLS fetches, and
// HAProxy's connection error lines for failed handshakes, with
// dontlognull hiding a connection that sent nothing.
func TestTLSDifferential(t *testing.T) {
	hap := haproxyPath()
	if hap == "" {
		t.Skip("haproxy not installed")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	dir := t.TempDir()
	ca := testkit.GenCert(t, testkit.CertOptions{CN: "Sluice test CA", IsCA: true})
	other := testkit.GenCert(t, testkit.CertOptions{CN: "Another CA", IsCA: true})
	f := &tlsFiles{
		crt1:     testkit.WriteFile(t, dir, "www.pem", testkit.GenCert(t, testkit.CertOptions{CN: "www.example.test", DNS: []string{"www.example.test"}, CA: ca}).PEM()),
		crt2:     testkit.WriteFile(t, dir, "shop.pem", testkit.GenCert(t, testkit.CertOptions{CN: "shop.example.test", DNS: []string{"shop.example.test"}, CA: ca}).PEM()),
		ca:       testkit.WriteFile(t, dir, "ca.pem", ca.CertPEM),
		good:     clientCert(testkit.GenCert(t, testkit.CertOptions{CN: "client", ClientAuth: true, CA: ca})),
		stranger: clientCert(testkit.GenCert(t, testkit.CertOptions{CN: "stranger", ClientAuth: true, CA: other})),
	}
	proxies := []*tlsProxy{startTLSProxy(t, "haproxy", hap, f), startTLSProxy(t, "sluice", sluiceBin, f)}
	for _, a := range tlsActs {
		var seen [2]string
		var logs [2][]string
		for i, p := range proxies {
			before := len(p.out.String())
			seen[i] = a.do(p, f)
			time.Sleep(150 * time.Millisecond) // the line of a failed handshake follows the close
			logs[i] = normaliseTLSLog(p.out.String()[before:], p)
		}
		if seen[0] != seen[1] {
			t.Errorf("%s: the client saw %q through haproxy, %q through sluice", a.name, seen[0], seen[1])
		}
		if strings.Join(logs[0], "\n") != strings.Join(logs[1], "\n") {
			t.Errorf("%s: log lines differ\nhaproxy: %q\nsluice:  %q", a.name, logs[0], logs[1])
		} else if testing.Verbose() {
			t.Logf("%s: %q, logged %q", a.name, seen[0], logs[0])
		}
	}
}

func normaliseTLSLog(s string, p *tlsProxy) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l == "" || strings.HasPrefix(l, "[NOTICE]") || strings.HasPrefix(l, "[WARNING]") {
			continue
		}
		l = tlsLogDate.ReplaceAllString(l, "[date]")
		l = tlsLogPort.ReplaceAllString(l, "127.0.0.1:port")
		out = append(out, l)
	}
	return out
}
