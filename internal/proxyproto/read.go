//go:build unix

package proxyproto

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is what ReadFrom needs of a connection: its socket and a read
// deadline. *net.TCPConn and *net.UnixConn satisfy it.
type Conn interface {
	syscall.Conn
	SetReadDeadline(t time.Time) error
}

var errNoDeadline = errors.New("proxyproto: ReadFrom needs a deadline")

// peekHook, when set by a test, sees the byte count of every peek.
var peekHook func(m int)

// ReadFrom reads one PROXY protocol header from c and consumes exactly its
// bytes: whatever the client sent after it stays in the socket for the
// tunnel to splice. It returns the header and its length; buf[:n] holds the
// header's bytes and h's TLV values alias them.
//
// As HAProxy does (conn_recv_proxy), it peeks with recv(MSG_PEEK) into buf,
// parses, and once a whole header is there reads exactly its length. Unlike
// HAProxy 2.6, which drops a header that does not arrive in one segment
// ("Truncated PROXY protocol header received"), ReadFrom waits for the rest
// through the Go poller: the spec only allows such a rejection (§2.1) and
// TCP does not promise the segment boundary. Each wait ends with new data,
// the peer's shutdown, or deadline.
//
// deadline bounds the whole wait (HAProxy's "timeout client" on an
// accept-proxy bind); a zero deadline is an error, never "forever". ReadFrom
// leaves c's read deadline cleared. A header longer than buf fails with
// ErrTooLong: 16384 bytes matches HAProxy's default tune.bufsize, 232 fit
// any header without TLVs. buf must hold at least MaxV1Len bytes.
//
// Errors: the Parse errors for bad bytes; ErrEmpty when the peer closed
// before sending anything; ErrTruncated when it closed mid-header; an error
// wrapping os.ErrDeadlineExceeded on timeout; socket errors otherwise. The
// caller closes c on any error, as HAProxy does. Reason gives the log text.
func ReadFrom(c Conn, deadline time.Time, buf []byte) (h Header, n int, err error) {
	if len(buf) < MaxV1Len {
		panic("proxyproto: ReadFrom buffer shorter than MaxV1Len")
	}
	if deadline.IsZero() {
		return h, 0, errNoDeadline
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return h, 0, fmt.Errorf("proxyproto: %w", err)
	}
	if err := c.SetReadDeadline(deadline); err != nil {
		return h, 0, fmt.Errorf("proxyproto: %w", err)
	}
	defer c.SetReadDeadline(time.Time{})
	var r reader
	r.buf = buf
	if err := rc.Read(r.step); err != nil {
		return h, 0, fmt.Errorf("proxyproto: waiting for PROXY header: %w", err)
	}
	if r.err != nil {
		return h, 0, r.err
	}
	return r.h, r.n, nil
}

// reader is the state of one ReadFrom across poller wake-ups.
type reader struct {
	buf    []byte
	h      Header
	n      int
	err    error
	hupped bool // the peer's shutdown was seen: no more bytes will come
}

// step is the syscall.RawConn Read callback. It returns false to have the
// poller wait for the socket to become readable again, true when done.
func (r *reader) step(fd uintptr) bool {
	for {
		m, err := recvPeek(int(fd), r.buf)
		switch {
		case err == unix.EAGAIN:
			return false
		case err != nil:
			r.err = fmt.Errorf("proxyproto: recv: %w", err)
			return true
		case m == 0:
			r.err = ErrEmpty
			return true
		}
		if peekHook != nil {
			peekHook(m)
		}
		r.h, r.n, r.err = Parse(r.buf[:m])
		if r.err == nil {
			r.err = consume(int(fd), r.buf[:r.n])
			return true
		}
		if !errors.Is(r.err, ErrShort) {
			return true
		}
		if m == len(r.buf) {
			r.err = &detailError{ErrTooLong, "header longer than the receive buffer"}
			return true
		}
		if r.hupped {
			r.err = ErrTruncated
			return true
		}
		// A peek that still sees data cannot tell that the peer has shut
		// down, and the edge-triggered poller will not wake again for a
		// FIN it already reported. Ask the socket directly; after a
		// shutdown, peek once more since data may have come with the FIN.
		if peerShutdown(int(fd)) {
			r.hupped = true
			continue
		}
		return false
	}
}

// recvPeek copies what the socket holds into b without consuming it.
func recvPeek(fd int, b []byte) (int, error) {
	for {
		n, _, err := unix.Recvfrom(fd, b, unix.MSG_PEEK|unix.MSG_DONTWAIT)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

// consume reads exactly the header's bytes, already seen by a peek, out of
// the socket. Getting fewer is a socket error, as in HAProxy's eat_header.
func consume(fd int, b []byte) error {
	for {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("proxyproto: recv: %w", err)
		}
		if n != len(b) {
			return fmt.Errorf("proxyproto: recv: got %d of %d header bytes", n, len(b))
		}
		return nil
	}
}
