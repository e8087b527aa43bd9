package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Polled is a TCP connection that Sluice opened (DialPolled) or accepted
// (PolledListener) itself, with fewer system calls and less work than the
// net package's, whose waits happen in Go's network poller rather than
// in a relay poller: a goroutine that waits on it is woken by the runtime
// directly, as the HTTP engine's goroutines want. Compared with a
// net.Dialer, dialing skips the name resolution, the cancellation
// goroutine and the getpeername and getsockname calls; the peer's address
// is the one dialed, the local one is asked of the kernel only if
// LocalAddr is called.
//
// An accepted connection joins Go's poller (through an os.File) only
// when a read or write first has to wait. Until then its reads and
// writes are system calls on the descriptor and its deadlines are only
// noted. A client whose request is there when it is accepted and that
// takes its whole reply at once (a connection per request, the common
// case on a fast network) costs no poller registration, no fcntl, no
// finalizer and no removal from the poller's epoll set at close, as with
// HAProxy.
type Polled struct {
	fd  int
	f   atomic.Pointer[os.File] // set once the socket has joined Go's poller
	raw syscall.RawConn         // f's, set before f
	rap netip.AddrPort          // the peer: kept as a value, made a net.Addr only when asked

	// Until f is set: mu is read-locked while a system call uses fd, and
	// locked to close it or to hand it to Go's poller, so that the
	// descriptor is never closed or registered under a call.
	mu       sync.RWMutex
	closed   atomic.Bool
	rdl, wdl atomic.Int64 // deadlines noted before f exists, Unix nanoseconds; 0: none

	laddrMu sync.Mutex
	laddr   *net.TCPAddr
}

// DialPolled connects to addr within timeout (0: no limit) or until ctx
// ends. errors.ErrUnsupported means the caller should dial some other way.
func DialPolled(ctx context.Context, addr netip.AddrPort, timeout time.Duration) (Conn, error) {
	ip := addr.Addr().Unmap()
	if ip.Zone() != "" || !ip.IsValid() {
		return nil, errors.ErrUnsupported
	}
	addr = netip.AddrPortFrom(ip, addr.Port())
	family := unix.AF_INET
	if ip.Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return nil, dialErr(net.TCPAddrFromAddrPort(addr), os.NewSyscallError("socket", err))
	}
	_ = rawSetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	for {
		err = rawConnectAddrPort(fd, addr)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil && err != unix.EINPROGRESS {
		rawClose(fd)
		return nil, dialErr(net.TCPAddrFromAddrPort(addr), os.NewSyscallError("connect", err))
	}
	// A connection being made is waited for: the descriptor joins Go's
	// poller at once.
	p := &Polled{fd: fd, rap: addr}
	if rerr := p.register(); rerr != nil {
		p.Close()
		return nil, dialErr(p.raddr(), rerr)
	}
	if err == nil {
		return p, nil
	}
	// On loopback the connection is most often made by the time
	// connect(2) returns: no deadline, cancellation or wait is set up
	// for it.
	if st, gerr := tcpState(fd); gerr == nil && st != tcpSynSent && st != tcpClose {
		return p, nil
	}
	f, raw := p.f.Load(), p.raw
	if timeout > 0 {
		f.SetWriteDeadline(time.Now().Add(timeout))
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Unix(1, 0)) })
	}
	// The socket's TCP state says whether the connection is made by now,
	// still being made (wait until it turns writable, then look again),
	// or refused (its SO_ERROR says why). The
	// state is read before each wait, not only after one: a wait starts
	// by forgetting readiness reported earlier, such as the connection's
	// completing between connect(2) and the socket joining the poller.
	var soerr error
	werr := raw.Write(func(fd uintptr) bool {
		switch st, gerr := tcpState(int(fd)); {
		case gerr != nil:
			soerr = gerr
		case st == tcpSynSent:
			return false
		case st == tcpClose:
			n, gerr := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
			switch {
			case gerr != nil:
				soerr = gerr
			case n != 0:
				soerr = syscall.Errno(n)
			default:
				soerr = unix.ECONNREFUSED
			}
		}
		return true
	})
	if stop != nil && !stop() {
		// The context ended: its deadline in the past is set, or being
		// set, whatever the outcome, so the socket is of no use.
		p.Close()
		return nil, dialErr(p.raddr(), ctx.Err())
	}
	if werr == nil && soerr == nil {
		if timeout > 0 {
			f.SetWriteDeadline(time.Time{})
		}
		return p, nil
	}
	p.Close()
	if werr != nil {
		if errors.Is(werr, os.ErrDeadlineExceeded) {
			return nil, dialErr(p.raddr(), os.ErrDeadlineExceeded)
		}
		return nil, dialErr(p.raddr(), werr)
	}
	return nil, dialErr(p.raddr(), os.NewSyscallError("connect", soerr))
}

// register hands the socket to Go's poller, once, with the deadlines
// noted so far.
func (p *Polled) register() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return net.ErrClosed
	}
	if p.f.Load() != nil {
		return nil
	}
	f := os.NewFile(uintptr(p.fd), "tcp")
	raw, err := f.SyscallConn()
	if err != nil {
		return err // not reached: a descriptor os.NewFile took has one
	}
	if dl := p.rdl.Load(); dl != 0 {
		f.SetReadDeadline(time.Unix(0, dl))
	}
	if dl := p.wdl.Load(); dl != 0 {
		f.SetWriteDeadline(time.Unix(0, dl))
	}
	p.raw = raw
	p.f.Store(f)
	return nil
}

// passed reports whether the deadline noted in dl (before the socket
// joined the poller) has passed: the call then goes through the poller,
// which fails it as a net.Conn fails a call past its deadline.
func passed(dl *atomic.Int64) bool {
	d := dl.Load()
	return d != 0 && d <= time.Now().UnixNano()
}

// direct runs the non-blocking call f on the descriptor while the socket
// is not in Go's poller: false (and nothing run) once it is.
func (p *Polled) direct(f func(fd int)) (bool, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.f.Load() != nil {
		return false, nil
	}
	if p.closed.Load() {
		return true, net.ErrClosed
	}
	f(p.fd)
	return true, nil
}

// Read and Write wait in Go's poller, with errors as the net package
// reports them.
func (p *Polled) Read(b []byte) (int, error) {
	if p.f.Load() == nil {
		if !passed(&p.rdl) {
			var n int
			var err error
			if ok, cerr := p.direct(func(fd int) { n, err = RawRead(uintptr(fd), b) }); ok {
				switch {
				case cerr != nil:
					return 0, p.opErr("read", cerr)
				case err == nil && n == 0 && len(b) > 0:
					return 0, io.EOF
				case err == nil:
					return n, nil
				case err != unix.EAGAIN:
					return 0, p.opErr("read", err)
				}
			}
		}
		if err := p.register(); err != nil {
			return 0, p.opErr("read", err)
		}
	}
	n, err := p.f.Load().Read(b)
	return n, p.opErr("read", err)
}

func (p *Polled) Write(b []byte) (int, error) {
	total := 0
	if p.f.Load() == nil {
		if !passed(&p.wdl) {
			var err error
			if ok, cerr := p.direct(func(fd int) {
				for total < len(b) {
					var n int
					if n, err = RawWrite(uintptr(fd), b[total:]); err != nil {
						return
					}
					total += n
				}
			}); ok {
				switch {
				case cerr != nil:
					return total, p.opErr("write", cerr)
				case err == nil:
					return total, nil
				case err != unix.EAGAIN:
					return total, p.opErr("write", err)
				}
			}
		}
		if err := p.register(); err != nil {
			return total, p.opErr("write", err)
		}
	}
	n, err := p.f.Load().Write(b[total:])
	return total + n, p.opErr("write", err)
}

// opErr turns the file's error into the net package's form, which code
// above relies on: crypto/tls, for one, gives up on a connection whose
// read failed unless the error is a net.Error that says it is temporary,
// as a deadline's is.
func (p *Polled) opErr(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if pe, ok := err.(*os.PathError); ok {
		err = pe.Err
	}
	switch e := err.(type) {
	case syscall.Errno:
		err = os.NewSyscallError(op, e)
	default:
		if errors.Is(err, os.ErrClosed) {
			err = net.ErrClosed
		}
	}
	return &net.OpError{Op: op, Net: "tcp", Addr: p.raddr(), Err: err}
}

// Close closes the socket, taking it out of Go's poller if it joined it.
func (p *Polled) Close() error {
	if p.closed.Swap(true) {
		return p.opErr("close", net.ErrClosed)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if f := p.f.Load(); f != nil {
		return p.opErr("close", f.Close())
	}
	if err := rawClose(p.fd); err != nil {
		return p.opErr("close", err)
	}
	return nil
}

// control runs f with the descriptor, as Sock's control does.
func (p *Polled) control(f func(fd int) error) error {
	var err error
	if p.f.Load() == nil {
		if ok, cerr := p.direct(func(fd int) { err = f(fd) }); ok {
			if cerr != nil {
				return cerr
			}
			return err
		}
	}
	if cerr := p.raw.Control(func(fd uintptr) { err = f(int(fd)) }); cerr != nil {
		return cerr
	}
	return err
}

// CloseWrite shuts the sending side down (a FIN).
func (p *Polled) CloseWrite() error {
	return p.control(func(fd int) error { return rawShutdown(fd, unix.SHUT_WR) })
}

// SetLinger sets SO_LINGER like net.TCPConn's SetLinger.
func (p *Polled) SetLinger(sec int) error { return setLinger(p.control, sec) }

// RemoteAddr is the address dialed, or the peer's as accept4 gave it.
func (p *Polled) RemoteAddr() net.Addr { return p.raddr() }

// RemoteAddrPort is RemoteAddr as a value, which costs no allocation.
func (p *Polled) RemoteAddrPort() netip.AddrPort { return p.rap }

// raddr is the peer's address as the net package gives it, nil if not
// known.
func (p *Polled) raddr() *net.TCPAddr {
	if !p.rap.IsValid() {
		return nil
	}
	return net.TCPAddrFromAddrPort(p.rap)
}

// LocalAddr asks the kernel for the local address the first time.
func (p *Polled) LocalAddr() net.Addr { return localAddr(&p.laddrMu, &p.laddr, p.control) }

// setLinger sets SO_LINGER like net.TCPConn's SetLinger, through control.
func setLinger(control func(func(fd int) error) error, sec int) error {
	l := unix.Linger{}
	if sec >= 0 {
		l.Onoff, l.Linger = 1, int32(sec)
	}
	return control(func(fd int) error { return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &l) })
}

// setKeepAlive turns TCP keep-alive probes on or off with the system's
// timings, as net.TCPConn's SetKeepAlive does.
func setKeepAlive(control func(func(fd int) error) error, on bool) error {
	return control(func(fd int) error {
		return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, boolInt(on))
	})
}

// localAddr is *cached, asked of the kernel the first time (under mu).
func localAddr(mu *sync.Mutex, cached **net.TCPAddr, control func(func(fd int) error) error) net.Addr {
	mu.Lock()
	defer mu.Unlock()
	if *cached == nil {
		var a *net.TCPAddr
		_ = control(func(fd int) error { a = sockname(fd); return nil })
		if a == nil {
			return &net.TCPAddr{}
		}
		*cached = a
	}
	return *cached
}

// TCP states, as tcpi_state gives them (the kernel's TCP_SYN_SENT and
// TCP_CLOSE).
const (
	tcpSynSent = 2
	tcpClose   = 7
)

// tcpState is the socket's TCP state (tcpi_state, the first byte of
// TCP_INFO, the only one asked for).
func tcpState(fd int) (int, error) {
	var b [8]byte
	n := uint32(len(b))
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return 0, e
	}
	return int(b[0]), nil
}

// sockname is the socket's local address, nil if the kernel cannot say.
func sockname(fd int) *net.TCPAddr {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: append(net.IP(nil), a.Addr[:]...), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: append(net.IP(nil), a.Addr[:]...), Port: a.Port}
	}
	return nil
}

// SetDeadline and the others bound the waits of Read and Write: the
// file's deadlines once the socket is in Go's poller, noted until then.
func (p *Polled) SetDeadline(t time.Time) error {
	if err := p.SetReadDeadline(t); err != nil {
		return err
	}
	return p.SetWriteDeadline(t)
}

func (p *Polled) SetReadDeadline(t time.Time) error {
	return p.setDeadline(t, &p.rdl, (*os.File).SetReadDeadline)
}

// SetReadDeadlineFromRaw is SetReadDeadline for a function that the
// socket's RawConn Read is running: it takes no lock that call holds.
func (p *Polled) SetReadDeadlineFromRaw(t time.Time) {
	if f := p.f.Load(); f != nil {
		f.SetReadDeadline(t)
		return
	}
	p.rdl.Store(deadline(t)) // under direct's read lock: register waits
}

func (p *Polled) SetWriteDeadline(t time.Time) error {
	return p.setDeadline(t, &p.wdl, (*os.File).SetWriteDeadline)
}

func (p *Polled) setDeadline(t time.Time, dl *atomic.Int64, set func(*os.File, time.Time) error) error {
	if f := p.f.Load(); f != nil {
		return set(f, t)
	}
	if ok, err := p.direct(func(int) { dl.Store(deadline(t)) }); ok {
		return err
	}
	return set(p.f.Load(), t)
}

// SyscallConn gives raw access; its Read and Write wait in Go's poller.
func (p *Polled) SyscallConn() (syscall.RawConn, error) { return polledRaw{p}, nil }

// polledRaw is a Polled's syscall.RawConn: calls on the descriptor
// directly until a wait hands the socket to Go's poller, the file's
// RawConn from then on.
type polledRaw struct{ p *Polled }

func (r polledRaw) Control(f func(fd uintptr)) error {
	if r.p.f.Load() == nil {
		if ok, err := r.p.direct(func(fd int) { f(uintptr(fd)) }); ok {
			return err
		}
	}
	return r.p.raw.Control(f)
}

func (r polledRaw) Read(f func(fd uintptr) bool) error {
	if done, err := r.first(f, &r.p.rdl); done || err != nil {
		return err
	}
	return r.p.raw.Read(f)
}

func (r polledRaw) Write(f func(fd uintptr) bool) error {
	if done, err := r.first(f, &r.p.wdl); done || err != nil {
		return err
	}
	return r.p.raw.Write(f)
}

// first tries f once on the descriptor while the socket is not in Go's
// poller (done: f needs no wait), and hands the socket to the poller if
// f has to wait, or if dl, its deadline, has passed.
func (r polledRaw) first(f func(fd uintptr) bool, dl *atomic.Int64) (done bool, err error) {
	if r.p.f.Load() != nil {
		return false, nil
	}
	if passed(dl) {
		return false, r.p.register()
	}
	ok, err := r.p.direct(func(fd int) { done = f(uintptr(fd)) })
	if !ok || done || err != nil {
		return done, err
	}
	return false, r.p.register()
}

// SetKeepAlive turns TCP keep-alive probes on or off with the system's
// timings, as net.TCPConn's SetKeepAlive.
func (p *Polled) SetKeepAlive(on bool) error { return setKeepAlive(p.control, on) }

// PolledListener accepts connections from a listening TCP socket the way
// the HTTP engine wants them: accept4(2) straight into a non-blocking
// socket with TCP_NODELAY (a Polled, which joins Go's poller when it
// first has to wait), waiting in Go's poller while none is waiting. Go's net package would also ask
// getsockname(2) and allocate its own descriptor bookkeeping; here the
// local address is the listener's when it is bound to one address, and
// is asked of the kernel only when needed for a wildcard bind.
//
// It waits on a duplicate of the listener's descriptor (the net
// package's listener does not let a raw read wait on its own), which
// Close closes.
type PolledListener struct {
	f     *os.File
	raw   syscall.RawConn
	laddr *net.TCPAddr
	// Accept's state, for the poller's callback bound once: Accept is
	// called by one goroutine at a time.
	acceptFn func(fd uintptr) bool
	rsa      unix.RawSockaddrAny
	nfd      int
	err      error
}

// ListenPolled accepts from ln's socket. The caller closes both ln and
// the PolledListener; Close ends a waiting Accept.
func ListenPolled(ln *net.TCPListener) (*PolledListener, error) {
	rc, err := ln.SyscallConn()
	if err != nil {
		return nil, err
	}
	dup := -1
	var derr error
	if err := rc.Control(func(fd uintptr) { dup, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, os.NewSyscallError("fcntl", derr)
	}
	f := os.NewFile(uintptr(dup), "listener")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	l := &PolledListener{f: f, raw: raw}
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsUnspecified() && a.IP != nil {
		l.laddr = a
	}
	l.acceptFn = l.accept
	return l, nil
}

// Close closes the duplicate descriptor; a waiting Accept returns an
// error.
func (l *PolledListener) Close() error { return l.f.Close() }

// Accept waits for a connection. Its errors are accept4's (EMFILE,
// ECONNABORTED ...), as syscall.Errno, or the listener's being closed.
func (l *PolledListener) Accept() (Conn, error) {
	l.nfd, l.err = -1, nil
	if err := l.raw.Read(l.acceptFn); err != nil {
		return nil, err
	}
	if l.err != nil {
		return nil, l.err
	}
	fd := l.nfd
	_ = rawSetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	p := &Polled{fd: fd, rap: sockaddrAddrPort(&l.rsa)}
	if l.laddr != nil {
		p.laddr = l.laddr
	}
	return p, nil
}

// accept is Accept's accept4, called with the listening socket: false
// to wait for a connection.
func (l *PolledListener) accept(fd uintptr) bool {
	for {
		n := uint32(unix.SizeofSockaddrAny)
		r, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, fd, uintptr(unsafe.Pointer(&l.rsa)),
			uintptr(unsafe.Pointer(&n)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		switch e {
		case 0:
			l.nfd = int(r)
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			l.err = e
		}
		return true
	}
}
