// Package testkit holds what Sluice's tests share across packages: finding
// the reference haproxy, building the sluice binary once, free loopback
// addresses and a real TLS ClientHello. Only tests import it.
package testkit

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// HAProxyPath finds the reference binary: $HAPROXY_BIN, then haproxy in
// $PATH, then Debian's /usr/sbin/haproxy. It returns "" when there is none,
// or when HAPROXY_BIN=none asks to behave as if there were none.
func HAProxyPath() string {
	if p := os.Getenv("HAPROXY_BIN"); p == "none" {
		return ""
	} else if p != "" {
		return p
	}
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy"
	}
	return ""
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// SluiceBinary builds sluice/cmd/sluice once per test process and returns
// its path (in a temporary directory the OS cleans).
func SluiceBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "sluice")
		out, err := exec.Command("go", "build", "-o", binPath, "sluice/cmd/sluice").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build sluice/cmd/sluice: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// FreeAddr returns a 127.0.0.1 address nobody listens on right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreePort(t))
}

// handedOut is every port FreePort returned in this test process.
var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

// FreePort returns a TCP port on 127.0.0.1 that nobody listens on right
// now and that FreePort never returned before in this process. The
// kernel may give a port just closed to the next bind to port 0, so two
// parallel tests could otherwise be handed the same one; haproxy binds
// with SO_REUSEPORT, and two of them would then share it silently.
func FreePort(t testing.TB) int {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	for range 1000 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port
		}
	}
	t.Fatal("no port left that was not handed out already")
	return 0
}

// ClientHello returns the first TLS record crypto/tls sends for a server
// name: a real ClientHello to route or parse.
func ClientHello(t testing.TB, name string) []byte {
	t.Helper()
	a, b := net.Pipe()
	go func() {
		c := tls.Client(a, &tls.Config{ServerName: name, InsecureSkipVerify: true})
		c.SetDeadline(time.Now().Add(2 * time.Second))
		c.Handshake()
		a.Close()
	}()
	buf := make([]byte, 4096)
	b.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := b.Read(buf)
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// RemoveSluiceBinary deletes the binary SluiceBinary built, if any; call
// it from TestMain once the tests are done.
func RemoveSluiceBinary() {
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
}

// SyncBuffer is a goroutine-safe buffer for a child process's output.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Serve listens on a free 127.0.0.1 port and runs handle on a goroutine
// for each accepted connection, closing it when handle returns; the
// listener closes with the test. It returns the listening address.
func Serve(t testing.TB, handle func(c net.Conn)) string {
	t.Helper()
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
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}
