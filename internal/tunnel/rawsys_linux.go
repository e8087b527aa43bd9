package tunnel

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The calls below never block on a non-blocking socket, so they are made
// as raw system calls: the runtime does not mark the goroutine as being in
// a system call, and its monitor does not hand the processor to another
// thread when one of them happens to span its tick (which, with few
// processors, costs a thread wake-up and a context switch per call).

func rawClose(fd int) error {
	_, _, e := unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func rawShutdown(fd, how int) error {
	_, _, e := unix.RawSyscall(unix.SYS_SHUTDOWN, uintptr(fd), uintptr(how), 0)
	if e != 0 {
		return e
	}
	return nil
}

// rawConnect issues connect(2) for an IPv4 or IPv6 address.
func rawConnect(fd int, sa unix.Sockaddr) error {
	var p unsafe.Pointer
	var n uintptr
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		var r unix.RawSockaddrInet4
		r.Family = unix.AF_INET
		r.Port = uint16(a.Port>>8) | uint16(a.Port&0xff)<<8
		r.Addr = a.Addr
		p, n = unsafe.Pointer(&r), unix.SizeofSockaddrInet4
		return rawConnectPtr(fd, p, n)
	case *unix.SockaddrInet6:
		var r unix.RawSockaddrInet6
		r.Family = unix.AF_INET6
		r.Port = uint16(a.Port>>8) | uint16(a.Port&0xff)<<8
		r.Addr = a.Addr
		r.Scope_id = a.ZoneId
		p, n = unsafe.Pointer(&r), unix.SizeofSockaddrInet6
		return rawConnectPtr(fd, p, n)
	}
	return unix.Connect(fd, sa)
}

// rawConnectAddrPort is rawConnect for an address kept as a value, its
// sockaddr built on the stack.
func rawConnectAddrPort(fd int, a netip.AddrPort) error {
	ip := a.Addr()
	port := uint16(a.Port()>>8) | uint16(a.Port()&0xff)<<8
	if ip.Is4() {
		r := unix.RawSockaddrInet4{Family: unix.AF_INET, Port: port, Addr: ip.As4()}
		return rawConnectPtr(fd, unsafe.Pointer(&r), unix.SizeofSockaddrInet4)
	}
	r := unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: port, Addr: ip.As16()}
	return rawConnectPtr(fd, unsafe.Pointer(&r), unix.SizeofSockaddrInet6)
}

func rawConnectPtr(fd int, p unsafe.Pointer, n uintptr) error {
	_, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(p), n)
	if e != 0 {
		return e
	}
	return nil
}

func rawEpollCtl(epfd, op, fd int, e *unix.EpollEvent) error {
	_, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(e)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func rawSetsockoptInt(fd, level, opt, value int) error {
	v := int32(value)
	_, _, e := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v)), 4, 0)
	if e != 0 {
		return e
	}
	return nil
}
