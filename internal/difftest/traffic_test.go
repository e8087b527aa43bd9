package difftest

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// The traffic differential runs the same mode tcp configuration and the
// same connections through haproxy and Sluice, one after the other, and
// compares where each connection landed and what each proxy logged.

// namedServers starts backends that answer each connection with their name
// and close once the client half-closes.
func namedServers(t *testing.T, names ...string) map[string]string {
	t.Helper()
	addrs := map[string]string{}
	for _, name := range names {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		t.Cleanup(func() { ln.Close(); wg.Wait() })
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer c.Close()
					io.Copy(io.Discard, c)
					io.WriteString(c, name)
				}()
			}
		}(name)
		addrs[name] = ln.Addr().String()
	}
	return addrs
}

// syslogUDP collects log datagrams.
type syslogUDP struct {
	pc    net.PacketConn
	lines chan string
}

func newSyslog(t *testing.T) *syslogUDP {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &syslogUDP{pc: pc, lines: make(chan string, 1000)}
	go func() {
		b := make([]byte, 2048)
		for {
			n, _, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			s.lines <- string(b[:n])
		}
	}()
	t.Cleanup(func() { pc.Close() })
	return s
}

// proxyRun starts a proxy binary on cfg and returns a stop function and
// the client port of the connection that found it listening.
func proxyRun(t *testing.T, bin, cfg, listen string) (func(), int) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "l4.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", listen)
		if err == nil {
			port := c.LocalAddr().(*net.TCPAddr).Port
			c.Close()
			return stop, port
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("%s never listened on %s:\n%s", bin, listen, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ask sends msg, half-closes and returns the reply ("" when closed) and
// the client's port, which finds the connection's log line.
func ask(t *testing.T, addr, msg string) (string, int) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := c.LocalAddr().(*net.TCPAddr).Port
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if msg != "" {
		io.WriteString(c, msg)
	}
	c.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(c)
	return string(b), port
}

func freeAddr(t *testing.T) string { return testkit.FreeAddr(t) }

// trafficCase is a configuration body (after global/defaults) and the
// messages sent, one connection each, in order.
type trafficCase struct {
	name string
	body string // %[name] is a server's address, %BIND the listen address
	msgs []string
}

var trafficCases = []trafficCase{
	{name: "roundrobin weights and backup", body: `listen l
 bind %BIND
 balance roundrobin
 server a %[a] weight 3
 server b %[b] weight 2
 server c %[c] weight 1
 server d %[d] backup
`, msgs: repeat("x", 18)},
	{name: "static-rr", body: `listen l
 bind %BIND
 balance static-rr
 server a %[a] weight 1
 server b %[b] weight 4
 server c %[c] weight 2
`, msgs: repeat("x", 14)},
	{name: "leastconn sequential", body: `listen l
 bind %BIND
 balance leastconn
 server a %[a]
 server b %[b]
 server c %[c] weight 3
`, msgs: repeat("x", 9)},
	{name: "first", body: `listen l
 bind %BIND
 balance first
 server c %[c] id 3
 server a %[a] id 1
 server b %[b] id 2
`, msgs: repeat("x", 4)},
	{name: "source map-based and consistent", body: `frontend f
 bind %BIND
 tcp-request inspect-delay 2s
 tcp-request content accept if { req.len ge 4 }
 use_backend cons if { req.payload(0,4) -m str CONS }
 default_backend mapb
backend mapb
 balance source
 server a %[a]
 server b %[b]
 server c %[c]
 server d %[d]
backend cons
 balance source
 hash-type consistent
 server a %[a]
 server b %[b]
 server c %[c]
 server d %[d]
`, msgs: []string{"MAPx", "CONS", "MAPy", "CONS"}},
	{name: "switching and content rules", body: `frontend f
 bind %BIND
 tcp-request inspect-delay 2s
 acl is_ping req.payload(0,4) -m str PING
 acl is_bad req.payload(0,3) -m bin 424144
 tcp-request content reject if is_bad
 tcp-request content accept if { req.len ge 4 }
 use_backend pings if is_ping
 use_backend others if !is_ping { req.payload(0,1) -m reg ^[A-M] }
 default_backend rest
backend pings
 server a %[a]
backend others
 server b %[b]
backend rest
 server c %[c]
 server d %[d] disabled
`, msgs: []string{"PING", "HELLO", "BADX", "ZEBRA", "ALPHA", "PINGPONG", "zzzz"}},
	{name: "refused server, retries and redispatch", body: `frontend f
 bind %BIND
 tcp-request inspect-delay 2s
 tcp-request content accept if { req.len ge 1 }
 use_backend redisp if { req.payload(0,1) -m str R }
 default_backend plain
backend plain
 retries 1
 server dead %[dead]
backend redisp
 balance first
 retries 2
 option redispatch
 server dead %[dead]
 server a %[a]
`, msgs: []string{"x", "R"}},
	{name: "dual-stack bind", body: `listen l
 bind :::%PORT v4v6
 balance source
 server a %[a]
 server b %[b]
 server c %[c]
 server dead %[dead]
`, msgs: []string{"x", "y"}},
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// tcplogShape keeps what must match between the two proxies: names,
// bytes, termination state, backend and server counts, retries and queue
// positions. Addresses, dates and timers vary, and so do the process and
// frontend counts (%ac/%fc), which include connections still closing.
var tcplogShape = regexp.MustCompile(`: (\S+):(\d+) \[[^\]]+\] (\S+ \S+/\S+) -?\d+/-?\d+/\d+ (\d+ \S\S) \d+/\d+/(\d+/\d+/\+?\d+ \d+/\d+)`)

func TestTrafficDifferential(t *testing.T) {
	hap := haproxyPath()
	if hap == "" {
		t.Skip("haproxy not installed")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	for _, tc := range trafficCases {
		t.Run(tc.name, func(t *testing.T) {
			servers := namedServers(t, "a", "b", "c", "d")
			servers["dead"] = freeAddr(t) // nothing listens there
			var got [2][]string
			var logs [2][]string
			for i, bin := range []string{hap, sluiceBin} {
				rx := newSyslog(t)
				bind := freeAddr(t)
				body := strings.ReplaceAll(tc.body, "%BIND", bind)
				_, port, _ := net.SplitHostPort(bind)
				body = strings.ReplaceAll(body, "%PORT", port)
				for n, a := range servers {
					body = strings.ReplaceAll(body, "%["+n+"]", a)
				}
				cfg := "global\n log " + rx.pc.LocalAddr().String() + " local0 info\ndefaults\n mode tcp\n log global\n option tcplog\n" +
					" timeout connect 2s\n timeout client 10s\n timeout server 10s\n" + body
				stop, probe := proxyRun(t, bin, cfg, bind)
				waitLine(t, rx, probe) // the probe's stream has ended
				for _, m := range tc.msgs {
					reply, port := ask(t, bind, m)
					got[i] = append(got[i], reply)
					sh := waitLine(t, rx, port)
					logs[i] = append(logs[i], sh[1]+" "+sh[3]+" "+sh[4]+" "+sh[5])
				}
				stop()
			}
			if fmt.Sprint(got[0]) != fmt.Sprint(got[1]) {
				t.Errorf("landing servers differ\nhaproxy: %q\nsluice:  %q", got[0], got[1])
			}
			for j := range logs[0] {
				if logs[0][j] != logs[1][j] {
					t.Errorf("log line %d differs\nhaproxy: %s\nsluice:  %s", j, logs[0][j], logs[1][j])
				}
			}
		})
	}
}

// waitLine returns the tcplog fields of the line for the client port;
// other lines (the readiness probe's) are skipped.
func waitLine(t *testing.T, rx *syslogUDP, port int) []string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l := <-rx.lines:
			sh := tcplogShape.FindStringSubmatch(l)
			if sh == nil {
				t.Fatalf("not a tcplog line: %q", l)
			}
			if sh[2] == fmt.Sprint(port) {
				return sh
			}
		case <-timeout:
			t.Fatalf("no log line for client port %d", port)
		}
	}
}
