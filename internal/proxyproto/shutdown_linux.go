package proxyproto

import "golang.org/x/sys/unix"

// peerShutdown reports whether the peer has shut down its sending side (or
// the socket failed), without waiting. POLLRDHUP tells it even while unread
// data is queued, which a peek cannot.
func peerShutdown(fd int) bool {
	p := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLRDHUP}}
	for {
		n, err := unix.Poll(p[:], 0)
		if err == unix.EINTR {
			continue
		}
		return err != nil || (n > 0 && p[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0)
	}
}

// PeerClosed reports whether the peer of socket fd has shut down its
// sending side, even with unread data queued ahead of the FIN. Content
// inspection uses it to stop waiting for a client that is done.
func PeerClosed(fd int) bool { return peerShutdown(fd) }
