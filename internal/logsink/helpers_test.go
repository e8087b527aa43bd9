package logsink

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// fixedClock returns an Options.Now that always answers the given instant.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// mustTime parses an RFC 3339 instant with microseconds; its zone is kept
// so that dates print in it, as HAProxy prints them in local time.
func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse("2006-01-02T15:04:05.000000-07:00", s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// udpReceiver is a real syslog-like UDP server on 127.0.0.1.
type udpReceiver struct {
	t    *testing.T
	conn *net.UDPConn
}

func newUDPReceiver(t *testing.T) *udpReceiver {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &udpReceiver{t: t, conn: c}
}

func (r *udpReceiver) addr() string { return r.conn.LocalAddr().String() }

// next returns the next datagram, failing the test after 5s.
func (r *udpReceiver) next() string {
	r.t.Helper()
	return recvDatagram(r.t, r.conn)
}

func recvDatagram(t *testing.T, c interface {
	SetReadDeadline(time.Time) error
	Read([]byte) (int, error)
}) string {
	t.Helper()
	buf := make([]byte, 70000)
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no datagram: %v", err)
	}
	return string(buf[:n])
}

// unixReceiver binds a unix datagram socket in a temporary directory.
func newUnixReceiver(t *testing.T) (*net.UnixConn, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log.sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, path
}

// newPipeTarget returns an "fd@N" address writing into a pipe and a reader
// of its lines; it stands in for stdout/stderr, which share the fd code.
func newPipeTarget(t *testing.T) (string, *bufio.Reader) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return "fd@" + strconv.Itoa(int(w.Fd())), bufio.NewReader(r)
}

// readLine reads one LF-terminated line (LF included) with a deadline.
func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := r.ReadString('\n')
		ch <- res{s, err}
	}()
	select {
	case x := <-ch:
		if x.err != nil {
			t.Fatal(x.err)
		}
		return x.s
	case <-time.After(5 * time.Second):
		t.Fatal("no line on pipe")
	}
	return ""
}

func mustOpen(t *testing.T, targets []Target, opt Options) *Sink {
	t.Helper()
	s, err := Open(targets, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustParse(t *testing.T, words ...string) Target {
	t.Helper()
	tg, err := ParseTarget(words)
	if err != nil {
		t.Fatalf("ParseTarget(%q): %v", words, err)
	}
	return tg
}

// waitFor polls cond until it holds or 5s pass; it yields instead of
// sleeping so the test runs as fast as the goroutines it waits for.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}
