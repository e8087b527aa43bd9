package engine

import (
	"fmt"
	"io"
	"net"
	"net/netip"
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
