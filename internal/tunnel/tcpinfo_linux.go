//go:build linux

package tunnel

import (
	"time"

	"golang.org/x/sys/unix"
)

// tcpStateClose is the kernel's TCP_CLOSE state. A socket we still hold
// open only reaches it after an RST (or a fatal error such as a
// retransmission timeout), which is how a failure is attributed to a side.
const tcpStateClose = 7

// sockInfo asks the kernel how long the socket has been without data
// traffic in either direction (idle), how long since it last sent data
// (sent), and whether it was torn down by its peer. ok is false when the
// information is unavailable (e.g. socket closed, or not TCP).
func sockInfo(c Conn) (idle, sent time.Duration, dead, ok bool) {
	raw, err := rawOf(c).SyscallConn()
	if err != nil {
		return 0, 0, false, false
	}
	var info *unix.TCPInfo
	var gerr error
	err = raw.Control(func(fd uintptr) {
		info, gerr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	})
	if err != nil || gerr != nil {
		return 0, 0, false, false
	}
	ms := min(info.Last_data_recv, info.Last_data_sent)
	return time.Duration(ms) * time.Millisecond, time.Duration(info.Last_data_sent) * time.Millisecond,
		info.State == tcpStateClose, true
}

// tcpStateCloseWait is the kernel's TCP_CLOSE_WAIT: the peer sent its
// FIN, whatever it sent before is still to be read.
const tcpStateCloseWait = 8

// PeerEnded tells from the TCP state of the socket fd whether its peer
// closed its side (fin: a FIN came, data before it may still be unread)
// or reset the connection (reset), without reading anything.
func PeerEnded(fd int) (fin, reset bool) {
	st, err := tcpState(fd)
	if err != nil {
		return false, false
	}
	return st == tcpStateCloseWait, st == tcpStateClose
}
