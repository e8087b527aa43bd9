package engine

import (
	"net/netip"
	"time"

	"sluice/internal/config"
)

// l7txn is what the Layer 7 features keep about one HTTP transaction.
type l7txn struct {
	// captured: the request was parsed and its captures taken; the log
	// line shows the capture slots only then.
	captured bool
	// server and tunnel are http-request set-timeout's overrides of the
	// backend's timeouts for this transaction (0: none).
	server, tunnel time.Duration
	// dropped: a reject or silent-drop ended the request before it was
	// answered or forwarded; HAProxy's log line still sees its req
	// variables then.
	dropped bool
}

// beTimeouts are the backend's timeouts as this transaction uses them.
func (s *stream) beTimeouts(t *httpTxn) config.Timeouts {
	bt := s.be.cfg.Timeouts
	if t.l7.server > 0 {
		bt.Server = t.l7.server
	}
	if t.l7.tunnel > 0 {
		bt.Tunnel = t.l7.tunnel
	}
	return bt
}

// setTimeout runs http-request set-timeout: a constant, or an expression
// read as milliseconds (a sample that is missing or not positive changes
// nothing).
func (s *stream) setTimeout(t *httpTxn, r *httpRule) {
	d := r.timeout
	if r.expr != nil {
		v := s.smp.Value()
		found, _ := r.expr.Eval(&s.smp, v)
		n, ok := v.AsInt()
		if !found || !ok || n <= 0 {
			return
		}
		d = time.Duration(n) * time.Millisecond
	}
	if r.tunnelTO {
		t.l7.tunnel = d
	} else {
		t.l7.server = d
	}
}

// beginRequest starts a transaction once its request head is parsed:
// HAProxy gives each request a stream of its own, so the transaction's
// variables and captures start empty and no backend is known yet. The
// frontend's tcp-request content rules run then, as the stream's first
// analyser, before the captures and any http-request rule.
//
// A request they reject, or one for the monitor-uri, is done there
// (done set).
func (s *stream) beginRequest(cli *hconn, t *httpTxn) (out outcome, done bool) {
	if !s.smp.FirstRequest {
		s.smp.ResetTxnVars()
	}
	s.smp.BackendName, s.smp.BackendID = "", 0
	if uri := t.req.URI(); s.fe.useProxyHdr && len(uri) > 0 && uri[0] != '/' && uri[0] != '*' {
		s.smp.ProxyAuth = true
	} else {
		s.smp.ProxyAuth = false
	}
	// Nor a server: a request answered before reaching one logs none,
	// and no retry of an earlier request.
	s.srv, s.saddr = nil, netip.AddrPort{}
	s.retries, s.redispatched, s.srvQueue, s.bkQueue = 0, false, 0, 0
	s.smp.StreamID = s.e.streams.Add(1) - 1
	s.smp.ResetUniqueID()
	s.smp.UniqueIDFormat = nil
	if s.fe.uid != nil {
		s.smp.UniqueIDFormat = s.fe.uid
	}
	_, _, s.smp.HTXBody = bufferedBody(cli, t) // req.len: the head and this
	if len(s.fe.rules.content) > 0 && !s.httpInspect(cli, t, &s.fe.rules, true) {
		return closeConn, true
	}
	s.captureRequest(t)
	return s.monitor(cli, t)
}

// requestDone runs once the request rules are over and the request is
// about to leave for a server. As HAProxy's http_process_request, it
// generates the unique id when the frontend has a format (a backend name
// is known then, a server not yet) and sends it in unique-id-header, then
// adds X-Forwarded-For and X-Original-To; req variables end there.
func (s *stream) requestDone(t *httpTxn) {
	if id, ok := s.smp.UniqueID(); ok && s.fe.uidHeader != nil {
		start := len(t.arena)
		t.arena = append(t.arena, id...)
		t.req.Add(s.fe.uidHeader, t.arenaFrom(start))
	}
	s.addForwardFor(t)
	s.addOriginalTo(t)
	s.smp.ResponseVars()
}
