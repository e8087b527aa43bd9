package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Polled is a TCP connection that Sluice opened (DialPolled) or accepted
// (PolledListener) itself, with fewer system calls and less work than the
// net package's, and then handed to Go's network poller (through
// os.File) rather than to a relay poller: a goroutine that waits on it is
// woken by the runtime directly, as the HTTP engine's goroutines want.
// Compared with a net.Dialer, dialing skips the name resolution, the
// cancellation goroutine and the getpeername and getsockname calls; the
// peer's address is the one dialed, the local one is asked of the kernel
// only if LocalAddr is called.
type Polled struct {
	f     *os.File
	raw   syscall.RawConn
	raddr *net.TCPAddr

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
	raddr := net.TCPAddrFromAddrPort(addr)
	family := unix.AF_INET
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: int(addr.Port()), Addr: ip.As4()}
	if ip.Is6() {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return nil, dialErr(raddr, os.NewSyscallError("socket", err))
	}
	_ = rawSetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	for {
		err = rawConnect(fd, sa)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil && err != unix.EINPROGRESS {
		rawClose(fd)
		return nil, dialErr(raddr, os.NewSyscallError("connect", err))
	}
	// A non-blocking descriptor joins Go's poller.
	f := os.NewFile(uintptr(fd), "tcp")
	raw, rerr := f.SyscallConn()
	if rerr != nil {
		f.Close()
		return nil, dialErr(raddr, rerr)
	}
	p := &Polled{f: f, raw: raw, raddr: raddr}
	if err == nil {
		return p, nil
	}
	if timeout > 0 {
		f.SetWriteDeadline(time.Now().Add(timeout))
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Unix(1, 0)) })
	}
	// The socket's TCP state says whether the connection is made (often
	// already, on loopback), still being made (wait until it turns
	// writable, then look again), or refused (its SO_ERROR says why). The
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
		f.Close()
		return nil, dialErr(raddr, ctx.Err())
	}
	if werr == nil && soerr == nil {
		if timeout > 0 {
			f.SetWriteDeadline(time.Time{})
		}
		return p, nil
	}
	f.Close()
	if werr != nil {
		if errors.Is(werr, os.ErrDeadlineExceeded) {
			return nil, dialErr(raddr, os.ErrDeadlineExceeded)
		}
		return nil, dialErr(raddr, werr)
	}
	return nil, dialErr(raddr, os.NewSyscallError("connect", soerr))
}

// Read and Write are the file's, waiting in Go's poller, with errors as
// the net package reports them.
func (p *Polled) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	return n, p.opErr("read", err)
}

func (p *Polled) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	return n, p.opErr("write", err)
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
	return &net.OpError{Op: op, Net: "tcp", Addr: p.raddr, Err: err}
}

// Close closes the socket and takes it out of Go's poller.
func (p *Polled) Close() error { return p.f.Close() }

// control runs f with the descriptor, as Sock's control does.
func (p *Polled) control(f func(fd int) error) error {
	var err error
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
func (p *Polled) RemoteAddr() net.Addr { return p.raddr }

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

// SetDeadline and the others bound the waits of Read and Write.
func (p *Polled) SetDeadline(t time.Time) error      { return p.f.SetDeadline(t) }
func (p *Polled) SetReadDeadline(t time.Time) error  { return p.f.SetReadDeadline(t) }
func (p *Polled) SetWriteDeadline(t time.Time) error { return p.f.SetWriteDeadline(t) }

// SyscallConn gives raw access; its Read and Write wait in Go's poller.
func (p *Polled) SyscallConn() (syscall.RawConn, error) { return p.raw, nil }

// SetKeepAlive turns TCP keep-alive probes on or off with the system's
// timings, as net.TCPConn's SetKeepAlive.
func (p *Polled) SetKeepAlive(on bool) error { return setKeepAlive(p.control, on) }

// PolledListener accepts connections from a listening TCP socket the way
// the HTTP engine wants them: accept4(2) straight into a non-blocking
// socket with TCP_NODELAY that joins Go's poller (a Polled), waiting in
// Go's poller while none is waiting. Go's net package would also ask
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
	f := os.NewFile(uintptr(fd), "tcp")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	p := &Polled{f: f, raw: raw, raddr: sockaddrTCP(&l.rsa)}
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
