package engine

import (
	"syscall"
	"time"

	"sluice/internal/tunnel"
)

// park lets an idle keep-alive client wait for its next request without
// a goroutine or a buffer, as HAProxy's idle connections cost neither: the
// socket waits in a relay poller until bytes come, `timeout
// http-keep-alive` passes or Sluice stops. It reports whether the
// connection parked; its goroutine must then return, and a new one runs
// the session on when the connection wakes. A client with bytes already
// buffered is not parked.
//
// A TLS client parks on its socket too. The grace read below goes
// through crypto/tls, which decrypts every whole record it holds before
// it reads the socket: a read that times out leaves at most part of a
// record in crypto/tls, whose rest, like any next record, can only come
// from the socket, so the socket's readiness tells all. (The timeout
// leaves the TLS connection usable: it is a temporary net.Error.)
func (s *stream) park(ss *httpSession) bool {
	if len(ss.cli.pending()) > 0 || s.e.stopping.Load() {
		return false
	}
	sc, ok := s.client.(syscall.Conn)
	if !ok {
		return false
	}
	// A busy client's next request comes within a round trip: wait a
	// moment first, so that back-to-back requests cost no park, no
	// wake-up goroutine and no allocation.
	kaT, _ := s.headTimeouts()
	grace := min(parkGrace, time.Until(deadline(ss.start, kaT)))
	// The response was just written: the next request is read once the
	// poller reports it, or, on a socket that cannot wait first, if it
	// comes while other streams run, without an empty read and a wait.
	var n int
	var err error
	if ss.cli.canWaitFirst() {
		n, err = ss.cli.fillAfterWait(time.Now().Add(grace))
	} else {
		s.yieldBeforeRead()
		n, err = ss.cli.fill(time.Now().Add(grace))
	}
	if n > 0 || !isTimeout(err) {
		return false // bytes, or an end readRequest reports
	}
	ss.cli.releaseIfEmpty()
	// The transaction kept for the next request (its heads' field lists,
	// arena) goes back to the pool: a parked client costs only what it
	// must, and the last transaction's heads, which point into buffers
	// that are gone, are forgotten.
	s.releaseTxn(ss)
	e := s.e
	e.mu.Lock()
	if e.parked == nil {
		e.parked = map[*httpSession]*tunnel.Parked{}
	}
	e.parked[ss] = nil
	e.mu.Unlock()
	k := tunnel.Park(sc, deadline(ss.start, kaT), func(timedOut bool) {
		e.mu.Lock()
		delete(e.parked, ss)
		e.mu.Unlock()
		if timedOut || e.ctx.Err() != nil {
			// An idle connection's keep-alive timeout (or a stop): it
			// closes silently, as in HAProxy.
			s.endHTTP(ss)
			return
		}
		ss.woken = true
		s.runHTTP(ss)
	})
	e.mu.Lock()
	if k == nil {
		delete(e.parked, ss)
	} else if _, waiting := e.parked[ss]; waiting {
		e.parked[ss] = k
	}
	stopping := e.stopping.Load()
	e.mu.Unlock()
	if k != nil && stopping {
		k.Cancel() // a stop that came while it parked
	}
	return k != nil
}

// parkGrace is how long a keep-alive client may stay quiet before it is
// parked. Its goroutine, with the stack serving a request grew, waits
// that long: when thousands of clients come at once and then idle, the
// stacks of those still waiting are what Sluice's memory peaks at (50ms
// cost idle clients about 0.3 KiB each in bench/http.sh's idle
// scenario).
const parkGrace = 10 * time.Millisecond

// wakeParked wakes every parked client so that it closes: a stop ends
// idle keep-alive connections at once.
func (e *Engine) wakeParked() {
	e.mu.Lock()
	ks := make([]*tunnel.Parked, 0, len(e.parked))
	for _, k := range e.parked {
		if k != nil {
			ks = append(ks, k)
		}
	}
	e.mu.Unlock()
	for _, k := range ks {
		k.Cancel()
	}
}
