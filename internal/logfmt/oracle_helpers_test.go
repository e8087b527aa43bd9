package logfmt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

// This file holds the plumbing of the oracle tests: the reference haproxy
// process, a syslog receiver and scripted backends, all on 127.0.0.1.

const haproxyPath = "/usr/sbin/haproxy"

func haproxyBin(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(haproxyPath); err != nil {
		t.Skip("reference haproxy not installed at " + haproxyPath)
	}
	return haproxyPath
}

// lockedBuffer collects the process output written from exec's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// frontendListener opens the frontend's socket in the test, so that no
// other test can take its port before HAProxy binds it; HAProxy gets it
// as "bind fd@3".
func frontendListener(t *testing.T) (*os.File, int) {
	t.Helper()
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.File()
	ln.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, ln.Addr().(*net.TCPAddr).Port
}

// startHAProxy runs "haproxy -db -f cfg" until the test ends and returns
// its pid (with -db there is no fork: the pid is the one HAProxy logs).
// fe, when not nil, is passed as file descriptor 3.
func startHAProxy(t *testing.T, cfg string, fe *os.File) int {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	cmd := exec.Command(haproxyBin(t), "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	if fe != nil {
		cmd.ExtraFiles = []*os.File{fe}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy config:\n%s\nhaproxy output:\n%s", cfg, out.String())
		}
	})
	return cmd.Process.Pid
}

// syslogRx receives HAProxy's datagrams.
type syslogRx struct {
	conn *net.UDPConn
}

func newSyslogRx(t *testing.T) *syslogRx {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &syslogRx{conn: c}
}

func (r *syslogRx) port() int { return r.conn.LocalAddr().(*net.UDPAddr).Port }

// rfc3164Local is the header HAProxy writes when no format is set:
// "<134>Nov 23 12:30:04 haproxy[27149]: ".
var rfc3164Local = regexp.MustCompile(`^<(\d+)>[A-Z][a-z]{2} [ 1-3][0-9] \d\d:\d\d:\d\d haproxy\[(\d+)\]: `)

// logLine is one datagram split into its header fields and body.
type logLine struct {
	prio, pid int
	body      string
}

// wait returns the first datagram whose body satisfies match, failing
// the test after the deadline.
func (r *syslogRx) wait(t *testing.T, timeout time.Duration, match func(string) bool) logLine {
	t.Helper()
	buf := make([]byte, 65536)
	if err := r.conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := r.conn.Read(buf)
		if err != nil {
			t.Fatalf("no matching log line: %v", err)
		}
		d := string(buf[:n])
		m := rfc3164Local.FindStringSubmatch(d)
		if m == nil || d[len(d)-1] != '\n' {
			t.Fatalf("datagram %q is not HAProxy's local syslog format", d)
		}
		body := d[len(m[0]) : len(d)-1]
		if match(body) {
			prio, _ := strconv.Atoi(m[1])
			pid, _ := strconv.Atoi(m[2])
			return logLine{prio: prio, pid: pid, body: body}
		}
	}
}

// dial connects to the frontend, polling until it accepts (a refused
// attempt creates no stream, so it logs nothing).
func dial(t *testing.T, port int) *net.TCPConn {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp4", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(15 * time.Second))
			return c.(*net.TCPConn)
		}
		if time.Now().After(deadline) {
			t.Fatalf("frontend never accepted: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	return a.(*net.TCPAddr).AddrPort()
}

// backend is a scripted server; peers receives the address of every
// connection HAProxy opened to it (%bi:%bp).
type backend struct {
	addr  netip.AddrPort
	peers chan netip.AddrPort
}

// startBackend serves every connection with handle until the test ends.
func startBackend(t *testing.T, handle func(c *net.TCPConn)) *backend {
	t.Helper()
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{addr: addrPort(ln.Addr()), peers: make(chan netip.AddrPort, 16)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			b.peers <- addrPort(c.RemoteAddr())
			_ = c.SetDeadline(time.Now().Add(15 * time.Second))
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return b
}

// Backend behaviours.
func echoServer(c *net.TCPConn) {
	_, _ = io.Copy(c, c)
	c.Close()
}

func byeServer(c *net.TCPConn) {
	buf := make([]byte, 64)
	_, _ = c.Read(buf)
	_, _ = c.Write([]byte("bye\n"))
	c.Close()
}

func resetServer(c *net.TCPConn) {
	buf := make([]byte, 64)
	_, _ = c.Read(buf)
	_ = c.SetLinger(0)
	c.Close()
}

// silentServer reads and never answers, until HAProxy closes.
func silentServer(c *net.TCPConn) {
	_, _ = io.Copy(io.Discard, c)
	c.Close()
}

// Client behaviours.
func clientEcho(t *testing.T, c *net.TCPConn) {
	t.Helper()
	if _, err := c.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("echo: %v", err)
	}
	c.Close()
}

func clientReset(t *testing.T, c *net.TCPConn) {
	t.Helper()
	if _, err := c.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("echo: %v", err)
	}
	_ = c.SetLinger(0)
	c.Close()
}

// clientUntilClosed sends a line and reads until HAProxy closes.
func clientUntilClosed(t *testing.T, c *net.TCPConn) {
	t.Helper()
	_, _ = c.Write([]byte("hello\n"))
	_, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("haproxy never closed the connection: %v", err)
	}
	c.Close()
}

// parseAcceptDate reads a %t value in the local zone and checks that it
// falls within the test's run.
func parseAcceptDate(t *testing.T, s string, from, to time.Time) time.Time {
	t.Helper()
	d, err := time.ParseInLocation("02/Jan/2006:15:04:05.000", s, time.Local)
	if err != nil {
		t.Fatalf("date %q: %v", s, err)
	}
	if d.Before(from.Add(-time.Second)) || d.After(to.Add(time.Second)) {
		t.Fatalf("date %s outside of the run [%s, %s]", d, from, to)
	}
	return d
}

// tcpTimers sets the markers that make %Tw/%Tc/%Tt come out as HAProxy
// logged them: in TCP mode there is no request date, so %Tw is the queue
// marker plus one.
func tcpTimers(fl *Fields, tw, tc, tt int64) {
	msd := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	fl.Request, fl.Queue, fl.Connect = NotReached, NotReached, NotReached
	if tw >= 0 {
		fl.Queue = msd(tw - 1)
	}
	if tc >= 0 {
		fl.Connect = fl.Queue + msd(tc)
	}
	fl.Close = msd(tt)
	fl.Idle = NotReached
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// tcpConfig is the configuration of the TCP scenarios; the frontend
// socket is descriptor 3.
func tcpConfig(syslogPort int, logLine, defaults, listen, server string) string {
	return fmt.Sprintf(`global
  log 127.0.0.1:%d local0 info
defaults
  mode tcp
  log global
  %s
  timeout connect 1s
  timeout client 5s
  timeout server 5s
%s
listen l
  bind fd@3
%s
  server s1 %s
`, syslogPort, logLine, defaults, listen, server)
}
