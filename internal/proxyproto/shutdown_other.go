//go:build unix && !linux

package proxyproto

import "golang.org/x/sys/unix"

// peerShutdown reports whether the socket has hung up or failed, without
// waiting. Without POLLRDHUP a half-closed peer that left a partial header
// is only noticed at the deadline.
func peerShutdown(fd int) bool {
	p := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(p[:], 0)
		if err == unix.EINTR {
			continue
		}
		return err != nil || (n > 0 && p[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0)
	}
}

// PeerClosed reports whether the peer of socket fd has hung up.
func PeerClosed(fd int) bool { return peerShutdown(fd) }
