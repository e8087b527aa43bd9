package engine

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"sluice/internal/proxyproto"
)

// accept-proxy: the header's client address is what ACLs and logs see,
// the header itself never reaches the server, and a connection without
// one is closed.
func TestAcceptProxy(t *testing.T) {
	rx := startSyslog(t)
	a, b := startNameServer(t, "a"), startNameServer(t, "b")
	p := freeAddr(t)
	startLogged(t, rx, tcpDefaults+fmt.Sprintf(` log global
 option tcplog
frontend fe
 bind %s accept-proxy
 tcp-request connection accept if LOCALHOST
 use_backend be_b if { src 1.2.3.0/24 } { fc_rcvd_proxy }
 default_backend be_a
backend be_a
 server a %s
backend be_b
 server b %s
`, p, a.addr(), b.addr()))
	if got := talk(t, p, 0, "PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\r\nhello"); got != "b:hello" {
		t.Fatalf("v1 header: %q", got)
	}
	f := parseTCPLog(t, strings.Replace(rx.next(t), "1.2.3.4", "127.0.0.1", 1))
	if f[1] != "1111" || f[3] != "be_b" {
		t.Fatalf("log should show the PROXY client 1.2.3.4:1111: %q", f)
	}
	v2 := proxyproto.AppendV2(nil, proxyproto.Proxy, netip.MustParseAddrPort("9.9.9.9:2222"), netip.MustParseAddrPort("5.6.7.8:80"))
	if got := talk(t, p, 0, string(v2)+"hi"); got != "a:hi" {
		t.Fatalf("v2 header: %q", got)
	}
	rx.next(t)
	local := proxyproto.AppendV2(nil, proxyproto.Local, netip.AddrPort{}, netip.AddrPort{})
	if got := talk(t, p, 0, string(local)+"ok"); got != "a:ok" {
		t.Fatalf("LOCAL header keeps the real address: %q", got)
	}
	rx.next(t)
	if got := talk(t, p, 0, "GET / HTTP/1.0\r\n\r\n"); got != "" {
		t.Fatalf("no header: relayed %q", got)
	}
}

// send-proxy and send-proxy-v2 put the client's and frontend's addresses
// in front of the data, and a Sluice with accept-proxy behind reads them.
func TestSendProxyChain(t *testing.T) {
	hdrs := make(chan proxyproto.Header, 2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				h, _, err := proxyproto.ReadFrom(c.(*net.TCPConn), time.Now().Add(5*time.Second), make([]byte, 536))
				if err != nil {
					return
				}
				hdrs <- h
				data, _ := io.ReadAll(c)
				c.Write(data)
			}()
		}
	}()
	inner, v1, v2 := freeAddr(t), freeAddr(t), freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf(`listen inner
 bind %s accept-proxy
 server s %s send-proxy-v2
listen outer1
 bind %s
 server s %s send-proxy
listen outer2
 bind %s
 server s %s send-proxy-v2
`, inner, ln.Addr(), v1, inner, v2, ln.Addr()))
	for _, front := range []string{v1, v2} {
		c, err := net.Dial("tcp", front)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "data")
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != "data" {
			t.Fatalf("via %s: echoed %q", front, got)
		}
		h := <-hdrs
		if h.Src != c.LocalAddr().(*net.TCPAddr).AddrPort() || h.Dst.String() != front {
			t.Fatalf("via %s: header %+v, want client %v to %s", front, h, c.LocalAddr(), front)
		}
	}
}

// tcp-request connection expect-proxy layer4 asks for a PROXY header
// only from the peers its condition names.
func TestExpectProxyRule(t *testing.T) {
	a := startNameServer(t, "a")
	p1, p2 := freeAddr(t), freeAddr(t)
	_, port1, _ := net.SplitHostPort(p1)
	startCfg(t, tcpDefaults+fmt.Sprintf(`frontend fe
 bind %s
 bind %s
 tcp-request connection expect-proxy layer4 if { dst_port %s }
 use_backend be if { src 1.2.3.4 } || !{ dst_port %s }
backend be
 server a %s
`, p1, p2, port1, port1, a.addr()))
	if got := talk(t, p1, 0, "PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\r\nhi"); got != "a:hi" {
		t.Fatalf("with the header: %q", got)
	}
	if got := talk(t, p1, 0, "hi"); got != "" {
		t.Fatalf("a header was expected, yet %q came back", got)
	}
	if got := talk(t, p2, 0, "hi"); got != "a:hi" {
		t.Fatalf("no header expected on the other bind: %q", got)
	}
}

// silent-drop closes without a word to the client: as root (TCP_REPAIR)
// nothing at all reaches it.
func TestSilentDrop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("TCP_REPAIR needs CAP_NET_ADMIN; without it the reset dies only past the first hop, not on loopback")
	}
	a := startNameServer(t, "a")
	p := freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf("listen l\n bind %s\n tcp-request connection silent-drop if LOCALHOST\n server a %s\n", p, a.addr()))
	c, err := net.Dial("tcp", p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	n, err := c.Read(make([]byte, 8))
	if ne, ok := err.(net.Error); n != 0 || !ok || !ne.Timeout() {
		t.Fatalf("client got %d bytes, %v: want silence", n, err)
	}
}

// A connection without a valid PROXY header is closed and logged in
// HAProxy's words: "fe/<listener id>: <reason>".
func TestAcceptProxyFailureLogged(t *testing.T) {
	rx := startSyslog(t)
	p := freeAddr(t)
	startLogged(t, rx, tcpDefaults+fmt.Sprintf(" log global\n option tcplog\nlisten l\n bind %s accept-proxy\n server s 127.0.0.1:1\n", p))
	talk(t, p, 0, "GET / HTTP/1.0\r\n\r\n")
	line := rx.next(t)
	if !strings.Contains(line, "] l/1: Received something which does not look like a PROXY protocol header") {
		t.Fatalf("log line %q", line)
	}
	talk(t, p, 0, "PROXY TCP4 1.2.3")
	if line := rx.next(t); !strings.Contains(line, "] l/1: Truncated PROXY protocol header received") {
		t.Fatalf("log line %q", line)
	}
}
