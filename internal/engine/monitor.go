package engine

import (
	"bytes"

	"sluice/internal/h1"
)

// monitorTarget is what monitor-uri is compared with: the request target,
// or for an absolute-form target what follows its authority, as HAProxy
// compares the target it normalised.
func monitorTarget(u []byte) []byte {
	if len(u) > 0 && u[0] != '/' {
		if i := bytes.Index(u, []byte("://")); i > 0 {
			rest := u[i+3:]
			if j := bytes.IndexAny(rest, "/?"); j >= 0 {
				return rest[j:]
			}
			return nil
		}
	}
	return u
}

// monitor answers a request for the frontend's monitor-uri as HAProxy
// does, before any http-request rule: the 200 page ("Service ready."), or
// the 503 page when a monitor fail condition holds, both taken from the
// proxy's error pages, and no log line. The connection stays open as for
// any answer; a body the request has is read and dropped first.
func (s *stream) monitor(cli *hconn, t *httpTxn) (outcome, bool) {
	fe := s.fe
	if fe.monitorURI == nil || !bytes.Equal(monitorTarget(t.req.URI()), fe.monitorURI) {
		return keepOpen, false
	}
	code := 200
	for _, c := range fe.monitorFail {
		if m, _ := c.Match(&s.smp); m {
			code = 503
			break
		}
	}
	keep := s.clientWantsKeepAlive(t)
	if t.req.Framing != h1.NoBody {
		if err := copyBody(cli, &bodyWriter{}, &t.req, fe.cfg.Timeouts.Client, false); err != nil {
			return closeConn, true
		}
	}
	out, closeAfter := s.appendPage(nil, t, s.pageFor(code), s.connState(t, !keep))
	if _, err := cli.send(out, fe.cfg.Timeouts.Client); err != nil || !keep || closeAfter {
		return closeConn, true
	}
	return keepOpen, true
}
