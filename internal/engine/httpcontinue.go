package engine

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"sluice/internal/h1"
	"sluice/internal/logfmt"
)

// awaitContinue sends the head of a request that expects 100 Continue and
// waits for whichever speaks first: the server (its 100 Continue goes to
// the client at once, as HAProxy forwards interim responses; a final
// response is relayed without the body, and the client connection closes
// after it) or the client (sending its body without waiting). done means
// the transaction ended here, with out and retry as forwardTxn returns
// them.
func (s *stream) awaitContinue(cli *hconn, t *httpTxn, sc *srvConn, w *bodyWriter) (out outcome, done, retry bool) {
	feT := s.fe.cfg.Timeouts
	err := w.flush()
	if err != nil {
		sc.c.Close()
		t.sc = nil
		if t.reusedConn {
			return closeConn, true, true
		}
		s.httpError(cli, t, 502, logfmt.CauseServerAbort, logfmt.PhaseHeaders)
		return closeConn, true, false
	}
	if !waitServerFirst(rawConn(s.client), sc.c, feT.Client) {
		return 0, false, false // the client goes on: relay its body
	}
	if _, err := sc.fill(deadline(time.Now(), s.be.cfg.Timeouts.Server)); err != nil {
		return 0, false, false // relayResponse will see the failure
	}
	var head h1.Head
	n, perr := h1.ParseResponse(sc.pending(), &head, false, h1.Limits{MaxFields: s.fe.maxHdr, Lax: s.be.laxRes})
	switch {
	case perr != nil:
		// Incomplete or bad: relayResponse reads it again after the body.
		return 0, false, false
	case head.Status() >= 100 && head.Status() < 200 && head.Status() != 101:
		wb := head.AppendResponseCase(make([]byte, 0, n+16), s.fe.caseCli)
		t.bytesOut += head.HTXSize()
		sc.consume(n)
		if _, err := cli.send(wb, feT.Client); err != nil {
			sc.c.Close()
			t.sc = nil
			t.cause, t.phase = clientCause(err), logfmt.PhaseData
			s.logHTTP(t)
			return closeConn, true, false
		}
		return 0, false, false
	}
	// A final answer before the body (417, 413, a redirect...): the body
	// will not follow on this server connection, nor, unread, on the
	// client's.
	t.req.Conn |= h1.ConnClose
	out, retry = s.relayResponse(cli, t, sc, true)
	return out, true, retry
}

// clearTextWaiting reports whether a TLS client's clear text is at hand
// already: records crypto/tls read off the socket but did not decode
// yet, which poll(2) on the socket cannot see. What it finds waits in
// the connection for the stream's next read.
func clearTextWaiting(c net.Conn) bool {
	tc, ok := c.(*tlsClient)
	if !ok {
		return false
	}
	// A deadline already past reads only what is buffered.
	b, _ := tc.readAhead(time.Now(), 4096)
	return len(b) > 0
}

// waitServerFirst waits until the server or the client has something to
// read, up to timeout; it reports whether the server spoke (or failed)
// while the client had sent nothing.
func waitServerFirst(client net.Conn, server net.Conn, timeout time.Duration) bool {
	cfd, sfd := rawFD(client), rawFD(server)
	if cfd < 0 || sfd < 0 {
		return false
	}
	ms := -1
	if timeout > 0 {
		ms = int(timeout / time.Millisecond)
	}
	fds := []unix.PollFd{{Fd: int32(cfd), Events: unix.POLLIN}, {Fd: int32(sfd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return false
		}
		return fds[0].Revents == 0 && fds[1].Revents != 0
	}
}

// rawFD is a connection's descriptor, -1 when it has none.
func rawFD(c net.Conn) int {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}
