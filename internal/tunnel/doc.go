// Package tunnel implements the Layer 4 relay that HAProxy performs in
// "mode tcp" (and for any stream that became a tunnel) once both the client
// and the server connection exist: bytes flow both ways untouched until both
// directions are done.
//
// Design choices, and why:
//
//   - Small messages (request/response exchanges) are moved with read and
//     write through a pooled 16 KiB buffer, taken only once data is
//     readable; a read that fills the buffer switches the direction to
//     io.Copy between the raw sockets, which Linux turns into splice(2)
//     through a kernel pipe (TCPConn.ReadFrom), as HAProxy's splice-auto
//     does. The connections are never wrapped: a wrapper would hide that
//     fast path.
//
//   - On Linux, an idle relay holds no goroutine: both sockets wait in an
//     epoll set shared by many relays, whose goroutine moves small
//     messages itself, and a goroutine takes a direction only while it
//     blocks writing or streams bulk data (poller_linux.go). Elsewhere each
//     direction runs on a goroutine of its own. The direction that ends
//     last closes both sockets and reports. The goroutine that set the
//     connection up can end after Start. Relay is the blocking form;
//     StartContext ends a relay from outside.
//
//   - On Linux, Dial opens server connections below the net package, as
//     HAProxy does: a non-blocking socket whose connect(2) completes in
//     the epoll set of the relay that will carry it (sock_linux.go). Go's
//     network poller never sees it, and the relay needs no registration
//     of its own for it.
//
//   - Half-close is honoured like HAProxy does: a FIN (EOF) read on one side
//     becomes a shutdown(SHUT_WR) on the other side, and the opposite
//     direction keeps flowing. Both sockets are closed once both directions
//     are done.
//
//   - A reset is propagated as a reset: when one side fails with ECONNRESET
//     (or another error) the other side is closed with SO_LINGER 0 so its
//     peer sees an RST too, and the relay ends immediately.
//
//   - Inactivity timeouts must not cost anything on the data path, and
//     splice gives no per-chunk callback where activity could be recorded.
//     Instead a single coarse timer (time.AfterFunc) wakes up only when a
//     timeout could have elapsed and asks the kernel, via TCP_INFO, how long
//     ago each socket last sent or received data (tcpi_last_data_sent /
//     tcpi_last_data_recv). If the side is still active the timer is re-armed
//     for the remaining time; otherwise the relay is aborted. Under sustained
//     traffic this is one getsockopt per side per timeout period, and no
//     deadline is ever touched on the hot path. As in HAProxy without
//     "option independent-streams", traffic in either direction on a side
//     keeps that side alive.
//
// Termination is reported in Result so that callers can build HAProxy's
// two-character termination state for the data phase ("--", "cD", "sD",
// "CD", "SD") with Result.TermFlags.
package tunnel
