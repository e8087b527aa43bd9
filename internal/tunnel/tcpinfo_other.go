//go:build !linux

package tunnel

import "time"

// sockInfo is unavailable outside Linux: sockets are reported as always
// active, so inactivity timeouts are not enforced there.
func sockInfo(Conn) (idle, sent time.Duration, dead, ok bool) {
	return 0, 0, false, false
}

// PeerEnded cannot tell outside Linux.
func PeerEnded(fd int) (fin, reset bool) { return false, false }
