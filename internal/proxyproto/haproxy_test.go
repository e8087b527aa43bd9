//go:build unix

package proxyproto

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// seen is what a backend got on one accepted connection.
type seen struct {
	raw           []byte // the header's bytes
	h             Header
	local, remote netip.AddrPort
	payload       string
	err           error
}

// backend accepts connections on addr, reads a PROXY header from each
// with ReadFrom and, if payload > 0, that many bytes after it, and reports
// them. Reports that find the channel full are dropped (health checks keep
// coming). The accept loop ends with the test.
func backend(t *testing.T, addr string, payload int) (netip.AddrPort, <-chan seen) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan seen, 16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*net.TCPConn)
			var s seen
			s.local = tc.LocalAddr().(*net.TCPAddr).AddrPort()
			s.remote = tc.RemoteAddr().(*net.TCPAddr).AddrPort()
			buf := make([]byte, 1024)
			var n int
			s.h, n, s.err = ReadFrom(tc, time.Now().Add(5*time.Second), buf)
			s.raw = buf[:n]
			if s.err == nil && payload > 0 {
				p := make([]byte, payload)
				tc.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, s.err = io.ReadFull(tc, p)
				s.payload = string(p)
			}
			tc.Close()
			select {
			case ch <- s:
			default:
			}
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().(*net.TCPAddr).AddrPort(), ch
}

// freePort returns a port claimed for this test (testkit.FreePort) that
// host can bind on network right now.
func freePort(t *testing.T, network, host string) int {
	t.Helper()
	var err error
	for range 20 {
		p := testkit.FreePort(t)
		var ln net.Listener
		if ln, err = net.Listen(network, net.JoinHostPort(host, fmt.Sprint(p))); err == nil {
			ln.Close()
			return p
		}
	}
	t.Fatal(err)
	return 0
}

// startHAProxy runs haproxy in the foreground on cfg until the test ends and
// returns once ready, a port that accepts connections.
func startHAProxy(t *testing.T, bin, cfg string, ready int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("haproxy output:\n%s", out.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", ready)
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("haproxy exited: %v\n%s", err, out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy not listening on %s after 10s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHAProxySends compares, byte for byte, the headers Debian's haproxy
// 2.6 sends for send-proxy, send-proxy-v2 and their health checks with what
// AppendV1 and AppendV2 build for the same endpoints.
func TestHAProxySends(t *testing.T) {
	bin := testkit.HAProxyPath()
	if bin == "" {
		t.Skip("haproxy not installed (scripts/test.sh installs it)")
	}
	have6 := true
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		have6 = false
	} else {
		ln.Close()
	}

	type tcase struct {
		name     string
		bind     string // haproxy bind line argument
		dial     string // where the client connects
		server   string // send-proxy keyword
		be       netip.AddrPort
		ch       <-chan seen
		expected func(client, fe netip.AddrPort) []byte
	}
	v1 := func(c, f netip.AddrPort) []byte { return AppendV1(nil, c, f) }
	v2 := func(c, f netip.AddrPort) []byte { return AppendV2(nil, Proxy, c, f) }
	// An AF_INET6 listener sees an IPv4 client IPv4-mapped, and HAProxy
	// relays that view: TCP6 with ::ffff: addresses.
	mapped := func(enc func(c, f netip.AddrPort) []byte) func(c, f netip.AddrPort) []byte {
		return func(c, f netip.AddrPort) []byte {
			m := func(a netip.AddrPort) netip.AddrPort {
				return netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
			}
			return enc(m(c), m(f))
		}
	}
	var cases []*tcase
	add := func(name, host, server string, exp func(c, f netip.AddrPort) []byte, v4v6 bool) {
		network := "tcp4"
		if strings.Contains(host, ":") {
			network = "tcp6"
		}
		p := freePort(t, network, host)
		tc := &tcase{name: name, server: server, expected: exp}
		tc.bind = net.JoinHostPort(host, fmt.Sprint(p))
		tc.dial = tc.bind
		if v4v6 {
			tc.bind += " v4v6"
			tc.dial = fmt.Sprintf("127.0.0.1:%d", p)
		}
		tc.be, tc.ch = backend(t, "127.0.0.1:0", 5)
		cases = append(cases, tc)
	}
	add("v1 tcp4", "127.0.0.1", "send-proxy", v1, false)
	add("v2 tcp4", "127.0.0.1", "send-proxy-v2", v2, false)
	if have6 {
		add("v1 tcp6", "::1", "send-proxy", v1, false)
		add("v2 tcp6", "::1", "send-proxy-v2", v2, false)
		add("v1 v4v6", "::", "send-proxy", mapped(v1), true)
		add("v2 v4v6", "::", "send-proxy-v2", mapped(v2), true)
	}
	chk1, chk1ch := backend(t, "127.0.0.1:0", 0)
	chk2, chk2ch := backend(t, "127.0.0.1:0", 0)

	ready := freePort(t, "tcp4", "127.0.0.1")
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n")
	fmt.Fprintf(&cfg, "listen ready\n  bind 127.0.0.1:%d\n  server s 127.0.0.1:1\n", ready)
	for i, c := range cases {
		fmt.Fprintf(&cfg, "listen l%d\n  bind %s\n  server s %s %s\n", i, c.bind, c.be, c.server)
	}
	fmt.Fprintf(&cfg, "backend chk1\n  server s %s send-proxy check inter 100ms\n", chk1)
	fmt.Fprintf(&cfg, "backend chk2\n  server s %s send-proxy-v2 check inter 100ms\n", chk2)
	startHAProxy(t, bin, cfg.String(), ready)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", c.dial, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Write([]byte("hello"))
			client := conn.LocalAddr().(*net.TCPAddr).AddrPort()
			fe := conn.RemoteAddr().(*net.TCPAddr).AddrPort()
			var s seen
			select {
			case s = <-c.ch:
			case <-time.After(10 * time.Second):
				t.Fatal("backend got nothing from haproxy")
			}
			if s.err != nil {
				t.Fatalf("backend: %v (raw %q)", s.err, s.raw)
			}
			if want := c.expected(client, fe); !bytes.Equal(s.raw, want) {
				t.Errorf("haproxy sent\n %q\nwe build\n %q", s.raw, want)
			}
			if s.payload != "hello" {
				t.Errorf("payload after header = %q", s.payload)
			}
		})
	}
	// Health checks: v1 fills the line from the check's own socket, v2
	// sends LOCAL with no address and no TLV.
	checks := []struct {
		name string
		ch   <-chan seen
		want func(s seen) []byte
	}{
		{"check v1", chk1ch, func(s seen) []byte { return AppendV1(nil, s.remote, s.local) }},
		{"check v2", chk2ch, func(seen) []byte { return AppendV2(nil, Local, netip.AddrPort{}, netip.AddrPort{}) }},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			var s seen
			select {
			case s = <-c.ch:
			case <-time.After(10 * time.Second):
				t.Fatal("no health check reached the backend")
			}
			if s.err != nil {
				t.Fatalf("backend: %v (raw %q)", s.err, s.raw)
			}
			if want := c.want(s); !bytes.Equal(s.raw, want) {
				t.Errorf("haproxy check sent\n %q\nwe build\n %q", s.raw, want)
			}
		})
	}
}

// TestHAProxyAccepts feeds the same headers to haproxy's accept-proxy and
// to Parse. Where Sluice follows the spec rather than HAProxy 2.6, the
// case says why, and with a 2.6 binary the test checks they still differ.
func TestHAProxyAccepts(t *testing.T) {
	bin := testkit.HAProxyPath()
	if bin == "" {
		t.Skip("haproxy not installed (scripts/test.sh installs it)")
	}
	ver, _ := exec.Command(bin, "-v").Output()
	is26 := bytes.Contains(ver, []byte("version 2.6."))

	ip4 := "01020304 05060708 0457 0050"
	v2 := func(s string) []byte { return unhex(t, sigHex+s) }
	tests := []struct {
		name   string
		in     []byte
		differ string // why Sluice departs from HAProxy 2.6 here
	}{
		{"v1 tcp4", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\r\n"), ""},
		{"v1 tcp6", []byte("PROXY TCP6 ::1 2001:db8::2 1111 80\r\n"), ""},
		{"v1 tcp6 mapped", []byte("PROXY TCP6 ::ffff:1.2.3.4 2001:db8::2 1111 80\r\n"), ""},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\n"), ""},
		{"v1 tcp6 with ipv4", []byte("PROXY TCP6 1.2.3.4 2001:db8::2 1111 80\r\n"), ""},
		{"v1 tcp4 with ipv6", []byte("PROXY TCP4 ::1 5.6.7.8 1111 80\r\n"), ""},
		{"v1 LF only", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\n"), ""},
		{"v1 two spaces", []byte("PROXY  TCP4 1.2.3.4 5.6.7.8 1111 80\r\n"), ""},
		{"v1 leading zero addr", []byte("PROXY TCP4 01.2.3.4 5.6.7.8 1111 80\r\n"), "spec §2.1 forbids leading zeros"},
		{"v1 leading zero port", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 01111 80\r\n"), "spec §2.1 forbids leading zeros"},
		{"v1 port 65536", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 65536 80\r\n"), "HAProxy wraps it to 0"},
		{"v1 octet 256", []byte("PROXY TCP4 1.2.3.256 5.6.7.8 1111 80\r\n"), "HAProxy carries it into 1.2.4.0"},
		{"v1 empty port", []byte("PROXY TCP4 1.2.3.4 5.6.7.8  80\r\n"), "HAProxy reads it as port 0"},
		{"v1 unknown with text", []byte("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1111 80\r\n"), "spec §2.1: ignore what follows UNKNOWN"},
		{"v2 tcp4", v2("21 11 000c" + ip4), ""},
		{"v2 tcp6", AppendV2(nil, Proxy, ap("[2001:db8::1]:1"), ap("[::ffff:1.2.3.4]:443")), ""},
		{"v2 local", v2("20 00 0000"), ""},
		{"v2 local with block", v2("20 11 000f" + ip4 + "01ffff"), ""},
		{"v2 family 0x41", v2("21 41 000c" + ip4), ""},
		{"v2 transport 3", v2("21 13 000c" + ip4), ""},
		{"v2 command 2", v2("22 11 000c" + ip4), ""},
		{"v2 version 1", v2("11 11 000c" + ip4), ""},
		{"v2 len 11", v2("21 11 000b" + ip4[:len(ip4)-2]), ""},
		{"v2 noop tlv", v2("21 11 0011" + ip4 + "04 0002 6162"), ""},
		{"v2 tlv cut", v2("21 11 000e" + ip4 + "0400"), ""},
		{"v2 tlv overlong", v2("21 11 0011" + ip4 + "04 0005 6162"), ""},
		{"v2 crc32c good", AppendV2(nil, Proxy, ap("1.2.3.4:1111"), ap("5.6.7.8:80"), TLV{Type: TypeCRC32C}, TLV{TypeAuthority, []byte("example.com")}), ""},
		{"v2 crc32c bad", v2("21 11 0013" + ip4 + "03 0004 61626364"), ""},
		{"v2 crc32c 3 bytes", v2("21 11 0012" + ip4 + "03 0003 616263"), ""},
		{"v2 authority 255", v2("21 11 010e" + ip4 + "02 00ff" + strings.Repeat("61", 255)), ""},
		{"v2 authority 256", v2("21 11 010f" + ip4 + "02 0100" + strings.Repeat("61", 256)), ""},
		{"v2 unique id 128", v2("21 11 008f" + ip4 + "05 0080" + strings.Repeat("61", 128)), ""},
		{"v2 unique id 129", v2("21 11 0090" + ip4 + "05 0081" + strings.Repeat("61", 129)), ""},
		{"v2 proxy unspec", v2("21 00 0000"), "spec §2.2 lets the receiver use the real endpoints"},
		{"v2 proxy udp4", v2("21 12 000c" + ip4), "spec §2.2: fall back to UNSPEC"},
		{"v2 proxy unix", v2("21 31 00d8" + unixAddrs), "spec §2.2: fall back to UNSPEC"},
		{"http request", []byte("GET / HTTP/1.0\r\n\r\n"), ""},
	}

	port := freePort(t, "tcp4", "127.0.0.1")
	cfg := fmt.Sprintf(`defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:%d accept-proxy
  http-request return status 200 content-type text/plain lf-string "%%ci %%cp"
`, port)
	ready := freePort(t, "tcp4", "127.0.0.1")
	cfg += fmt.Sprintf("listen ready\n  mode tcp\n  bind 127.0.0.1:%d\n  server s 127.0.0.1:1\n", ready)
	startHAProxy(t, bin, cfg, ready)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// HAProxy's view: the client address it logs, or rejection.
			conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			local := conn.LocalAddr().(*net.TCPAddr).AddrPort()
			conn.Write(append(append([]byte(nil), tt.in...), "GET / HTTP/1.0\r\n\r\n"...))
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, _ := io.ReadAll(conn)
			var haSrc netip.AddrPort
			haOK := false
			if _, body, ok := bytes.Cut(resp, []byte("\r\n\r\n")); ok && bytes.HasPrefix(resp, []byte("HTTP/1.")) {
				a, p, _ := strings.Cut(string(body), " ")
				haSrc, err = netip.ParseAddrPort(net.JoinHostPort(a, p))
				if err != nil {
					t.Fatalf("haproxy body %q: %v", body, err)
				}
				haOK = true
			}

			h, _, perr := Parse(tt.in)
			ourOK := perr == nil
			if tt.differ != "" {
				if is26 && ourOK == haOK {
					t.Errorf("expected to differ from HAProxy 2.6 (%s), both accept=%v", tt.differ, ourOK)
				}
				return
			}
			if ourOK != haOK {
				t.Fatalf("haproxy accepts=%v (%q), Parse = %+v, %v", haOK, resp, h, perr)
			}
			if !ourOK {
				return
			}
			want := h.Src
			if h.Unknown {
				want = local
			}
			if haSrc != want {
				t.Errorf("haproxy sees client %v, Parse gives %v (unknown=%v)", haSrc, want, h.Unknown)
			}
		})
	}
}
