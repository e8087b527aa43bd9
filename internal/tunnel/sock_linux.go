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

// Sock is a TCP connection to a server that Sluice opened itself, below
// Go's net package, the way HAProxy does: a non-blocking socket with
// TCP_NODELAY, connected without waiting, that joins a relay poller's
// epoll set as soon as connect(2) has been issued. The poller reports the
// connection's completion, and later the relay's events, so the socket
// is never registered with Go's network poller (which would add and
// remove it from another epoll set) and the addresses are not asked of
// the kernel: the peer's is the one dialed, the local one is looked up
// only if LocalAddr is called.
//
// Blocking reads and writes (used while a direction is slow or bulk, or
// before the relay starts) wait for the poller's events on channels.
type Sock struct {
	fd    int
	p     *poller
	slot  uint32
	raddr *net.TCPAddr

	// mu is read-locked while a system call uses fd, and locked to close
	// it, so that a descriptor number is never reused under a call.
	mu     sync.RWMutex
	closed atomic.Bool
	evs    atomic.Uint32 // the last events reported

	rwait, wwait chan struct{} // readiness tokens (capacity 1)

	dir     atomic.Pointer[evDir] // the relay direction reading this socket
	pending atomic.Bool           // an input event came before dir was set

	rdl, wdl atomic.Int64 // deadlines, Unix nanoseconds; 0: none

	laddrMu sync.Mutex
	laddr   *net.TCPAddr
}

// Dial connects to addr within timeout (0: no limit) or until ctx ends.
// errors.ErrUnsupported means the caller should dial some other way.
func Dial(ctx context.Context, addr netip.AddrPort, timeout time.Duration) (Conn, error) {
	return DialNear(ctx, addr, timeout, nil)
}

// DialNear is Dial for a connection that will be relayed with near: when
// near is a Sock, the new socket joins near's poller, so that the relay
// of the two is served there.
func DialNear(ctx context.Context, addr netip.AddrPort, timeout time.Duration, near Conn) (Conn, error) {
	ip := addr.Addr().Unmap()
	if ip.Zone() != "" || !ip.IsValid() {
		return nil, errors.ErrUnsupported
	}
	addr = netip.AddrPortFrom(ip, addr.Port())
	var p *poller
	if ns, ok := near.(*Sock); ok && ns.p.ref() {
		p = ns.p
	} else if p = pickPoller(); p == nil {
		return nil, errors.ErrUnsupported
	}
	family := unix.AF_INET
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: int(addr.Port()), Addr: ip.As4()}
	if ip.Is6() {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16()}
	}
	raddr := net.TCPAddrFromAddrPort(addr)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		p.unref()
		return nil, dialErr(raddr, os.NewSyscallError("socket", err))
	}
	_ = rawSetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	s := &Sock{fd: fd, p: p, raddr: raddr,
		rwait: make(chan struct{}, 1), wwait: make(chan struct{}, 1)}
	for {
		err = rawConnect(fd, sa)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		p.unref()
		return nil, dialErr(raddr, os.NewSyscallError("connect", err))
	}
	if err := p.addSock(s); err != nil {
		unix.Close(fd)
		p.unref()
		return nil, dialErr(raddr, os.NewSyscallError("epoll_ctl", err))
	}
	if err == nil {
		return s, nil
	}
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	for {
		select {
		case <-s.wwait:
		case <-expire:
			s.Close()
			return nil, dialErr(raddr, os.ErrDeadlineExceeded)
		case <-ctx.Done():
			s.Close()
			return nil, dialErr(raddr, ctx.Err())
		}
		ev := s.evs.Load()
		if ev&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			// Refused, unreachable...: the socket's error says which.
			soerr, gerr := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
			s.Close()
			if gerr == nil && soerr != 0 {
				gerr = syscall.Errno(soerr)
			} else if gerr == nil {
				gerr = unix.ECONNREFUSED
			}
			return nil, dialErr(raddr, os.NewSyscallError("connect", gerr))
		}
		if ev&unix.EPOLLOUT != 0 {
			return s, nil
		}
	}
}

func dialErr(a *net.TCPAddr, err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: a, Err: err}
}

// event is the poller reporting ev on the socket; buf is its buffer.
func (s *Sock) event(ev uint32, buf []byte) {
	s.evs.Store(ev)
	const in = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR
	if ev&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		wake(s.wwait)
	}
	if ev&in == 0 {
		return
	}
	wake(s.rwait)
	hup := ev&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0
	if d := s.dir.Load(); d != nil {
		d.ready(buf, hup)
		return
	}
	// No relay yet: note it, so that the relay looks when it starts.
	s.pending.Store(true)
	if d := s.dir.Load(); d != nil && s.pending.Swap(false) {
		d.ready(buf, hup)
	}
}

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// attach makes d, the relay direction reading the socket, receive its
// input events; one that came before is served at once.
func (s *Sock) attach(d *evDir) {
	s.dir.Store(d)
	if s.pending.Swap(false) {
		d.kick(s.evs.Load()&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0)
	}
}

var errClosed = net.ErrClosed

// wait blocks until c has a token, the socket is closed or the deadline
// dl (Unix nanoseconds, 0: none) passes.
func (s *Sock) wait(c chan struct{}, dl int64) error {
	if s.closed.Load() {
		return errClosed
	}
	if dl == 0 {
		<-c
	} else {
		d := time.Until(time.Unix(0, dl))
		if d <= 0 {
			return os.ErrDeadlineExceeded
		}
		t := time.NewTimer(d)
		select {
		case <-c:
			t.Stop()
		case <-t.C:
			return os.ErrDeadlineExceeded
		}
	}
	if s.closed.Load() {
		return errClosed
	}
	return nil
}

// io runs a non-blocking system call on the descriptor.
func (s *Sock) io(trap uintptr, b []byte) (int, error) {
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return -1, errClosed
	}
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	var n uintptr
	var e syscall.Errno
	for {
		n, _, e = unix.RawSyscall(trap, uintptr(s.fd), uintptr(p), uintptr(len(b)))
		if e != unix.EINTR {
			break
		}
	}
	s.mu.RUnlock()
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// Read reads like net.Conn's Read.
func (s *Sock) Read(b []byte) (int, error) {
	for {
		n, err := s.io(unix.SYS_READ, b)
		switch {
		case err == unix.EAGAIN:
			if err := s.wait(s.rwait, s.rdl.Load()); err != nil {
				return 0, s.opErr("read", err)
			}
			continue
		case err != nil:
			return 0, s.opErr("read", err)
		case n == 0 && len(b) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// Write writes all of b like net.Conn's Write.
func (s *Sock) Write(b []byte) (int, error) {
	total := 0
	for total < len(b) {
		n, err := s.io(unix.SYS_WRITE, b[total:])
		switch {
		case err == unix.EAGAIN:
			if err := s.wait(s.wwait, s.wdl.Load()); err != nil {
				return total, s.opErr("write", err)
			}
			continue
		case err != nil:
			return total, s.opErr("write", err)
		}
		total += n
	}
	return total, nil
}

func (s *Sock) opErr(op string, err error) error {
	if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError(op, errno)
	}
	return &net.OpError{Op: op, Net: "tcp", Addr: s.raddr, Err: err}
}

// Close closes the socket, which also takes it out of the epoll set, and
// wakes anything waiting on it.
func (s *Sock) Close() error {
	if s.closed.Swap(true) {
		return s.opErr("close", errClosed)
	}
	wake(s.rwait)
	wake(s.wwait)
	s.mu.Lock()
	err := rawClose(s.fd)
	s.fd = -1
	s.mu.Unlock()
	s.p.removeSock(s)
	if err != nil {
		return s.opErr("close", err)
	}
	return nil
}

// control runs f with the descriptor, as syscall.RawConn's Control.
func (s *Sock) control(f func(fd int) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return errClosed
	}
	return f(s.fd)
}

// CloseWrite shuts the sending side down (a FIN).
func (s *Sock) CloseWrite() error {
	return s.control(func(fd int) error { return rawShutdown(fd, unix.SHUT_WR) })
}

// SetLinger sets SO_LINGER like net.TCPConn's SetLinger.
func (s *Sock) SetLinger(sec int) error { return setLinger(s.control, sec) }

// RemoteAddr is the address dialed.
func (s *Sock) RemoteAddr() net.Addr { return s.raddr }

// LocalAddr asks the kernel for the local address the first time.
func (s *Sock) LocalAddr() net.Addr { return localAddr(&s.laddrMu, &s.laddr, s.control) }

func deadline(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// SetDeadline and the others bound the waits of Read and Write.
func (s *Sock) SetDeadline(t time.Time) error {
	s.rdl.Store(deadline(t))
	s.wdl.Store(deadline(t))
	wake(s.rwait)
	wake(s.wwait)
	return nil
}

func (s *Sock) SetReadDeadline(t time.Time) error {
	s.rdl.Store(deadline(t))
	wake(s.rwait)
	return nil
}

func (s *Sock) SetWriteDeadline(t time.Time) error {
	s.wdl.Store(deadline(t))
	wake(s.wwait)
	return nil
}

// SyscallConn gives raw access; its Read and Write wait for the poller.
func (s *Sock) SyscallConn() (syscall.RawConn, error) { return sockRaw{s}, nil }

type sockRaw struct{ s *Sock }

func (r sockRaw) Control(f func(fd uintptr)) error {
	return r.s.control(func(fd int) error { f(uintptr(fd)); return nil })
}

func (r sockRaw) Read(f func(fd uintptr) bool) error { return r.loop(f, r.s.rwait, &r.s.rdl) }

func (r sockRaw) Write(f func(fd uintptr) bool) error { return r.loop(f, r.s.wwait, &r.s.wdl) }

func (r sockRaw) loop(f func(fd uintptr) bool, c chan struct{}, dl *atomic.Int64) error {
	for {
		done := false
		if err := r.s.control(func(fd int) error { done = f(uintptr(fd)); return nil }); err != nil {
			return err
		}
		if done {
			return nil
		}
		if err := r.s.wait(c, dl.Load()); err != nil {
			return err
		}
	}
}

// copyBulk streams src to dst until EOF. Between Go's TCP connections
// io.Copy splices; a Sock on either side is spliced here, through a
// pipe, waiting on each socket's RawConn.
func copyBulk(dst, src Conn) (int64, error) {
	_, s1 := dst.(*Sock)
	_, s2 := src.(*Sock)
	if !s1 && !s2 {
		return io.Copy(dst, src) // resolves to splice for TCP and unix sockets
	}
	src_, err := src.SyscallConn()
	if err != nil {
		return 0, err
	}
	dst_, err := dst.SyscallConn()
	if err != nil {
		return 0, err
	}
	var pp [2]int
	if err := unix.Pipe2(pp[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return io.Copy(struct{ io.Writer }{dst}, struct{ io.Reader }{src})
	}
	defer unix.Close(pp[0])
	defer unix.Close(pp[1])
	const flags = unix.SPLICE_F_MOVE | unix.SPLICE_F_NONBLOCK
	var total int64
	for {
		var n int64
		var serr error
		if err := src_.Read(func(fd uintptr) bool {
			for {
				n, serr = unix.Splice(int(fd), nil, pp[1], nil, 1<<20, flags)
				if serr != unix.EINTR {
					break
				}
			}
			return serr != unix.EAGAIN
		}); err != nil {
			return total, err
		}
		if serr != nil {
			return total, os.NewSyscallError("splice", serr)
		}
		if n == 0 {
			return total, nil
		}
		for n > 0 {
			var m int64
			if err := dst_.Write(func(fd uintptr) bool {
				for {
					m, serr = unix.Splice(pp[0], nil, int(fd), nil, int(n), flags)
					if serr != unix.EINTR {
						break
					}
				}
				return serr != unix.EAGAIN
			}); err != nil {
				return total, err
			}
			if serr != nil {
				return total, os.NewSyscallError("splice", serr)
			}
			n -= m
			total += m
		}
	}
}
