package engine

import (
	"time"

	"sluice/internal/logfmt"
)

// httpInspect runs a proxy's tcp-request content rules on one request of
// an http proxy. HAProxy 2.6 gives each request of a keep-alive
// connection a stream of its own and runs the rules in each stream's
// tcp_inspect_request analyser: the frontend's first (front set), before
// the request's captures, monitor-uri and http-request rules; the
// backend's once the switching rules chose it, before its http-request
// rules. The request head is parsed by then (the H1 multiplexer hands
// HAProxy's stream a whole head), so Layer 7 fetches see it; req.len is
// its HTX size and the payload fetches find nothing.
//
// A rule that cannot decide yet (req.len may still grow) waits, within
// the proxy's inspect-delay, for more of the body; a request received
// whole, a full buffer, a closed client or the expired delay make the
// decision final. It reports false when a reject or silent-drop ended the
// transaction: the connection closes without a response and the line is
// logged as HAProxy logs it (status -1, "PR", no %TR; a frontend's reject
// comes before the request was captured: <BADREQ>, empty capture slots).
func (s *stream) httpInspect(cli *hconn, t *httpTxn, rs *ruleSet, front bool) bool {
	final := rs.inspectDelay <= 0
	var dl time.Time
	if !final {
		dl = time.Now().Add(rs.inspectDelay)
	}
	s.smp.Payload = nil
	if rs.setsAddr {
		s.keepAddrs(t)
	}
	for {
		complete, _, body := bufferedBody(cli, t)
		s.smp.HTXBody = body
		s.exposeBody(cli, t)
		s.smp.Final = final || complete
		v := run(rs.content, &s.smp, nil)
		switch v {
		case verdictAccept:
			s.smp.Final = true
			return true
		case verdictWait:
			final = inspectMore(cli, dl)
			continue
		}
		if v == verdictDrop {
			silentDrop(s.client)
		}
		t.bytesIn += body
		t.status, t.cause, t.phase = -1, logfmt.CauseProxy, logfmt.PhaseRequest
		t.tReq = logfmt.NotReached
		t.l7.dropped = true
		if front {
			t.reqLine = t.reqLine[:0]
			s.smp.Caps.Reset(len(s.fe.reqCaps), len(s.fe.resCaps))
			t.l7.captured = true
		}
		s.logHTTP(t)
		return false
	}
}

// inspectMore reads more of the request body into the client buffer, by
// dl. It reports whether the rules must decide now, on what is there:
// the delay expired, the buffer is full, or the client closed or failed
// (forwarding the body finds out).
func inspectMore(cli *hconn, dl time.Time) bool {
	if !time.Now().Before(dl) {
		return true
	}
	_, err := cli.fill(dl)
	return err != nil
}
