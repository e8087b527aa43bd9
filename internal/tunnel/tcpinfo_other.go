//go:build !linux

package tunnel

import (
	"net"
	"time"
)

// sockInfo is unavailable outside Linux: sockets are reported as always
// active, so inactivity timeouts are not enforced there.
func sockInfo(*net.TCPConn) (idle time.Duration, dead, ok bool) {
	return 0, false, false
}
