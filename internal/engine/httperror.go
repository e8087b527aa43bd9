package engine

import (
	"sluice/internal/h1"
	"sluice/internal/httperr"
	"sluice/internal/logfmt"
)

// pageFor is the page a proxy answers code with: the backend's own, the
// frontend's own (errorfile, errorfiles, http-error), or HAProxy's
// built-in one.
func (s *stream) pageFor(code int) *httperr.Page {
	var be *httperr.Set
	if s.be != nil {
		be = s.be.cfg.ErrorPages
	}
	fe := s.fe.cfg.ErrorPages
	if be == nil {
		be = fe
	}
	if p := httperr.Lookup(be, fe, code); p != nil {
		return p
	}
	return httperr.Default(500)
}

// connState describes the transaction for the page's connection header.
func (s *stream) connState(t *httpTxn, forceClose bool) httperr.ConnState {
	return httperr.ConnState{
		ClientClose: forceClose || t.req.Conn&h1.ConnClose != 0 || (!t.req.Is11() && t.req.Conn&h1.ConnKeepAlive == 0),
		ReqHTTP10:   t.req.Major == 1 && t.req.Minor == 0,
		HTTPClose:   s.fe.cfg.Opt("httpclose"),
		Stopping:    s.e.stopping.Load(),
		Head:        string(t.req.Method()) == "HEAD",
	}
}

// httpError answers the client with the error page for status, logs the
// transaction with the given termination state, and leaves the
// connection to be closed. Errors found while reading the request (a
// malformed or late request) get HAProxy's raw built-in message, as its
// HTTP/1 layer sends them before any proxy rule applies.
func (s *stream) httpError(cli *hconn, t *httpTxn, status int, cause logfmt.Cause, phase logfmt.Phase) {
	if phase == logfmt.PhaseRequest && (status == 400 || status == 408 || status == 413 || status == 422) {
		// HAProxy's HTTP/1 layer sends these itself: no request and no
		// response entered a stream, %U and %B stay 0.
		cli.send(httperr.Builtin(status), s.fe.cfg.Timeouts.Client)
		t.bytesIn = 0
		s.logError(t, status, cause, phase)
		return
	}
	s.streamError(cli, t, status, cause, phase)
}

// streamError answers with an error page as HAProxy's stream makes it
// (the proxy's errorfile, http-after-response rules), the client
// connection to be closed.
func (s *stream) streamError(cli *hconn, t *httpTxn, status int, cause logfmt.Cause, phase logfmt.Phase) {
	page, _ := s.appendPage(nil, t, s.pageFor(status), s.connState(t, true))
	t.status = status
	page = s.afterRules(t, page)
	s.sendError(cli, t, page, t.status, cause, phase) // http-after-response may set the status
}

// httpErrorKeep answers with an error page after which the client
// connection may stay open, as HAProxy keeps it after a 502 or 504 once
// the request was wholly received. It says what becomes of it.
func (s *stream) httpErrorKeep(cli *hconn, t *httpTxn, status int, cause logfmt.Cause, phase logfmt.Phase) outcome {
	page, closeAfter := s.appendPage(nil, t, s.pageFor(status), s.connState(t, !s.clientWantsKeepAlive(t)))
	t.status = status
	page = s.afterRules(t, page)
	s.sendError(cli, t, page, t.status, cause, phase)
	if closeAfter {
		return closeConn
	}
	return keepOpen
}

func (s *stream) sendError(cli *hconn, t *httpTxn, page []byte, status int, cause logfmt.Cause, phase logfmt.Phase) {
	cli.send(page, s.fe.cfg.Timeouts.Client)
	t.bytesOut += h1.ReplyHTXSize(page)
	s.logError(t, status, cause, phase)
}

func (s *stream) logError(t *httpTxn, status int, cause logfmt.Cause, phase logfmt.Phase) {
	t.status = status
	t.cause, t.phase = cause, phase
	s.logHTTP(t)
}
