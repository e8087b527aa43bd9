package engine

import (
	"errors"
	"time"

	"sluice/internal/h1"
	"sluice/internal/logfmt"
)

// exposeBody shows the request body fetches (req.body, req.body_len,
// req.body_size, req.body_param) what the client buffer holds of the
// body now, as much as HAProxy's buffer would.
func (s *stream) exposeBody(cli *hconn, t *httpTxn) {
	if t.req.Framing == h1.NoBody || t.reqSent {
		s.smp.Body = nil
		return
	}
	t.body.Set(cli.pending()[t.reqLen:], t.req.Framing == h1.Chunked, t.req.ContentLength, s.bodyRoom(t))
	s.smp.Body = &t.body
}

// exposeResBody shows the response body fetches (res.body, res.body_len,
// res.body_size) what came of the body with the head (rest), as much as
// HAProxy's buffer would hold: the response rules do not wait for more.
func (s *stream) exposeResBody(t *httpTxn, res *h1.Head, rest []byte) {
	if res.Framing == h1.NoBody {
		s.smp.Body = nil
		return
	}
	length := res.ContentLength
	if res.Framing == h1.UntilClose {
		length = int64(len(rest)) // what has come is all that is known
	}
	room := max(int64(s.fe.maxHead-h1.HTXHeader)-res.HTXRoom()-8, 0)
	t.body.Set(rest, res.Framing == h1.Chunked, length, room)
	s.smp.Body = &t.body
}

// bodyRoom is how much body data HAProxy's request buffer takes beside
// the head before it counts as full (channel_htx_full with
// tune.maxrewrite kept free): tune.bufsize less tune.maxrewrite, the HTX
// header, the head's blocks and one data block.
func (s *stream) bodyRoom(t *httpTxn) int64 {
	return max(int64(s.fe.maxHead-h1.HTXHeader)-t.req.HTXRoom()-8, 0)
}

// continueLine is the interim response HAProxy sends itself when it
// waits for a body the client holds back for it.
var continueLine = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// waitBody is HAProxy's http_wait_for_msg_body for a request, run for
// option http-buffer-request (limit: timeout http-request of the proxy
// that has it) and http-request wait-for-body (its time and at-least). It
// reads the body into the client buffer until it is whole, the buffer is
// full, atLeast bytes of data are there, or the client closed (the rules
// then see what came). An HTTP/1.1 request that expects 100 Continue
// gets it from Sluice, and loses its Expect header. Past limit (or
// timeout client between two reads) the client gets a 408 and waitBody
// reports false: the transaction is over.
func (s *stream) waitBody(cli *hconn, t *httpTxn, limit time.Duration, atLeast int64) bool {
	if t.req.Framing == h1.NoBody || string(t.req.Method()) == "CONNECT" {
		return true
	}
	feT := s.fe.cfg.Timeouts
	if t.req.Expect100 && t.req.Is11() {
		if _, err := cli.send(continueLine, feT.Client); err == nil {
			var head h1.Head
			if _, err := h1.ParseResponse(continueLine, &head, false, h1.Limits{MaxFields: 1}); err == nil {
				t.bytesOut += head.HTXSize()
			}
		}
		t.req.Del("expect")
		t.req.Expect100 = false
	}
	var end time.Time
	if limit > 0 {
		end = time.Now().Add(limit)
	}
	room := s.bodyRoom(t)
	for {
		complete, _, data := bufferedBody(cli, t)
		if complete || data >= room || atLeast > 0 && data >= atLeast {
			break
		}
		dl := end
		if c := feT.Client; c > 0 && (dl.IsZero() || time.Now().Add(c).Before(dl)) {
			dl = time.Now().Add(c)
		}
		if dl.IsZero() {
			dl = time.Now().Add(24 * time.Hour) // no timeout at all: HAProxy waits forever
		}
		_, err := cli.fill(dl)
		if err == nil {
			continue
		}
		if isTimeout(err) {
			_, _, data = bufferedBody(cli, t)
			t.bytesIn += min(data, room)
			t.tReq = logfmt.NotReached
			s.streamError(cli, t, 408, logfmt.CauseClientTimeout, logfmt.PhaseRequest)
			return false
		}
		if errors.Is(err, errBufferFull) {
			break
		}
		break // the client closed or failed: the rules see what came
	}
	t.tReq = time.Since(t.start)
	return true
}
