package engine

import (
	"syscall"

	"sluice/internal/tunnel"
)

// park lets an idle keep-alive client wait for its next request without
// a goroutine or a buffer, as HAProxy's idle connections cost neither: the
// socket waits in a relay poller until bytes come, `timeout
// http-keep-alive` passes or Sluice stops. It reports whether the
// connection parked; its goroutine must then return, and a new one runs
// the session on when the connection wakes. A client with bytes already
// buffered, or on TLS (whose records the socket's readiness does not
// tell), is not parked.
func (s *stream) park(ss *httpSession) bool {
	if len(ss.cli.pending()) > 0 || s.e.stopping.Load() {
		return false
	}
	if _, ok := s.client.(*tlsClient); ok {
		return false
	}
	sc, ok := s.client.(syscall.Conn)
	if !ok {
		return false
	}
	ss.cli.releaseIfEmpty()
	// The last transaction's heads point into buffers that are gone: no
	// reference may keep them alive while the connection idles.
	s.smp.Req, s.smp.Res = nil, nil
	kaT, _ := s.headTimeouts()
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
