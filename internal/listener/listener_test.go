package listener

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"sluice/internal/netaddr"
)

// ephemeral is a bind address on port 0, which ParseBind refuses but Open
// accepts, so that tests never collide on ports.
func ephemeral(ip string) netaddr.BindAddr {
	a := netip.MustParseAddr(ip)
	k := netaddr.KindIPv4
	if a.Is6() {
		k = netaddr.KindIPv6
	}
	return netaddr.BindAddr{Kind: k, IP: a, Wildcard: a.IsUnspecified(), Raw: ip + ":0"}
}

func openOne(t *testing.T, a netaddr.BindAddr, opt Options) net.Listener {
	t.Helper()
	lns, err := Open(a, opt)
	if err != nil {
		t.Fatalf("Open(%v): %v", a, err)
	}
	closeAll(t, lns)
	if len(lns) != 1 {
		t.Fatalf("Open(%v) gave %d listeners", a, len(lns))
	}
	return lns[0]
}

func needIPv6(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("::1 unavailable: %v", err)
	}
	ln.Close()
}

// sockopt reads an integer socket option of a listener or connection.
func sockopt(t *testing.T, ln any, level, opt int) int {
	t.Helper()
	rc, err := ln.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), level, opt) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatalf("getsockopt(%d, %d): %v", level, opt, gerr)
	}
	return v
}

func TestOpenIPv4(t *testing.T) {
	noLeaks(t)
	ln := openOne(t, ephemeral("127.0.0.1"), DefaultOptions())
	if _, ok := ln.(*net.TCPListener); !ok {
		t.Fatalf("listener is %T, want *net.TCPListener", ln)
	}
	c := roundTrip(t, ln, "tcp", ln.Addr().String())
	if _, ok := c.(*net.TCPConn); !ok {
		t.Errorf("accepted %T, want *net.TCPConn (splice)", c)
	}
	if v := sockopt(t, ln, unix.SOL_SOCKET, unix.SO_REUSEADDR); v == 0 {
		t.Error("SO_REUSEADDR not set")
	}
}

func TestOpenIPv6(t *testing.T) {
	needIPv6(t)
	noLeaks(t)
	ln := openOne(t, ephemeral("::1"), DefaultOptions())
	roundTrip(t, ln, "tcp6", ln.Addr().String())
}

func TestOpenWildcard(t *testing.T) {
	noLeaks(t)
	ln := openOne(t, ephemeral("0.0.0.0"), DefaultOptions())
	port := ln.Addr().(*net.TCPAddr).Port
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsUnspecified() {
		t.Fatalf("listening on %v, want 0.0.0.0", ip)
	}
	roundTrip(t, ln, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
}

func TestOpenPortRange(t *testing.T) {
	noLeaks(t)
	var lns []net.Listener
	var base int
	for try := 0; ; try++ {
		base = 20000 + rand.IntN(30000)
		addrs, err := netaddr.ParseBind(fmt.Sprintf("127.0.0.1:%d-%d", base, base+2))
		if err != nil {
			t.Fatal(err)
		}
		if lns, err = Open(addrs[0], DefaultOptions()); err == nil {
			break
		}
		if !errors.Is(err, unix.EADDRINUSE) || try == 20 {
			t.Fatalf("Open range: %v", err)
		}
	}
	closeAll(t, lns)
	if len(lns) != 3 {
		t.Fatalf("got %d listeners for a range of 3", len(lns))
	}
	for i, ln := range lns {
		if got := ln.Addr().(*net.TCPAddr).Port; got != base+i {
			t.Errorf("listener %d on port %d, want %d", i, got, base+i)
		}
		roundTrip(t, ln, "tcp", ln.Addr().String())
	}
}

func TestOpenReusePort(t *testing.T) {
	noLeaks(t)
	first := openOne(t, ephemeral("127.0.0.1"), DefaultOptions())
	port := first.Addr().(*net.TCPAddr).Port
	again := ephemeral("127.0.0.1")
	again.PortLo, again.PortHi = port, port
	second := openOne(t, again, DefaultOptions())
	if sockopt(t, second, unix.SOL_SOCKET, unix.SO_REUSEPORT) == 0 {
		t.Error("SO_REUSEPORT not set")
	}
	// Without SO_REUSEPORT the port is taken. HAProxy 2.6 prints:
	// Binding [r2.cfg:7] for frontend fe: cannot bind socket (Address already in use) for [127.0.0.1:39556]
	opt := DefaultOptions()
	opt.ReusePort = false
	_, err := Open(again, opt)
	want := fmt.Sprintf("cannot bind socket (Address already in use) for [127.0.0.1:%d]", port)
	if err == nil || err.Error() != want || !errors.Is(err, unix.EADDRINUSE) {
		t.Errorf("Open without SO_REUSEPORT: %v, want %q", err, want)
	}
}

func TestOpenV6Only(t *testing.T) {
	needIPv6(t)
	noLeaks(t)
	opt := DefaultOptions()
	opt.V6Only = true
	ln := openOne(t, ephemeral("::1"), opt)
	if got := sockopt(t, ln, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); got != 1 {
		t.Errorf("v6only: IPV6_V6ONLY=%d, want 1", got)
	}
	// v4v6 on "::" accepts IPv4 too. (Tested on the wildcard because some
	// kernels, gVisor for one, force V6ONLY on specific IPv6 addresses.)
	opt = DefaultOptions()
	opt.V4V6 = true
	ln = openOne(t, ephemeral("::"), opt)
	if got := sockopt(t, ln, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); got != 0 {
		t.Errorf("v4v6: IPV6_V6ONLY=%d, want 0", got)
	}
	roundTrip(t, ln, "tcp4", fmt.Sprintf("127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port))
}

func TestOpenDeferAccept(t *testing.T) {
	noLeaks(t)
	opt := DefaultOptions()
	opt.DeferAccept = true
	var warnings []string
	opt.Warn = func(m string) { warnings = append(warnings, m) }
	ln := openOne(t, ephemeral("127.0.0.1"), opt)
	if len(warnings) > 0 {
		t.Skipf("kernel refused TCP_DEFER_ACCEPT: %v", warnings)
	}
	if v := sockopt(t, ln, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT); v <= 0 {
		t.Errorf("TCP_DEFER_ACCEPT = %d, want > 0", v)
	}
	plain := openOne(t, ephemeral("127.0.0.1"), DefaultOptions())
	if v := sockopt(t, plain, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT); v != 0 {
		t.Errorf("TCP_DEFER_ACCEPT = %d without defer-accept", v)
	}
}

func TestOpenUnix(t *testing.T) {
	noLeaks(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "s.sock")
	// A stale file at the path is replaced, as after a crash.
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	addrs, err := netaddr.ParseBind(path)
	if err != nil {
		t.Fatal(err)
	}
	opt := DefaultOptions()
	opt.UnixMode = 0o600
	opt.UnixUID, opt.UnixGID = os.Getuid(), os.Getgid()
	first := openOne(t, addrs[0], opt)
	if a := first.Addr(); a.Network() != "unix" || a.String() != path {
		t.Fatalf("listener address = %s %q, want unix %q (the final path, not the temporary one)", a.Network(), a, path)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat %s: %v %v", path, st.Mode(), err)
	}
	roundTrip(t, first, "unix", path)

	// A second open (a reload) takes the path over atomically; the first
	// listener keeps working for connections already queued on it.
	second := openOne(t, addrs[0], DefaultOptions())
	roundTrip(t, second, "unix", path)
	first.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("closing the old listener removed the path: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("leftover files in %s: %v", dir, entries)
	}
}

func TestOpenUnixErrors(t *testing.T) {
	// HAProxy 2.6: Binding [r2.cfg:7] for frontend fe: cannot bind UNIX socket (No such file or directory) [/nonexistent/dir/x.sock]
	path := filepath.Join(t.TempDir(), "nodir", "x.sock")
	_, err := Open(netaddr.BindAddr{Kind: netaddr.KindUnix, Path: path}, DefaultOptions())
	want := "cannot bind UNIX socket (No such file or directory) [" + path + "]"
	if err == nil || err.Error() != want {
		t.Errorf("Open(%s) = %v, want %q", path, err, want)
	}
}

func TestOpenABNS(t *testing.T) {
	noLeaks(t)
	name := fmt.Sprintf("sluice-test-%d-%d", os.Getpid(), rand.Int())
	ln := openOne(t, netaddr.BindAddr{Kind: netaddr.KindABNS, Path: name}, DefaultOptions())
	roundTrip(t, ln, "unix", netaddr.ABNSName(name))
	// The tight name is another socket: HAProxy pads abstract names.
	if c, err := net.Dial("unix", "@"+name); err == nil {
		c.Close()
		t.Error("unpadded abstract name reached the padded socket")
	}
}

func TestOpenFD(t *testing.T) {
	noLeaks(t)
	orig, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fd := dupFD(t, orig.(syscall.Conn))
	orig.Close()
	ln := openOne(t, netaddr.BindAddr{Kind: netaddr.KindFD, FD: fd, Raw: fmt.Sprintf("fd@%d", fd)}, DefaultOptions())
	if _, ok := ln.(*net.TCPListener); !ok {
		t.Fatalf("listener is %T", ln)
	}
	roundTrip(t, ln, "tcp", ln.Addr().String())
	if _, err := unix.Getsockname(fd); err == nil {
		t.Error("Open did not take ownership of (close) the inherited descriptor")
	}
}

// TestOpenFDNotListening passes a bound socket that does not listen yet,
// which fd@ allows (HAProxy listens on it).
func TestOpenFDNotListening(t *testing.T) {
	noLeaks(t)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	ln := openOne(t, netaddr.BindAddr{Kind: netaddr.KindFD, FD: fd}, DefaultOptions())
	roundTrip(t, ln, "tcp", ln.Addr().String())
}

func TestOpenFDErrors(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// HAProxy 2.6: 'bind' : cannot use file descriptor '3' : Socket operation on non-socket.
	fd := int(f.Fd())
	_, err = Open(netaddr.BindAddr{Kind: netaddr.KindFD, FD: fd}, DefaultOptions())
	want := fmt.Sprintf("cannot use file descriptor '%d' : Socket operation on non-socket.", fd)
	if err == nil || err.Error() != want {
		t.Errorf("fd@ on /dev/null: %v, want %q", err, want)
	}
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	ufd := dupFD(t, udp.(syscall.Conn))
	defer unix.Close(ufd)
	_, err = Open(netaddr.BindAddr{Kind: netaddr.KindFD, FD: ufd}, DefaultOptions())
	want = fmt.Sprintf("socket on file descriptor '%d' is of the wrong type.", ufd)
	if err == nil || err.Error() != want {
		t.Errorf("fd@ on UDP: %v, want %q", err, want)
	}
}

func dupFD(t *testing.T, c syscall.Conn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd, derr := -1, error(nil)
	rc.Control(func(s uintptr) { fd, derr = unix.Dup(int(s)) })
	if derr != nil {
		t.Fatal(derr)
	}
	return fd
}

func TestOpenResolveError(t *testing.T) {
	addrs, err := netaddr.ParseBind("name.invalid:80")
	if err != nil {
		t.Fatal(err)
	}
	old := netaddr.Lookup
	netaddr.Lookup = func(_ context.Context, _, host string) ([]netip.Addr, error) {
		return nil, errors.New("no such host " + host)
	}
	defer func() { netaddr.Lookup = old }()
	// HAProxy 2.6: 'bind' : invalid address: 'nonexistent.invalid' in 'nonexistent.invalid:80'
	_, err = Open(addrs[0], DefaultOptions())
	if err == nil || !strings.HasPrefix(err.Error(), "invalid address: 'name.invalid' in 'name.invalid:80'") {
		t.Errorf("Open unresolvable: %v", err)
	}
}
