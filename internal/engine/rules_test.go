package engine

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"sluice/internal/testkit"
)

func freeAddr(t *testing.T) string { return testkit.FreeAddr(t) }

// startCfg starts an engine on a config that names its own addresses.
func startCfg(t *testing.T, cfg string) *Engine {
	t.Helper()
	e, err := Start(loadCfg(t, cfg), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.HardStop(); e.Wait(5 * time.Second) })
	return e
}

// talk writes chunks (pausing between them), half-closes and returns
// everything the peer sent back, and whether the peer closed without a
// byte (a rejected connection).
func talk(t *testing.T, addr string, pause time.Duration, chunks ...string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	for i, ch := range chunks {
		if i > 0 {
			time.Sleep(pause)
		}
		if _, err := io.WriteString(c, ch); err != nil {
			break
		}
	}
	c.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(c)
	return string(b)
}

// Switching rules on dst_port send each bind to its own backend, and a
// frontend's default_backend takes the rest.
func TestUseBackendByDestination(t *testing.T) {
	a, b := startNameServer(t, "a"), startNameServer(t, "b")
	p1, p2 := freeAddr(t), freeAddr(t)
	_, port2, _ := net.SplitHostPort(p2)
	cfg := tcpDefaults + fmt.Sprintf(`frontend fe
 bind %s
 bind %s
 acl to_b dst_port %s
 use_backend be_b if to_b
 default_backend be_a
backend be_a
 server a %s
backend be_b
 server b %s
`, p1, p2, port2, a.addr(), b.addr())
	startCfg(t, cfg)
	if got := exchange(t, p1, "x"); got != "a:x" {
		t.Fatalf("bind 1: %q", got)
	}
	if got := exchange(t, p2, "y"); got != "b:y" {
		t.Fatalf("bind 2: %q", got)
	}
}

// tcp-request connection reject closes a connection before anything is
// relayed; accept ends the rule list early.
func TestConnectionRules(t *testing.T) {
	a := startNameServer(t, "a")
	p1, p2 := freeAddr(t), freeAddr(t)
	_, port1, _ := net.SplitHostPort(p1)
	cfg := tcpDefaults + fmt.Sprintf(`listen l
 bind %s
 bind %s
 tcp-request connection accept if { dst_port %s }
 tcp-request connection reject if LOCALHOST
 server a %s
`, p1, p2, port1, a.addr())
	startCfg(t, cfg)
	if got := exchange(t, p1, "x"); got != "a:x" {
		t.Fatalf("accepted bind: %q", got)
	}
	if got := talk(t, p2, 0, "x"); got != "" {
		t.Fatalf("rejected bind relayed %q", got)
	}
}

// Content rules wait for data: a request split across packets is routed
// on its first bytes once they arrive, and those bytes still reach the
// server (inspection does not consume them).
func TestContentRoutingWaitsForData(t *testing.T) {
	ping, other := startNameServer(t, "ping"), startNameServer(t, "other")
	p := freeAddr(t)
	cfg := tcpDefaults + fmt.Sprintf(`frontend fe
 bind %s
 tcp-request inspect-delay 5s
 tcp-request content reject if { req.payload(0,3) -m str BAD }
 tcp-request content accept if { req.len ge 4 }
 use_backend be_ping if { req.payload(0,4) -m str PING }
 default_backend be_other
backend be_ping
 server s %s
backend be_other
 server s %s
`, p, ping.addr(), other.addr())
	startCfg(t, cfg)
	if got := talk(t, p, 50*time.Millisecond, "PI", "NG", " more"); got != "ping:PING more" {
		t.Fatalf("split PING: %q", got)
	}
	if got := talk(t, p, 0, "HELLO"); got != "other:HELLO" {
		t.Fatalf("HELLO: %q", got)
	}
	if got := talk(t, p, 0, "BADX"); got != "" {
		t.Fatalf("BAD request relayed: %q", got)
	}
}

// When the inspect delay expires the rules decide on what arrived: a
// silent client is rejected by a rule that waits for data.
func TestInspectDelayExpires(t *testing.T) {
	a := startNameServer(t, "a")
	p := freeAddr(t)
	cfg := tcpDefaults + fmt.Sprintf(`listen l
 bind %s
 tcp-request inspect-delay 200ms
 tcp-request content reject if !{ req.len gt 0 }
 server a %s
`, p, a.addr())
	startCfg(t, cfg)
	c, err := net.Dial("tcp", p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(make([]byte, 8))
	if n != 0 || err == nil {
		t.Fatalf("silent client: read %d, %v; want a close", n, err)
	}
	if time.Since(start) < 150*time.Millisecond {
		t.Fatalf("closed after %v, before the inspect delay", time.Since(start))
	}
	if got := talk(t, p, 0, "hi"); got != "a:hi" {
		t.Fatalf("client with data: %q", got)
	}
}

// TLS pass-through routed by SNI: the ClientHello is read, not consumed,
// and the right backend gets it whole.
func TestSNIRouting(t *testing.T) {
	one, two := startNameServer(t, "one"), startNameServer(t, "two")
	p := freeAddr(t)
	cfg := tcpDefaults + fmt.Sprintf(`frontend fe
 bind %s
 tcp-request inspect-delay 5s
 tcp-request content accept if { req_ssl_hello_type 1 }
 use_backend be_two if { req.ssl_sni -i TWO.example.com }
 default_backend be_one
backend be_one
 server s %s
backend be_two
 server s %s
`, p, one.addr(), two.addr())
	startCfg(t, cfg)
	for name, want := range map[string]string{"two.example.com": "two:", "one.example.com": "one:"} {
		hello := testkit.ClientHello(t, name)
		// Send the hello in two pieces: the rule must wait for all of it.
		got := talk(t, p, 50*time.Millisecond, string(hello[:10]), string(hello[10:]))
		if !strings.HasPrefix(got, want) || got[len(want):] != string(hello) {
			t.Fatalf("%s: got %q..., want %q + the hello", name, got[:min(len(got), 8)], want)
		}
	}
}

// A backend without servers sends every connection to its dispatch address.
func TestDispatch(t *testing.T) {
	a := startNameServer(t, "d")
	p := freeAddr(t)
	cfg := tcpDefaults + fmt.Sprintf("frontend fe\n bind %s\n default_backend be\nbackend be\n dispatch %s\n", p, a.addr())
	startCfg(t, cfg)
	if got := exchange(t, p, "x"); got != "d:x" {
		t.Fatalf("dispatch: %q", got)
	}
}

// A backend's own content rules run after switching.
func TestBackendContentRules(t *testing.T) {
	a := startNameServer(t, "a")
	p := freeAddr(t)
	cfg := tcpDefaults + fmt.Sprintf(`frontend fe
 bind %s
 default_backend be
backend be
 tcp-request inspect-delay 2s
 tcp-request content reject if { req.payload(0,4) -m str QUIT }
 tcp-request content accept if { req.len gt 0 }
 server a %s
`, p, a.addr())
	startCfg(t, cfg)
	if got := talk(t, p, 0, "QUIT"); got != "" {
		t.Fatalf("rejected by backend rule, got %q", got)
	}
	if got := talk(t, p, 0, "HELO"); got != "a:HELO" {
		t.Fatalf("accepted: %q", got)
	}
}

// A client that half-closes during inspection ends the wait at once: the
// rules decide on what it sent, long before the inspect delay.
func TestInspectEndsOnClientClose(t *testing.T) {
	other := startNameServer(t, "other")
	p := freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf(`listen l
 bind %s
 tcp-request inspect-delay 10s
 tcp-request content accept if { req.len ge 4 }
 server s %s
`, p, other.addr()))
	start := time.Now()
	if got := talk(t, p, 0, "PI"); got != "other:PI" {
		t.Fatalf("got %q", got)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("waited %v for a client that had closed", el)
	}
}

// nbsrv, be_conn and fc_rtt answer from the running proxies and the
// kernel: a frontend falls back to a spare backend when the primary has
// no usable server, and loopback round trips are well under a second.
func TestProxyAndConnectionFacts(t *testing.T) {
	spare, fast := startNameServer(t, "spare"), startNameServer(t, "fast")
	p1, p2 := freeAddr(t), freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf(`frontend f1
 bind %s
 use_backend spare if { nbsrv(primary) lt 1 }
 default_backend primary
frontend f2
 bind %s
 use_backend quick if { fc_rtt(us) lt 1000000 } { be_conn(quick) eq 0 } { fe_conn ge 1 }
 default_backend primary
backend primary
 server p1 127.0.0.1:1 disabled
backend spare
 server s %s
backend quick
 server s %s
`, p1, p2, spare.addr(), fast.addr()))
	if got := exchange(t, p1, "x"); got != "spare:x" {
		t.Fatalf("nbsrv fallback: %q", got)
	}
	if got := exchange(t, p2, "y"); got != "fast:y" {
		t.Fatalf("fc_rtt/be_conn/fe_conn: %q", got)
	}
}
