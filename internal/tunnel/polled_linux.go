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
// An accepted connection joins Go's poller only when a read or write
// first has to wait. Until then its reads and writes are system calls
// on the descriptor and its deadlines are only noted. A client whose
// request is there when it is accepted and that takes its whole reply at
// once (a connection per request, the common case on a fast network)
// costs no poller registration and no removal from the poller's epoll
// set at close, as with HAProxy. The socket joins the poller through the
// runtime's own calls (netpoll_linux.go), without an os.File.
//
// Reads and writes are tried on the descriptor first, and wait in the
// poller when it has nothing, or no room; ReadAfterWait waits first.
type Polled struct {
	fd  int
	pd  atomic.Uintptr // Go's poller's descriptor, once the socket joined it
	rap netip.AddrPort // the peer: kept as a value, made a net.Addr only when asked

	// mu is read-locked while a call uses fd or pd, and locked to close
	// the socket, so that it is not closed under a call. A waiting call
	// is ended by Close's unblocking the poller's descriptor first
	// (unblocked).
	mu        sync.RWMutex
	regMu     sync.Mutex // held to join the poller and to set a deadline
	closed    atomic.Bool
	unblocked atomic.Bool
	rdl, wdl  atomic.Int64 // deadlines, Unix nanoseconds; 0: none
	// rmu and wmu let one read and one write wait at a time, as the
	// poller requires.
	rmu, wmu sync.Mutex

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
	if timeout > 0 {
		p.SetWriteDeadline(time.Now().Add(timeout))
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { p.SetWriteDeadline(time.Unix(1, 0)) })
	}
	// The socket's TCP state says whether the connection is made by now,
	// still being made (wait until it turns writable, then look again),
	// or refused (its SO_ERROR says why).
	var soerr error
	werr := polledRaw{p}.Write(func(fd uintptr) bool {
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
			p.SetWriteDeadline(time.Time{})
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
// noted so far; it is called with mu read-locked, so that a call waiting
// in the poller on the other direction does not hold it up, and regMu
// keeps deadlines from changing meanwhile. Registering reports the
// socket's present readiness, so a wait may follow at once.
func (p *Polled) register() error {
	if p.pd.Load() != 0 {
		return nil
	}
	p.regMu.Lock()
	defer p.regMu.Unlock()
	if p.closed.Load() {
		return net.ErrClosed
	}
	if p.pd.Load() != 0 {
		return nil
	}
	netpollInit.Do(runtimePollServerInit)
	pd, errno := runtimePollOpen(uintptr(p.fd))
	if errno != 0 {
		return os.NewSyscallError("epoll_ctl", syscall.Errno(errno))
	}
	if dl := p.rdl.Load(); dl != 0 {
		runtimePollSetDeadline(pd, pollDeadline(dl), 'r')
	}
	if dl := p.wdl.Load(); dl != 0 {
		runtimePollSetDeadline(pd, pollDeadline(dl), 'w')
	}
	p.pd.Store(pd)
	return nil
}

// pollDeadline is the deadline dl (Unix nanoseconds, not 0) as the
// poller takes it: the time left, -1 once it has passed.
func pollDeadline(dl int64) int64 {
	d := dl - time.Now().UnixNano()
	if d <= 0 {
		return -1
	}
	return d
}

// passed reports whether the deadline noted in dl has passed: a call
// then fails before it is tried, as a net.Conn's does.
func passed(dl *atomic.Int64) bool {
	d := dl.Load()
	return d != 0 && d <= time.Now().UnixNano()
}

// wait runs the non-blocking call f on the descriptor until it is done,
// waiting in Go's poller (mode 'r' or 'w') each time it is not. With
// waitFirst, it waits before the first call: readiness the poller
// reported since the last wait is kept, so that a wait returns at once
// if the socket became ready meanwhile. A deadline (dl) that has passed
// fails the call before f runs, as a net.Conn's does.
func (p *Polled) wait(mode int, dl *atomic.Int64, f func(fd int) bool, waitFirst bool) error {
	m := &p.rmu
	if mode == 'w' {
		m = &p.wmu
	}
	m.Lock()
	defer m.Unlock()
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed.Load() {
		return net.ErrClosed
	}
	if waitFirst && p.pd.Load() == 0 {
		waitFirst = false // readiness is known only once in the poller
	}
	if !waitFirst && passed(dl) {
		return os.ErrDeadlineExceeded
	}
	notPollable := false
	for {
		if !waitFirst {
			if f(p.fd) {
				return nil
			}
		}
		waitFirst = false
		if err := p.register(); err != nil {
			return err
		}
		if p.closed.Load() {
			// Close may have looked for the poller's descriptor before
			// register stored it: it unblocks it only once it can lock
			// mu, after this call.
			return net.ErrClosed
		}
		switch runtimePollWait(p.pd.Load(), mode) {
		case pollNoError:
			notPollable = false
		case pollErrClosing:
			return net.ErrClosed
		case pollErrTimeout:
			return os.ErrDeadlineExceeded
		default:
			// pollErrNotPollable: the poller saw only an error on the
			// socket; the call finds out which.
			if notPollable {
				return errors.ErrUnsupported
			}
			notPollable = true
		}
	}
}

// Read and Write wait in Go's poller when they must, with errors as the
// net package reports them.
func (p *Polled) Read(b []byte) (int, error) {
	var n int
	var rerr error
	err := p.wait('r', &p.rdl, func(fd int) bool {
		n, rerr = RawRead(uintptr(fd), b)
		return rerr != unix.EAGAIN
	}, false)
	switch {
	case err != nil:
		return 0, p.opErr("read", err)
	case rerr != nil:
		return 0, p.opErr("read", rerr)
	case n == 0 && len(b) > 0:
		return 0, io.EOF
	}
	return n, nil
}

func (p *Polled) Write(b []byte) (int, error) {
	total := 0
	var werr error
	err := p.wait('w', &p.wdl, func(fd int) bool {
		for total < len(b) {
			n, err := RawWrite(uintptr(fd), b[total:])
			if err == unix.EAGAIN {
				return false
			}
			if err != nil {
				werr = err
				return true
			}
			total += n
		}
		return true
	}, false)
	if err == nil {
		err = werr
	}
	return total, p.opErr("write", err)
}

// opErr puts a call's error in the net package's form, which code above
// relies on: crypto/tls, for one, gives up on a connection whose read
// failed unless the error is a net.Error that says it is temporary, as
// a deadline's is.
func (p *Polled) opErr(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if e, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError(op, e)
	}
	return &net.OpError{Op: op, Net: "tcp", Addr: p.raddr(), Err: err}
}

// Close closes the socket, taking it out of Go's poller if it joined it.
// A call waiting on it returns net.ErrClosed.
func (p *Polled) Close() error {
	if p.closed.Swap(true) {
		return p.opErr("close", net.ErrClosed)
	}
	p.unblock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if pd := p.pd.Load(); pd != 0 {
		p.unblock() // joined the poller since
		runtimePollClose(pd)
	}
	if err := rawClose(p.fd); err != nil {
		return p.opErr("close", err)
	}
	return nil
}

// unblock wakes the calls waiting in the poller, once: they find the
// socket closed.
func (p *Polled) unblock() {
	if pd := p.pd.Load(); pd != 0 && p.unblocked.CompareAndSwap(false, true) {
		runtimePollUnblock(pd)
	}
}

// control runs f with the descriptor, as Sock's control does.
func (p *Polled) control(f func(fd int) error) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed.Load() {
		return net.ErrClosed
	}
	return f(p.fd)
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

// SetDeadline and the others bound the waits of Read and Write.
func (p *Polled) SetDeadline(t time.Time) error {
	if err := p.SetReadDeadline(t); err != nil {
		return err
	}
	return p.SetWriteDeadline(t)
}

func (p *Polled) SetReadDeadline(t time.Time) error { return p.setDeadline(t, &p.rdl, 'r') }

func (p *Polled) SetWriteDeadline(t time.Time) error { return p.setDeadline(t, &p.wdl, 'w') }

// SetReadDeadlineFromRaw is SetReadDeadline for a function that the
// socket's RawConn Read is running: it takes no lock that call holds.
func (p *Polled) SetReadDeadlineFromRaw(t time.Time) { p.setDeadlineLocked(t, &p.rdl, 'r') }

func (p *Polled) setDeadline(t time.Time, dl *atomic.Int64, mode int) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed.Load() {
		return p.opErr("set deadline", net.ErrClosed)
	}
	p.setDeadlineLocked(t, dl, mode)
	return nil
}

// setDeadlineLocked notes the deadline and gives it to the poller, with
// mu read-locked. The poller is given the time left on t's monotonic
// clock, as internal/poll does, so that a step of the wall clock moves
// no deadline already set.
func (p *Polled) setDeadlineLocked(t time.Time, dl *atomic.Int64, mode int) {
	p.regMu.Lock()
	defer p.regMu.Unlock()
	dl.Store(deadline(t))
	if pd := p.pd.Load(); pd != 0 && !p.closed.Load() {
		var d int64
		if !t.IsZero() {
			if d = int64(time.Until(t)); d <= 0 {
				d = -1
			}
		}
		runtimePollSetDeadline(pd, d, mode)
	}
}

// SyscallConn gives raw access; its Read and Write wait in Go's poller.
func (p *Polled) SyscallConn() (syscall.RawConn, error) { return polledRaw{p}, nil }

// polledRaw is a Polled's syscall.RawConn.
type polledRaw struct{ p *Polled }

func (r polledRaw) Control(f func(fd uintptr)) error {
	return r.p.control(func(fd int) error { f(uintptr(fd)); return nil })
}

func (r polledRaw) Read(f func(fd uintptr) bool) error {
	return r.p.wait('r', &r.p.rdl, func(fd int) bool { return f(uintptr(fd)) }, false)
}

func (r polledRaw) Write(f func(fd uintptr) bool) error {
	return r.p.wait('w', &r.p.wdl, func(fd int) bool { return f(uintptr(fd)) }, false)
}

// ReadAfterWait is Read for a read that expects nothing yet (the answer
// to a message just sent): once the socket is in Go's poller, f is first
// called when the poller has reported the socket readable since the last
// wait, so that no read finds nothing. Before, f is tried first.
func (r polledRaw) ReadAfterWait(f func(fd uintptr) bool) error {
	return r.p.wait('r', &r.p.rdl, func(fd int) bool { return f(uintptr(fd)) }, true)
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
