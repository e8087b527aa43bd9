package engine

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"sluice/internal/logsink"
)

// syslogRx collects datagrams sent to a UDP socket.
type syslogRx struct {
	pc    net.PacketConn
	lines chan string
}

func startSyslog(t *testing.T) *syslogRx {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &syslogRx{pc: pc, lines: make(chan string, 100)}
	go func() {
		b := make([]byte, 4096)
		for {
			n, _, err := pc.ReadFrom(b)
			if err != nil {
				close(r.lines)
				return
			}
			r.lines <- string(b[:n])
		}
	}()
	t.Cleanup(func() { pc.Close() })
	return r
}

func (r *syslogRx) next(t *testing.T) string {
	t.Helper()
	select {
	case l := <-r.lines:
		return l
	case <-time.After(5 * time.Second):
		t.Fatal("no log line")
	}
	return ""
}

func (r *syslogRx) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case l := <-r.lines:
		t.Fatalf("unexpected log line %q", l)
	case <-time.After(d):
	}
}

// startLogged starts an engine whose global log goes to rx.
func startLogged(t *testing.T, rx *syslogRx, cfg string) {
	t.Helper()
	c := loadCfg(t, "global\n log "+rx.pc.LocalAddr().String()+" local0 info\n"+cfg)
	sink, err := logsink.Open([]logsink.Target{c.Global.Logs[0].Target}, logsink.Options{Tag: "sluice"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Start(c, Options{Log: sink})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.HardStop(); e.Wait(5 * time.Second); e.Close(); sink.Close() })
}

// tcplogRe is option tcplog's line:
// ci:cp [date] ft b/s Tw/Tc/Tt B ts ac/fc/bc/sc/rc sq/bq
var tcplogRe = regexp.MustCompile(`: (127\.0\.0\.1):(\d+) \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] (\S+) (\S+)/(\S+) (-?\d+)/(-?\d+)/(\d+) (\d+) (\S\S) (\d+)/(\d+)/(\d+)/(\d+)/(\+?\d+) (\d+)/(\d+)\n?$`)

func parseTCPLog(t *testing.T, line string) []string {
	t.Helper()
	m := tcplogRe.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("not a tcplog line: %q", line)
	}
	return m[1:]
}

// Each stream is logged once when it ends, with HAProxy's tcplog fields:
// names, bytes each way, termination state and counters.
func TestTCPLogLine(t *testing.T) {
	rx := startSyslog(t)
	srv := startNameServer(t, "a")
	p := freeAddr(t)
	startLogged(t, rx, tcpDefaults+fmt.Sprintf(" log global\n option tcplog\nfrontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", p, srv.addr()))
	c, err := net.Dial("tcp", p)
	if err != nil {
		t.Fatal(err)
	}
	local := c.LocalAddr().(*net.TCPAddr)
	c.Write([]byte("hello"))
	c.(*net.TCPConn).CloseWrite()
	buf := make([]byte, 64)
	n := 0
	for {
		k, err := c.Read(buf[n:])
		n += k
		if err != nil {
			break
		}
	}
	c.Close()
	f := parseTCPLog(t, rx.next(t))
	if f[1] != fmt.Sprint(local.Port) || f[2] != "fe" || f[3] != "be" || f[4] != "s1" {
		t.Fatalf("addresses and names: %q", f)
	}
	if f[5] == "-1" || f[6] == "-1" {
		t.Fatalf("Tw/Tc should be reached: %q", f)
	}
	if f[8] != fmt.Sprint(n) || f[8] != "7" { // "a:hello" came back
		t.Fatalf("bytes to client %s, client read %d", f[8], n)
	}
	if f[9] != "--" {
		t.Fatalf("termination state %s, want --", f[9])
	}
	// HAProxy logs 1/1/0/0/0 here: the stream still counts on the process
	// and frontend, no longer on the backend and server.
	if f[10] != "1" || f[11] != "1" || f[12] != "0" || f[13] != "0" || f[14] != "0" {
		t.Fatalf("counters ac/fc/bc/sc/rc: %q", f[10:15])
	}
}

// Rejected, unserved and refused streams carry HAProxy's termination
// states; dontlognull drops streams that sent nothing; connections
// rejected by tcp-request connection rules are not logged at all.
func TestTCPLogTerminationStates(t *testing.T) {
	rx := startSyslog(t)
	dead := freeAddr(t)
	srv := startNameServer(t, "a")
	p1, p2, p3, p4 := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	_, port4, _ := net.SplitHostPort(p4)
	startLogged(t, rx, tcpDefaults+fmt.Sprintf(` log global
 option tcplog
frontend reject
 bind %s
 tcp-request inspect-delay 1s
 tcp-request content reject if { req.payload(0,3) -m str BAD }
 default_backend be
frontend refused
 bind %s
 default_backend be_dead
frontend nullfe
 option dontlognull
 bind %s
 bind %s
 tcp-request connection reject if { dst_port %s }
 default_backend be
backend be
 server s1 %s
backend be_dead
 server dead %s
`, p1, p2, p3, p4, port4, srv.addr(), dead))
	talk(t, p1, 0, "BADX")
	if f := parseTCPLog(t, rx.next(t)); f[9] != "PR" || f[4] != "<NOSRV>" {
		t.Fatalf("content reject: %q", f)
	}
	talk(t, p2, 0, "x")
	if f := parseTCPLog(t, rx.next(t)); f[9] != "SC" || f[4] != "dead" || f[6] != "-1" {
		t.Fatalf("refused server: %q", f)
	}
	talk(t, p3, 0) // nothing sent: dontlognull
	talk(t, p4, 0, "x")
	rx.none(t, 300*time.Millisecond)
	talk(t, p3, 0, "x")
	if f := parseTCPLog(t, rx.next(t)); f[9] != "--" || f[2] != "nullfe" {
		t.Fatalf("logged stream: %q", f)
	}
}

// Without option tcplog a logging frontend writes HAProxy's connect line
// at accept; a log-format renders its own fields, samples included.
func TestConnectLineAndLogFormat(t *testing.T) {
	rx := startSyslog(t)
	srv := startNameServer(t, "a")
	p1, p2 := freeAddr(t), freeAddr(t)
	startLogged(t, rx, tcpDefaults+fmt.Sprintf(` log global
frontend plain
 bind %s
 default_backend be
frontend custom
 bind %s
 log-format "%%f>%%b/%%s %%U/%%B %%ts dst=%%[dst_port] fe=%%[fe_name,upper]"
 default_backend be
backend be
 server s1 %s
`, p1, p2, srv.addr()))
	c, err := net.Dial("tcp", p1)
	if err != nil {
		t.Fatal(err)
	}
	line := rx.next(t)
	want := fmt.Sprintf("Connect from %s to %s (plain/TCP)", c.LocalAddr(), p1)
	if !strings.Contains(line, want) {
		t.Fatalf("connect line %q, want %q", line, want)
	}
	c.Close()
	talk(t, p2, 0, "abc")
	_, port2, _ := net.SplitHostPort(p2)
	want = fmt.Sprintf("custom>be/s1 3/5 -- dst=%s fe=CUSTOM", port2)
	if line := rx.next(t); !strings.HasSuffix(strings.TrimSuffix(line, "\n"), want) {
		t.Fatalf("log-format line %q, want suffix %q", line, want)
	}
}

// A client that closes without data while Sluice retries a refusing
// server ends the attempts at once, logged CC, as in HAProxy.
func TestClientGoneWhileConnecting(t *testing.T) {
	rx := startSyslog(t)
	dead := freeAddr(t)
	p := freeAddr(t)
	startLogged(t, rx, tcpDefaults+fmt.Sprintf(" log global\n option tcplog\nlisten l\n bind %s\n retries 5\n server dead %s\n", p, dead))
	c, err := net.Dial("tcp", p)
	if err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	start := time.Now()
	f := parseTCPLog(t, rx.next(t))
	c.Close()
	// The FIN is seen at the first retry, or the next one on a busy
	// machine; without it the five retries would take five seconds.
	if f[9] != "CC" || (f[14] != "1" && f[14] != "2") {
		t.Fatalf("state %s after %s retries, want CC after 1 or 2: %q", f[9], f[14], f)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("took %v: retries went on after the client left", el)
	}
}

// A stream that never reached a server still counts what the client sent
// (%U), so dontlognull keeps its line, as HAProxy's req.total does.
func TestDontlognullKeepsFailedStreamsWithData(t *testing.T) {
	rx := startSyslog(t)
	dead := freeAddr(t)
	p := freeAddr(t)
	startLogged(t, rx, tcpDefaults+fmt.Sprintf(" log global\n option tcplog\n option dontlognull\nlisten l\n bind %s\n tcp-request inspect-delay 2s\n tcp-request content accept if { req.len gt 0 }\n retries 0\n server dead %s\n", p, dead))
	talk(t, p, 0, "hello")
	f := parseTCPLog(t, rx.next(t))
	if f[9] != "SC" {
		t.Fatalf("state %s, want SC: %q", f[9], f)
	}
}
