package engine

import (
	"net/netip"
	"strconv"

	"sluice/internal/config"
	"sluice/internal/h1"
	"sluice/internal/logfmt"
)

// answer sends the response a deny, return or redirect rule produced and
// logs the transaction. It reports whether the client connection stays
// open: a request body not wholly received yet closes it, as do a reply
// to a response and a client that does not keep alive.
func (s *stream) answer(cli *hconn, t *httpTxn, r *httpRule, response bool) outcome {
	if r.act == haReject || r.act == haSilentDrop {
		return s.dropClient(cli, t, r, response)
	}
	// A request side answer keeps the connection when the request body,
	// if any, was wholly received (it is skipped); a response side one
	// (the request was sent whole) when it is a return or a deny, as
	// HAProxy 2.6 replies to both without closing.
	var keep bool
	if response {
		keep = (r.act == haReturn || r.act == haDeny) && s.clientWantsKeepAlive(t)
	} else {
		keep = s.skipRequestBody(cli, t) && s.clientWantsKeepAlive(t)
	}
	if !response && (r.act == haDeny || r.act == haTarpit) {
		s.captureReqCookie(t) // HAProxy logs the cookie of a denied request
	}
	if r.act == haTarpit {
		s.tarpit(t, r)
	}
	var out []byte
	switch {
	case r.act == haRedirect:
		out = s.redirectResponse(t, r, keep)
		t.cause, t.phase = logfmt.CauseLocal, logfmt.PhaseRequest
	case r.act == haAuth:
		// The proxy's 401 page, with the realm's WWW-Authenticate; a 407
		// and Proxy-Authenticate for a request to a proxy under option
		// http-use-proxy-header.
		status, hdr := 401, "www-authenticate"
		if s.smp.ProxyAuth {
			status, hdr = 407, "proxy-authenticate"
		}
		page, cs := s.pageFor(status), s.connState(t, !keep)
		connHdr, closeAfter := page.ConnHeader(cs)
		out, _ = s.appendPage(nil, t, page, cs)
		out = withAuthenticate(out, connHdr != "", string(r.realm), hdr)
		keep = keep && !closeAfter
		t.status = status
	case r.reply.page:
		var closeAfter bool
		out, closeAfter = s.appendPage(nil, t, s.replyPage(r.reply, r.status), s.connState(t, !keep))
		keep = keep && !closeAfter
		t.status = r.status
	default:
		out = s.replyResponse(t, r, keep)
	}
	if r.act != haRedirect {
		t.cause, t.phase = logfmt.CauseLocal, logfmt.PhaseRequest
		switch {
		case r.act == haTarpit:
			t.cause, t.phase = logfmt.CauseProxy, logfmt.PhaseTarpit
		case r.act == haDeny && response:
			t.cause, t.phase = logfmt.CauseProxy, logfmt.PhaseHeaders
		case response:
			// http-response return: a local answer in place of the
			// server's, logged LH.
			t.phase = logfmt.PhaseHeaders
		case r.act == haDeny:
			t.cause = logfmt.CauseProxy
		}
	}
	if t.status == 0 {
		t.status = r.status
	}
	out = s.afterRules(t, out)
	_, err := cli.send(out, s.fe.cfg.Timeouts.Client)
	t.bytesOut += h1.ReplyHTXSize(out)
	s.logHTTP(t)
	if err != nil || !keep {
		return closeConn
	}
	return keepOpen
}

// dropClient ends the transaction of an http-request reject (the
// connection is closed, nothing is sent) or a silent-drop (it vanishes
// for the client: see silentDrop). HAProxy logs it PR, with no request
// time on the request side, and no response time on the response side,
// where the status stays the server's.
func (s *stream) dropClient(cli *hconn, t *httpTxn, r *httpRule, response bool) outcome {
	if r.act == haSilentDrop {
		silentDrop(s.client)
	}
	t.cause, t.phase = logfmt.CauseProxy, logfmt.PhaseRequest
	if response {
		t.tData = logfmt.NotReached
	} else {
		t.status, t.tReq = -1, logfmt.NotReached
		t.l7.dropped = true
		// What was received counts: the head (counted when it was read)
		// and the body's first bytes.
		s.skipRequestBody(cli, t)
	}
	s.logHTTP(t)
	return closeConn
}

// clientWantsKeepAlive: HTTP/1.1 without close, or 1.0 with keep-alive,
// and nothing closing the connection (option httpclose, a stop).
func (s *stream) clientWantsKeepAlive(t *httpTxn) bool {
	// The client's side follows the frontend's options alone, as
	// HAProxy's HTTP/1 layer does: a backend's httpclose closes only the
	// server's connection.
	if s.e.stopping.Load() || s.fe.cfg.Opt("httpclose") {
		return false
	}
	if t.req.Conn&h1.ConnClose != 0 {
		return false
	}
	return t.req.Is11() || t.req.Conn&h1.ConnKeepAlive != 0
}

func appendStatusLine(dst []byte, code int, reason string) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = append(dst, reason...)
	return append(dst, "\r\n"...)
}

func appendConnHeader(dst []byte, t *httpTxn, keep bool) []byte {
	// Sluice's own answers are HTTP/1.1: "close" when the connection
	// ends after them, "keep-alive" when it stays open for an HTTP/1.0
	// client (HAProxy's h1_update_res_conn_value).
	if v := resConnValue(keep, true, t.req.Is11()); v != nil {
		dst = append(dst, "connection: "...)
		dst = append(dst, v...)
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// forwardFor is option forwardfor: the header to add with the client's
// address, the network whose clients are exempt, and if-none.
type forwardFor struct {
	header []byte
	except netip.Prefix
	ifNone bool
}

func newForwardFor(p *config.Proxy) *forwardFor {
	o := p.Options["forwardfor"]
	if o == nil || o.Disabled {
		return nil
	}
	ff := &forwardFor{header: []byte("x-forwarded-for")}
	for i := 0; i < len(o.Args); i++ {
		switch o.Args[i] {
		case "header":
			i++
			ff.header = []byte(o.Args[i])
		case "except":
			i++
			ff.except, _ = config.ParseNet(o.Args[i])
		case "if-none":
			ff.ifNone = true
		}
	}
	return ff
}

// addForwardFor applies the backend's option forwardfor, else the
// frontend's (HAProxy: either enables it; the backend's header name wins).
func (s *stream) addForwardFor(t *httpTxn) {
	ff := s.be.forwardFor
	if ff == nil {
		ff = s.fe.forwardFor
	}
	if ff == nil {
		return
	}
	src := s.smp.Src.Addr().Unmap()
	if ff.except.IsValid() && ff.except.Contains(src) {
		return
	}
	if ff.ifNone && t.req.Lookup(string(ff.header), 0) >= 0 {
		return
	}
	start := len(t.arena)
	t.arena = src.AppendTo(t.arena)
	t.req.Add(ff.header, t.arenaFrom(start))
}

// afterRules runs the http-after-response rules (the backend's, then the
// frontend's) on a response Sluice generated (a return, a redirect, a
// deny or an error page), as HAProxy does for every response but the
// ones its HTTP/1 layer sends before a stream exists. wire is the whole
// response; the result is wire with its head rewritten.
func (s *stream) afterRules(t *httpTxn, wire []byte) []byte {
	var be []httpRule
	if s.be != nil && s.be.cfg != s.fe.cfg {
		be = s.be.httpAfter
	}
	if len(be) == 0 && len(s.fe.httpAfter) == 0 && s.fe.caseCli == nil {
		return wire
	}
	var head h1.Head
	n, err := h1.ParseResponse(wire, &head, false, h1.Limits{MaxFields: 1 << 30})
	if err != nil {
		return wire
	}
	saved := s.smp.Res
	s.smp.Res, s.smp.InResponse = &head, true
	for _, rules := range [][]httpRule{be, s.fe.httpAfter} {
		s.runHTTPRules(rules, t, &head)
	}
	s.smp.Res, s.smp.InResponse = saved, false
	t.status = head.Status()
	out := head.AppendResponseCase(make([]byte, 0, len(wire)+256), s.fe.caseCli)
	return append(out, wire[n:]...)
}
