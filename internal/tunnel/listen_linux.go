package tunnel

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Listening is a listening TCP socket whose readiness a relay poller
// reports, so that connections are accepted the way HAProxy accepts
// them: accept4(2) straight into a non-blocking socket that joins a
// poller's epoll set, and nothing else. Go's net package would also add
// each accepted socket to the runtime's epoll set (and remove it when it
// closes), ask getsockname(2), and allocate its descriptor bookkeeping;
// a mode tcp connection needs none of it, since its relay waits in the
// poller anyway.
type Listening struct {
	p     *poller
	slot  uint32
	ready func()

	// mu is read-locked while accept4 uses fd, and locked by Close, so
	// that the listener's descriptor is never used after Close returns.
	mu     sync.RWMutex
	fd     int
	closed bool
	// laddr is the local address of every accepted socket when the
	// listener is bound to one address; nil for a wildcard bind.
	laddr *net.TCPAddr
}

// Watch registers ln in a poller: from then on ready is called, on the
// poller's goroutine, whenever connections may be waiting. It is
// edge-triggered: ready must accept until Accept reports unix.EAGAIN, or
// make sure someone else does. ready must not block. The listener stays
// ln's: Close unregisters it, and the caller closes ln after.
// errors.ErrUnsupported means the caller should accept with Go's net
// package.
func Watch(ln *net.TCPListener, ready func()) (*Listening, error) {
	rc, err := ln.SyscallConn()
	if err != nil {
		return nil, err
	}
	l := &Listening{ready: ready, fd: -1}
	if err := rc.Control(func(fd uintptr) { l.fd = int(fd) }); err != nil {
		return nil, err
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsUnspecified() && a.IP != nil {
		l.laddr = a
	}
	p := pickPoller()
	if p == nil {
		return nil, errors.ErrUnsupported
	}
	l.p = p
	p.mu.Lock()
	l.slot = p.takeSlot(nil)
	p.slots[l.slot].lst = l
	gen := p.slots[l.slot].gen
	p.mu.Unlock()
	e := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(l.slot), Pad: int32(gen)}
	if err := rawEpollCtl(p.epfd, unix.EPOLL_CTL_ADD, l.fd, &e); err != nil {
		p.mu.Lock()
		p.freeSlot(l.slot)
		p.mu.Unlock()
		p.unref()
		return nil, err
	}
	return l, nil
}

// Close takes the listener out of the poller; no ready call starts
// after it returns, and Accept fails with net.ErrClosed.
func (l *Listening) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	_ = rawEpollCtl(l.p.epfd, unix.EPOLL_CTL_DEL, l.fd, nil)
	l.mu.Unlock()
	l.p.mu.Lock()
	l.p.freeSlot(l.slot)
	l.p.mu.Unlock()
	l.p.unref()
}

// Accept takes one waiting connection without blocking: a Sock with
// TCP_NODELAY set, registered in a poller. unix.EAGAIN means none is
// waiting; other errors are accept4's (EMFILE, ECONNABORTED, ...) or
// net.ErrClosed.
func (l *Listening) Accept() (Conn, error) {
	var rsa unix.RawSockaddrAny
	n := uint32(unix.SizeofSockaddrAny)
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil, net.ErrClosed
	}
	var r uintptr
	var e syscall.Errno
	for {
		r, _, e = unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(l.fd), uintptr(unsafe.Pointer(&rsa)),
			uintptr(unsafe.Pointer(&n)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		if e != unix.EINTR {
			break
		}
	}
	l.mu.RUnlock()
	if e != 0 {
		return nil, e
	}
	fd := int(r)
	raddr := sockaddrTCP(&rsa)
	_ = rawSetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	p := pickPoller()
	if p == nil {
		rawClose(fd)
		return nil, unix.ENOMEM
	}
	s := &Sock{fd: fd, p: p, raddr: raddr, laddr: l.laddr,
		rwait: make(chan struct{}, 1), wwait: make(chan struct{}, 1)}
	if err := p.addSock(s); err != nil {
		rawClose(fd)
		p.unref()
		return nil, err
	}
	return s, nil
}

// sockaddrTCP converts what accept4 wrote; an IPv4-mapped IPv6 peer stays
// in its 16-byte form, as Go's net package reports it.
// sockaddrAddrPort is an accepted peer's address as a value, the zone
// of an IPv6 one named as sockaddrTCP names it.
func sockaddrAddrPort(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		a := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(p[0])<<8|uint16(p[1]))
	case unix.AF_INET6:
		ta := sockaddrTCP(rsa)
		ip, _ := netip.AddrFromSlice(ta.IP)
		return netip.AddrPortFrom(ip.WithZone(ta.Zone), uint16(ta.Port))
	}
	return netip.AddrPort{}
}

func sockaddrTCP(rsa *unix.RawSockaddrAny) *net.TCPAddr {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		a := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		return &net.TCPAddr{IP: net.IP{a.Addr[0], a.Addr[1], a.Addr[2], a.Addr[3]}, Port: int(p[0])<<8 | int(p[1])}
	case unix.AF_INET6:
		a := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		ip := make(net.IP, net.IPv6len)
		copy(ip, a.Addr[:])
		var zone string
		if a.Scope_id != 0 {
			if ifi, err := net.InterfaceByIndex(int(a.Scope_id)); err == nil {
				zone = ifi.Name
			}
		}
		return &net.TCPAddr{IP: ip, Port: int(p[0])<<8 | int(p[1]), Zone: zone}
	}
	return &net.TCPAddr{}
}

// SetKeepAlive turns TCP keep-alive probes on or off with the system's
// timings, as net.TCPConn's SetKeepAlive.
func (s *Sock) SetKeepAlive(on bool) error { return setKeepAlive(s.control, on) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
