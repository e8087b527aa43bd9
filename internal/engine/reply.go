package engine

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"sluice/internal/config"
	"sluice/internal/httperr"
	"sluice/internal/logfmt"
)

// reply is what a return, deny or tarpit rule answers, compiled from the
// configuration's parsed reply.
type reply struct {
	// page: the answer is an error page (errorfile, errorfiles,
	// default-errorfiles); file is the errorfile's message, section the
	// errorfiles section's pages; neither: the proxy's page for the
	// status.
	page       bool
	file       *httperr.Page
	errorfiles bool
	section    map[int]*httperr.Page
	// Otherwise a reply of Sluice's making: headers, a payload (static
	// or log-format) and its content type.
	ctype   string
	body    []byte
	bodyFmt *valueFmt
	hdrs    []replyHdr
}

type replyHdr struct {
	name []byte // lower case: HAProxy writes header names so toward HTTP/1
	val  *valueFmt
}

func (hr *httpRule) compileReply(r *config.Rule) error {
	spec := r.Reply
	if spec == nil {
		return fmt.Errorf("reply not parsed")
	}
	hr.status = spec.Code
	if hr.status == 0 {
		hr.status = map[httpAct]int{haReturn: 200, haDeny: 403, haTarpit: 500}[hr.act]
		if hr.act == haDeny && r.Family != "http-request" {
			hr.status = 502
		}
	}
	rp := &reply{ctype: spec.CType}
	switch spec.Kind {
	case "default-errorfiles", "errorfile", "errorfiles":
		rp.page, rp.file, rp.section = true, spec.Page, spec.SectionPages
		rp.errorfiles = spec.Kind == "errorfiles"
		if rp.errorfiles && rp.section[hr.status] == nil {
			// A section without a page for the status: HAProxy
			// answers with an empty reply.
			rp.page = false
		}
	default:
		if err := rp.compilePayload(spec); err != nil {
			return err
		}
	}
	hr.reply = rp
	return nil
}

// compilePayload compiles a reply of Sluice's making: its payload and
// its headers.
func (rp *reply) compilePayload(spec *httperr.ReplySpec) error {
	switch spec.Kind {
	case "lf-string", "lf-file":
		f, err := compileValue(spec.Body)
		if err != nil {
			return err
		}
		rp.bodyFmt = f
	default:
		rp.body = []byte(spec.Body)
	}
	for _, h := range spec.Hdrs {
		v, err := compileValue(h.Value)
		if err != nil {
			return err
		}
		rp.hdrs = append(rp.hdrs, replyHdr{[]byte(strings.ToLower(h.Name)), v})
	}
	return nil
}

// errorReplies compiles the log-format http-error pages of a proxy's
// error set, keyed by page.
func errorReplies(set *httperr.Set) (map[*httperr.Page]*reply, error) {
	var out map[*httperr.Page]*reply
	for _, code := range set.Codes() {
		p := set.Own(code)
		if p.Reply == nil {
			continue
		}
		rp := &reply{ctype: p.Reply.CType}
		if err := rp.compilePayload(p.Reply); err != nil {
			return nil, fmt.Errorf("http-error status %d: %w", code, err)
		}
		if out == nil {
			out = map[*httperr.Page]*reply{}
		}
		out[p] = rp
	}
	return out, nil
}

// appendPage appends the wire form of an error page in state cs and says
// whether the connection closes after it. A log-format http-error page
// is rendered for this transaction.
func (s *stream) appendPage(dst []byte, t *httpTxn, p *httperr.Page, cs httperr.ConnState) ([]byte, bool) {
	rp := s.fe.errReplies[p]
	if s.be != nil && s.be.errReplies[p] != nil {
		rp = s.be.errReplies[p]
	}
	if rp == nil {
		// The page goes out as HAProxy writes it; what it held and
		// left out still counts in %B (added here, as the callers
		// count the rest from the bytes sent).
		t.bytesOut += int64(p.HTXHidden)
		return p.AppendWire(dst, cs)
	}
	_, closeAfter := p.ConnHeader(cs)
	if t.reqSent {
		req := s.smp.Req
		s.smp.Req = nil
		defer func() { s.smp.Req = req }()
	}
	return s.appendReply(dst, t, rp, p.Code, !closeAfter), closeAfter
}

// replyPage is the error page a page reply answers with.
func (s *stream) replyPage(rp *reply, code int) *httperr.Page {
	switch {
	case rp.file != nil:
		return rp.file
	case rp.errorfiles:
		return rp.section[code]
	}
	return s.pageFor(code)
}

// replyResponse builds a reply of Sluice's making as HAProxy's
// http_reply_to_htx does: the hdr headers (those that render empty are
// left out), content-length, then content-type when there is a payload.
func (s *stream) replyResponse(t *httpTxn, r *httpRule, keep bool) []byte {
	return s.appendReply(nil, t, r.reply, r.status, keep)
}

// appendReply appends a reply of Sluice's making with status code.
func (s *stream) appendReply(dst []byte, t *httpTxn, rp *reply, code int, keep bool) []byte {
	body := rp.body
	if rp.bodyFmt != nil {
		start := len(t.arena)
		t.arena = rp.bodyFmt.render(t.arena, s)
		body = t.arenaFrom(start)
	}
	b := appendStatusLine(dst, code, statusReason(code))
	for _, h := range rp.hdrs {
		start := len(t.arena)
		t.arena = h.val.render(t.arena, s)
		if v := t.arenaFrom(start); len(v) > 0 {
			b = append(b, h.name...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "content-length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n"...)
	if rp.ctype != "" && len(body) > 0 {
		b = append(b, "content-type: "...)
		b = append(b, rp.ctype...)
		b = append(b, "\r\n"...)
	}
	b = appendConnHeader(b, t, keep)
	b = append(b, "\r\n"...)
	if string(t.req.Method()) != "HEAD" {
		b = append(b, body...)
	}
	t.status = code
	return b
}

// tarpit holds a request for the rule's tarpit time before it is
// answered, as HAProxy does, whatever the client does meanwhile; the log
// shows the time held as %Tw and no request time.
func (s *stream) tarpit(t *httpTxn, r *httpRule) {
	timer := time.NewTimer(deadline(time.Now(), r.tarpit).Sub(time.Now()))
	select {
	case <-timer.C:
	case <-s.e.ctx.Done():
		timer.Stop()
	}
	t.tReq = logfmt.NotReached
	t.tQueue = time.Since(t.start)
}
