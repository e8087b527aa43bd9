package engine

import (
	"errors"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"sluice/internal/tunnel"
)

// While a connection waits in a queue for a server slot, HAProxy still
// reads its client, and gives up the wait when the client aborts
// (back_may_abort_req): on a read error, or on the client's close when
// nothing it sent is waiting to be forwarded or `option abortonclose` is
// set. What that means differs by mode, as haproxy 2.6 shows:
//
//   - mode tcp: a reset ends the wait at once (logged CD, no server); a
//     close ends it (CQ) when the client sent nothing, or with
//     abortonclose whatever it sent.
//   - mode http: once a request is whole, HAProxy's HTTP/1 layer reads
//     no more until the response, so a client that leaves is not seen
//     and the request is served, abortonclose or not. While its body is
//     still coming, a close or a reset is a truncated message: the wait
//     ends (-1 CQ--) and nothing is sent.
//
// Sluice reads nothing of the client while it waits; a queueWatch
// watches the socket instead, from the moment the connection joins a
// queue until it leaves it.

var (
	// errQueueAbort: the client closed while queued (CQ).
	errQueueAbort = errors.New("client closed while queued")
	// errQueueReset: a mode tcp client reset while queued (CD).
	errQueueReset = errors.New("client reset while queued")
)

// queueWatch says how to watch one queued client. It is passed by value
// down to the queue, and copied to the heap only for a connection that
// waits: a request that never queues costs nothing.
type queueWatch struct {
	conn tunnel.Conn // nil: no watch
	// cli and t, in mode http: the client's reader and the request,
	// watched only while its body is still coming. Then any end of the
	// client ends the wait, and data from it ends the watch (the rest
	// of the body, which HAProxy would read: a close behind it is not
	// watched for).
	cli *hconn
	t   *httpTxn
	// abortOnClose: in mode tcp, a close ends the wait though data is
	// waiting to be forwarded.
	abortOnClose bool
}

// start watches the client until stop is called; aborted receives the
// error that ends the wait, if the client ends it first.
func (q *queueWatch) start() (aborted <-chan error, stop func()) {
	if q.cli != nil {
		if complete, _, _ := bufferedBody(q.cli, q.t); complete {
			return nil, func() {}
		}
	}
	rc, err := q.conn.SyscallConn()
	if err != nil {
		return nil, func() {}
	}
	ch := make(chan error, 1)
	done := make(chan struct{})
	var stopped atomic.Bool
	go func() {
		defer close(done)
		var verdict error
		rc.Read(func(fd uintptr) bool {
			if stopped.Load() {
				return true
			}
			var end bool
			verdict, end = q.judge(int(fd))
			return end
		})
		if verdict != nil {
			ch <- verdict
		}
	}()
	return ch, func() {
		stopped.Store(true)
		// A read deadline in the past ends the wait on the socket; the
		// stream's reads then set their own. The watch may have taken
		// the poller's word that the socket is readable: the next read
		// of an HTTP client reads before it waits.
		if q.cli != nil {
			q.cli.setReadDeadline(longAgo)
			<-done
			q.cli.lastFull = true
			return
		}
		q.conn.SetReadDeadline(longAgo)
		<-done
		q.conn.SetReadDeadline(time.Time{})
	}
}

// judge looks at the socket, reading nothing: the error that ends the
// wait, or whether the watch is over anyway (end); neither, to wait for
// the socket to change.
func (q *queueWatch) judge(fd int) (verdict error, end bool) {
	http := q.cli != nil
	var b [1]byte
	n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return nil, false
	case err != nil: // a reset, or another error of the connection
		if http {
			return errQueueAbort, true
		}
		return errQueueReset, true
	case n == 0: // the client's close, nothing left to read
		if http || q.abortOnClose || !q.buffered() {
			return errQueueAbort, true
		}
		return nil, true
	}
	// Data waits to be read: a close or reset behind it shows only in
	// the connection's state.
	fin, reset := tunnel.PeerEnded(fd)
	switch {
	case reset && http:
		return errQueueAbort, true
	case reset:
		return errQueueReset, true
	case fin && (http || q.abortOnClose):
		return errQueueAbort, true
	case fin || http:
		return nil, true
	}
	return nil, false // more may come, or the close
}

// buffered reports whether a mode tcp client's bytes were read ahead of
// the socket (a TLS client's content inspection): the close then leaves
// data to forward.
func (q *queueWatch) buffered() bool {
	t, ok := q.conn.(*tlsClient)
	return ok && len(t.ahead) > 0
}

// longAgo is a read deadline that has passed: it ends a wait at once.
var longAgo = time.Unix(0, 1)
