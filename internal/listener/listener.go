// Package listener opens the listening sockets of `bind` lines and runs
// their accept loops under connection limits.
//
// Sockets are created with raw system calls rather than net.Listen because
// HAProxy compatibility needs control that net.ListenConfig does not give:
// the listen backlog, IPV6_V6ONLY left at the system default unless v6only
// or v4v6 is set, TCP_DEFER_ACCEPT, SO_REUSEPORT for seamless reloads, the
// temporary-name-then-rename dance HAProxy uses to replace a UNIX socket
// without a window where the path is missing, and NUL-padded abstract
// socket names. TCP sockets are made by net.ListenConfig with those
// options applied in its Control hook (and keep-alive left off on accepted
// sockets); the others are handed to the net package (net.FileListener).
// Either way TCP listeners are plain *net.TCPListener values. The accept
// loops take connections from them as *net.TCPConn (Serve, ServeAsync),
// or accept below the net package: into a relay poller (ServeEvents, mode
// tcp) or into Go's poller (ServePolled, mode http).
//
// Error messages follow HAProxy's ("cannot bind socket (Address already in
// use) for [127.0.0.1:80]") so that Sluice can print them after
// "Binding [file:line] for frontend fe: ".
package listener

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"sluice/internal/netaddr"
)

// Options are the bind parameters that affect how a socket is opened.
// The zero value chowns UNIX sockets to root (UnixUID/UnixGID 0); use
// DefaultOptions as the starting point.
type Options struct {
	// Name is the bind's `name` parameter. Open does not use it; it is
	// carried so that callers can label the listeners in logs and stats.
	Name string
	// V4V6 clears IPV6_V6ONLY so an IPv6 socket also accepts IPv4
	// (mapped) connections; V6Only sets it. With neither, the system
	// default (net.ipv6.bindv6only) applies, as in HAProxy.
	V4V6, V6Only bool
	// DeferAccept sets TCP_DEFER_ACCEPT (1 s): the kernel only reports a
	// connection once data has arrived, saving a wake-up for idle clients.
	DeferAccept bool
	// Backlog is the listen(2) backlog; 0 means the system maximum
	// (net.core.somaxconn).
	Backlog int
	// ReusePort sets SO_REUSEPORT so that a new process can bind the same
	// address while the old one still listens (reloads with -sf). HAProxy
	// sets it unless "noreuseport" is configured.
	ReusePort bool
	// UnixMode, UnixUID and UnixGID are applied to UNIX socket files (the
	// `mode`, `uid` and `gid` bind parameters): mode 0 and ids -1 leave the
	// value alone.
	UnixMode         os.FileMode
	UnixUID, UnixGID int
	// Warn, if set, receives problems that HAProxy reports as warnings
	// rather than errors, such as a socket option the kernel refuses.
	Warn func(msg string)
}

// DefaultOptions returns the options HAProxy uses for a bind line without
// parameters: SO_REUSEPORT on, UNIX socket ownership left alone.
func DefaultOptions() Options {
	return Options{ReusePort: true, UnixUID: -1, UnixGID: -1}
}

func (o Options) warn(format string, args ...any) {
	if o.Warn != nil {
		o.Warn(fmt.Sprintf(format, args...))
	}
}

// maxBacklog asks the kernel for its maximum: listen(2) silently caps the
// backlog at net.core.somaxconn.
const maxBacklog = 65535

func (o Options) backlog() int {
	if o.Backlog > 0 {
		return o.Backlog
	}
	return maxBacklog
}

// Open opens one listener per port of a (a port range gives several, in
// port order) and returns them; on error none is left open. A hostname is
// resolved first. fd@N wraps an inherited descriptor (systemd socket
// activation, or a parent process) and takes ownership of it: descriptor N
// is closed once it has been duplicated into the listener. sockpair@N
// returns a listener whose connections are descriptors received over the
// UNIX socket N.
func Open(a netaddr.BindAddr, opt Options) ([]net.Listener, error) {
	var ln net.Listener
	var err error
	switch a.Kind {
	case netaddr.KindUnix:
		ln, err = openUnix(a.Path, opt)
	case netaddr.KindABNS:
		ln, err = openABNS(a.Path, opt)
	case netaddr.KindFD:
		ln, err = openFD(a.FD, opt)
	case netaddr.KindSockPair:
		ln, err = openSockPair(a.FD)
	default:
		return openInetRange(a, opt)
	}
	if err != nil {
		return nil, err
	}
	return []net.Listener{ln}, nil
}

func openInetRange(a netaddr.BindAddr, opt Options) ([]net.Listener, error) {
	if err := a.Resolve(context.Background()); err != nil {
		return nil, err
	}
	lns := make([]net.Listener, 0, a.Ports())
	for port := a.PortLo; port <= a.PortHi; port++ {
		ln, err := openInet(a.IP, port, opt)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// openInet creates, configures, binds and listens on one TCP socket.
//
// It goes through net.ListenConfig with KeepAlive -1 rather than through
// raw calls and net.FileListener: Go then leaves accepted sockets alone
// (a FileListener's sockets each get TCP keep-alive and its three timing
// options, four setsockopt calls per connection that HAProxy does not
// make). The options HAProxy sets before bind(2) are applied in Control.
// An IPv4-mapped IPv6 address, which ListenConfig cannot bind as IPv6,
// takes the raw path.
func openInet(ip netip.Addr, port int, opt Options) (net.Listener, error) {
	where := ip.String() + ":" + strconv.Itoa(port) // HAProxy prints v6 without brackets
	if !ip.IsValid() {
		return nil, fmt.Errorf("invalid address: '' in '%s'", where)
	}
	if ip.Is4In6() {
		return openInetRaw(ip, port, opt, where)
	}
	network, family := "tcp4", unix.AF_INET
	if ip.Is6() {
		network, family = "tcp6", unix.AF_INET6
	}
	lc := net.ListenConfig{
		KeepAlive: -1,
		Control: func(_, _ string, rc syscall.RawConn) error {
			var err error
			if cerr := rc.Control(func(fd uintptr) { err = setInetOptions(int(fd), family, opt) }); cerr != nil {
				return cerr
			}
			return err
		},
	}
	ln, err := lc.Listen(context.Background(), network, netip.AddrPortFrom(ip, uint16(port)).String())
	if err != nil {
		return nil, listenErr(err, "for ["+where+"]")
	}
	if opt.Backlog > 0 {
		// Go listens with the system maximum; listen(2) again only
		// changes the backlog of a listening socket.
		if err := relisten(ln.(*net.TCPListener), opt.Backlog); err != nil {
			ln.Close()
			return nil, sockErr("cannot listen to socket", err, "for ["+where+"]")
		}
	}
	return ln, nil
}

// listenErr turns net.ListenConfig's error into HAProxy's message for the
// step that failed.
func listenErr(err error, where string) error {
	var oe *optErr
	if errors.As(err, &oe) {
		return sockErr(oe.msg, oe.err, where)
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		switch se.Syscall {
		case "socket":
			return sockErr("cannot create listening socket", se.Err, where)
		case "bind":
			return sockErr("cannot bind socket", se.Err, where)
		case "listen":
			return sockErr("cannot listen to socket", se.Err, where)
		}
		return sockErr("cannot "+se.Syscall+" socket", se.Err, where)
	}
	return sockErr("cannot bind socket", err, where)
}

func relisten(ln *net.TCPListener, backlog int) error {
	rc, err := ln.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = unix.Listen(int(fd), backlog) }); err != nil {
		return err
	}
	return lerr
}

// openInetRaw is openInet with raw system calls and net.FileListener.
// Sockets accepted from such a listener have Go's keep-alive settings;
// the accept loop turns them off (see rawListeners).
func openInetRaw(ip netip.Addr, port int, opt Options, where string) (net.Listener, error) {
	family, sa := inetSockaddr(ip, port)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return nil, sockErr("cannot create listening socket", err, "for ["+where+"]")
	}
	if err := setInetOptions(fd, family, opt); err != nil {
		unix.Close(fd)
		return nil, sockErr(err.Error(), errors.Unwrap(err), "for ["+where+"]")
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, sockErr("cannot bind socket", err, "for ["+where+"]")
	}
	if err := unix.Listen(fd, opt.backlog()); err != nil {
		unix.Close(fd)
		return nil, sockErr("cannot listen to socket", err, "for ["+where+"]")
	}
	return fileListener(fd, "bind "+where)
}

// inetSockaddr converts an address to the socket family and address that
// bind(2) needs; IPv4-mapped IPv6 addresses stay IPv6, as written.
func inetSockaddr(ip netip.Addr, port int) (int, unix.Sockaddr) {
	if ip.Is4() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: port, Addr: ip.As4()}
	}
	return unix.AF_INET6, &unix.SockaddrInet6{Port: port, Addr: ip.As16()}
}

// optErr is a socket option failure: the message names the option and
// wraps the errno.
type optErr struct {
	msg string
	err error
}

func (e *optErr) Error() string { return e.msg }
func (e *optErr) Unwrap() error { return e.err }

// setInetOptions applies the options HAProxy sets before bind(2).
// SO_REUSEADDR is always set so that restarts do not wait for TIME_WAIT.
func setInetOptions(fd, family int, opt Options) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return &optErr{"cannot do so_reuseaddr", err}
	}
	if opt.ReusePort {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return &optErr{"cannot do so_reuseport", err}
		}
	}
	if family == unix.AF_INET6 {
		// Go sets IPV6_V6ONLY on every IPv6 socket it creates; without
		// v6only or v4v6 the system default applies, as in HAProxy.
		asked := opt.V6Only || opt.V4V6
		v6only := opt.V6Only || !asked && sysBindV6Only()
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, boolInt(v6only)); err != nil && asked {
			return &optErr{"cannot set IPV6_V6ONLY", err}
		}
	}
	if opt.DeferAccept {
		// Defer accept by up to one second, like HAProxy; a failure is
		// only a warning there.
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 1); err != nil {
			opt.warn("cannot enable DEFER_ACCEPT (%s)", strerror(err))
		}
	}
	return nil
}

// sysBindV6Only reads net.ipv6.bindv6only, the default of IPV6_V6ONLY.
var sysBindV6Only = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/proc/sys/net/ipv6/bindv6only")
	return err == nil && len(b) > 0 && b[0] == '1'
})

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fileListener hands a listening descriptor to the net package. The
// descriptor is duplicated by net.FileListener, so the original is closed
// here whatever happens.
func fileListener(fd int, name string) (net.Listener, error) {
	f := os.NewFile(uintptr(fd), name)
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("cannot use listening socket [%s]: %w", name, err)
	}
	if tl, ok := ln.(*net.TCPListener); ok {
		rawListeners.Store(tl, struct{}{})
	}
	return ln, nil
}

// rawListeners holds the TCP listeners made by net.FileListener, whose
// accepted sockets come with Go's TCP keep-alive on. The accept loop turns
// it off for them, so that every accepted socket starts without
// keep-alive, as in HAProxy, whatever the listener's origin.
var rawListeners sync.Map // *net.TCPListener -> struct{}

// keepAliveOn reports whether ln's accepted sockets have Go's keep-alive
// on, and forgets ln when forget is set.
func keepAliveOn(ln net.Listener, forget bool) bool {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return false
	}
	if forget {
		_, on := rawListeners.LoadAndDelete(tl)
		return on
	}
	_, on := rawListeners.Load(tl)
	return on
}

// openFD adopts an inherited descriptor after the checks HAProxy makes
// (it must be a bound stream socket), and makes it listen if it is not yet.
func openFD(fd int, opt Options) (net.Listener, error) {
	if _, err := unix.Getsockname(fd); err != nil {
		return nil, fmt.Errorf("cannot use file descriptor '%d' : %s.", fd, strerror(err))
	}
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil || typ != unix.SOCK_STREAM {
		return nil, fmt.Errorf("socket on file descriptor '%d' is of the wrong type.", fd)
	}
	where := "fd@" + strconv.Itoa(fd)
	if opt.DeferAccept {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 1); err != nil {
			opt.warn("cannot enable DEFER_ACCEPT (%s)", strerror(err))
		}
	}
	if on, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || on == 0 {
		if err := unix.Listen(fd, opt.backlog()); err != nil {
			return nil, sockErr("cannot listen to socket", err, "for ["+where+"]")
		}
	}
	return fileListener(fd, where)
}

// sockErr formats HAProxy's "<what> (<strerror>) <where>" messages and
// keeps the errno reachable with errors.Is.
func sockErr(what string, err error, where string) error {
	return &sockError{msg: what + " (" + strerror(err) + ") " + where, err: err}
}

type sockError struct {
	msg string
	err error
}

func (e *sockError) Error() string { return e.msg }
func (e *sockError) Unwrap() error { return e.err }

// strerror renders an errno as glibc's strerror() does (Go's texts are the
// same but start with a lower-case letter).
func strerror(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		if err == nil {
			return "unknown error"
		}
		return err.Error()
	}
	s := errno.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
