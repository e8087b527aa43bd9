package proxyproto

import (
	"errors"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Socket is a stream socket a header can be read from: *net.TCPConn or
// *net.UnixConn.
type Socket interface {
	syscall.Conn
	SetReadDeadline(time.Time) error
}

// ReadFrom reads one header from c and consumes exactly its bytes: data
// after it stays in the socket for the relay. buf must hold at least
// 536 bytes (v1, v2 with IPv6 or unix addresses and a TLV area); a longer
// v2 header is refused. The deadline (HAProxy bounds the wait with
// `timeout client`) is reported as os.ErrDeadlineExceeded.
func ReadFrom(c Socket, deadline time.Time, buf []byte) (Header, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return Header{}, err
	}
	c.SetReadDeadline(deadline)
	defer c.SetReadDeadline(time.Time{})
	var h Header
	var perr error
	seen := -1
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := unix.Recvfrom(int(fd), buf, unix.MSG_PEEK|unix.MSG_DONTWAIT)
		switch {
		case rerr == unix.EAGAIN || rerr == unix.EINTR:
			return false
		case rerr != nil:
			perr = rerr
			return true
		case n == 0:
			perr = ErrInvalid // closed before a complete header
			return true
		case n == seen:
			if PeerClosed(int(fd)) {
				perr = ErrInvalid // closed before a complete header
				return true
			}
			return false // nothing new: wait for the next readiness edge
		}
		seen = n
		var hl int
		h, hl, perr = Parse(buf[:n])
		if errors.Is(perr, ErrShort) {
			if n == len(buf) {
				perr = ErrInvalid
				return true
			}
			perr = nil
			return false
		}
		if perr == nil {
			perr = consume(int(fd), buf[:hl])
		}
		return true
	})
	if err != nil {
		return Header{}, err
	}
	return h, perr
}

// consume reads exactly the header's bytes, already in the socket.
func consume(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrInvalid
		}
		b = b[n:]
	}
	return nil
}

// PeerClosed reports whether the peer of a socket with unread data has
// shut down its side: MSG_PEEK cannot see a FIN behind pending bytes.
func PeerClosed(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0 && pfd[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
}
