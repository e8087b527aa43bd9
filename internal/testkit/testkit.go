// Package testkit holds what Sluice's tests share across packages: finding
// the reference haproxy, building the sluice binary once, free loopback
// addresses and a real TLS ClientHello. Only tests import it.
package testkit

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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

// handedOut is every port FreePort returned in this test process, and
// the file whose byte locks claim ports across test processes.
var handedOut struct {
	sync.Mutex
	ports   map[int]bool
	locks   *os.File
	lockErr error
}

// The lock file is opened as the test binary starts, so that tests
// counting their process's descriptors find it there from the start.
func init() {
	handedOut.locks, handedOut.lockErr = os.OpenFile(filepath.Join(os.TempDir(), "sluice-test-ports.lock"),
		os.O_RDWR|os.O_CREATE, 0o666)
}

// Ports FreePort hands out lie below Linux's ephemeral range
// (32768-60999 by default), where a bind to port 0 or an outgoing
// connection never lands.
const (
	freePortLow  = 20000
	freePortHigh = 32000
)

// FreePort returns a TCP port on 127.0.0.1 that nobody listens on right
// now and that no FreePort returned before, in this test process or in
// another one running now (go test runs packages in parallel processes).
// haproxy binds with SO_REUSEPORT: two of them handed the same port
// would share it silently, each answering some of the other's requests.
// A port is claimed with a lock on its byte of a file shared by all test
// processes, held until the process ends; it is taken below the
// ephemeral range so that a test binding port 0 between the check and
// the bind cannot take it either.
func FreePort(t testing.TB) int {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.lockErr != nil {
		t.Fatal(handedOut.lockErr)
	}
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	for range 1000 {
		port := freePortLow + rand.IntN(freePortHigh-freePortLow)
		if handedOut.ports[port] {
			continue
		}
		lk := unix.Flock_t{Type: unix.F_WRLCK, Start: int64(port), Len: 1}
		if unix.FcntlFlock(handedOut.locks.Fd(), unix.F_OFD_SETLK, &lk) != nil {
			continue // another test process has it
		}
		handedOut.ports[port] = true // claimed, free or not: not tried again
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue // something else listens there
		}
		ln.Close()
		return port
	}
	t.Fatal("no free port left to hand out")
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
