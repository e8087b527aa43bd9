package listener

import (
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// sockPairListener implements sockpair@N: the descriptor is one end of a
// connected UNIX socket over which a peer (another HAProxy or Sluice using
// `server ... sockpair@N`) passes the descriptors of connections it
// accepted, one per message, with SCM_RIGHTS. Each received descriptor is
// returned by Accept as if accept(2) had produced it.
type sockPairListener struct {
	c *net.UnixConn
}

// openSockPair adopts descriptor fd (closing the original once duplicated).
func openSockPair(fd int) (net.Listener, error) {
	if _, err := unix.Getsockname(fd); err != nil {
		return nil, fmt.Errorf("cannot use file descriptor '%d' : %s.", fd, strerror(err))
	}
	f := os.NewFile(uintptr(fd), fmt.Sprintf("sockpair@%d", fd))
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("cannot use file descriptor '%d' : %w", fd, err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("socket on file descriptor '%d' is of the wrong type.", fd)
	}
	return &sockPairListener{c: uc}, nil
}

// Accept waits for the next descriptor. Messages without a descriptor are
// skipped; extra descriptors in one message are closed. When the peer
// closes its end, Accept returns io.EOF, a permanent error.
func (l *sockPairListener) Accept() (net.Conn, error) {
	var buf [2]byte // HAProxy sends a 2-byte payload with each descriptor
	oob := make([]byte, unix.CmsgSpace(4*4))
	for {
		n, oobn, _, _, err := l.c.ReadMsgUnix(buf[:], oob)
		if err != nil {
			return nil, err
		}
		if n == 0 && oobn == 0 {
			return nil, io.EOF
		}
		fds := receivedFDs(oob[:oobn])
		if len(fds) == 0 {
			continue
		}
		for _, extra := range fds[1:] {
			unix.Close(extra)
		}
		f := os.NewFile(uintptr(fds[0]), "sockpair-conn")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			continue // not a socket: drop it and wait for the next one
		}
		return c, nil
	}
}

// receivedFDs extracts the descriptors of SCM_RIGHTS control messages.
func receivedFDs(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for i := range msgs {
		if got, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			fds = append(fds, got...)
		}
	}
	return fds
}

// Close closes the UNIX socket, which unblocks a pending Accept.
func (l *sockPairListener) Close() error { return l.c.Close() }

// Addr returns the local address of the UNIX socket.
func (l *sockPairListener) Addr() net.Addr { return l.c.LocalAddr() }
