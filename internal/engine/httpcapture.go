package engine

import (
	"strings"
	"unsafe"

	"sluice/internal/config"
	"sluice/internal/h1"
	"sluice/internal/logfmt"
	"sluice/internal/sample"
)

// capSlot is a frontend's capture slot: a header to capture (name, lower
// case) or a slot capture rules fill (name empty), and its length.
type capSlot struct {
	name string
	len  int
}

func captureSlots(slots []config.CaptureSlot) []capSlot {
	out := make([]capSlot, len(slots))
	for i, c := range slots {
		out[i] = capSlot{name: strings.ToLower(c.Header), len: c.Len}
	}
	return out
}

// captureHeaders fills the header slots from a message head as HAProxy's
// http_capture_headers does: every field is compared with every slot, so
// the last occurrence of a header wins, truncated to the slot's length.
func captureHeaders(h *h1.Head, slots []capSlot, dst []sample.CaptureSlot) {
	for _, f := range h.Fields {
		for i, c := range slots {
			if c.name != "" && h1.EqualFold(f.Name, c.name) {
				sample.Store(dst, i, f.Value, c.len)
			}
		}
	}
}

// captureRequest starts a transaction's captures once its request head is
// parsed: the slots are emptied and the request headers captured, before
// any http-request rule changes them.
func (s *stream) captureRequest(t *httpTxn) {
	fe := s.fe
	s.smp.Caps.Reset(len(fe.reqCaps), len(fe.resCaps))
	captureHeaders(&t.req, fe.reqCaps, s.smp.Caps.Req)
	t.l7.captured = true
}

// captureResponse captures the response headers, before http-response
// rules run.
func (s *stream) captureResponse(res *h1.Head) {
	captureHeaders(res, s.fe.resCaps, s.smp.Caps.Res)
}

// runCapture is http-request capture and http-response capture: the
// sample as text into the rule's slot. A slot named by id that the
// frontend does not have is skipped, as in HAProxy.
func (s *stream) runCapture(r *httpRule) {
	slots, defs := s.smp.Caps.Req, s.fe.reqCaps
	if s.smp.InResponse {
		slots, defs = s.smp.Caps.Res, s.fe.resCaps
	}
	max := r.capLen
	if r.capByID {
		if r.capSlot < 0 || r.capSlot >= len(defs) {
			return
		}
		max = defs[r.capSlot].len
	}
	v := s.smp.Value()
	if found, _ := r.expr.Eval(&s.smp, v); !found {
		return
	}
	b := v.Bytes
	if v.Type != sample.Str && v.Type != sample.Bin {
		var tmp [64]byte
		b = v.AsString(tmp[:0])
	}
	sample.Store(slots, r.capSlot, b, max)
}

// logCaptures gives the log line the transaction's captures. The values
// point into the slots' buffers, which stay untouched until the next
// transaction starts, after this line was written.
func logCaptures(t *httpTxn, caps *sample.Captures, f *logfmt.Fields) {
	n := len(caps.Req) + len(caps.Res)
	if !t.l7.captured || n == 0 {
		return
	}
	out := make([]logfmt.Capture, 0, n)
	for _, c := range caps.Req {
		out = append(out, logfmt.Capture{Value: unsafe.String(unsafe.SliceData(c.Val), len(c.Val)), OK: c.Set})
	}
	for _, c := range caps.Res {
		out = append(out, logfmt.Capture{Value: unsafe.String(unsafe.SliceData(c.Val), len(c.Val)), OK: c.Set})
	}
	f.ReqCaptures, f.RespCaptures = out[:len(caps.Req):len(caps.Req)], out[len(caps.Req):]
}

// captureReqCookie is `capture cookie` on the request: the first
// cookie of the Cookie headers whose "name=value" starts with the
// configured name, cut to the configured length (%CC). HAProxy looks
// once the request rules of both proxies ran, or when a deny or a tarpit
// ends them.
func (s *stream) captureReqCookie(t *httpTxn) {
	if cc := s.fe.cfg.CaptureCookie; cc != nil && t.cliCookie == nil {
		t.cliCookie = captureCookie(t, t.req.Fields, "cookie", cc, true)
	}
}

// captureResCookie is `capture cookie` on the response's Set-Cookie
// headers (%CS), once the response rules ran.
func (s *stream) captureResCookie(t *httpTxn, res *h1.Head) {
	if cc := s.fe.cfg.CaptureCookie; cc != nil && t.srvCookie == nil {
		t.srvCookie = captureCookie(t, res.Fields, "set-cookie", cc, false)
	}
}

// captureCookie finds the capture among the headers called name. The
// capture, in t's arena, is "name=value" cut to the configured length;
// nil when no cookie matches.
func captureCookie(t *httpTxn, fields []h1.Field, name string, cc *config.CookieCapture, list bool) []byte {
	var out []byte
	for _, f := range fields {
		if !h1.EqualFold(f.Name, name) {
			continue
		}
		v := f.Value
		walkCookies(v, list, func(c cookieSpan) bool {
			if v[c.att] == '$' {
				return true
			}
			start := len(t.arena)
			t.arena = append(t.arena, v[c.att:c.attEnd]...)
			t.arena = append(t.arena, '=')
			t.arena = append(t.arena, v[c.vb:c.ve]...)
			full := t.arenaFrom(start)
			if len(full) >= len(cc.Name) && string(full[:len(cc.Name)]) == cc.Name {
				n := min(len(full), cc.Len)
				out = full[:n:n]
				return false
			}
			t.arena = t.arena[:start]
			return true
		})
		if out != nil {
			return out
		}
	}
	return nil
}

// stripCookieBlanks removes the blanks around the '=' of each cookie of
// the headers called name (the first cookie of a Set-Cookie), as HAProxy
// does to the headers it forwards when it manages cookies.
func stripCookieBlanks(t *httpTxn, fields []h1.Field, name string, list bool) {
	for i := range fields {
		f := &fields[i]
		if !h1.EqualFold(f.Name, name) {
			continue
		}
		v, start, from := f.Value, -1, 0
		walkCookies(v, list, func(c cookieSpan) bool {
			if v[c.att] == '$' || c.attEnd == c.eq && c.vb == c.eq+1 {
				return true
			}
			if start < 0 {
				start = len(t.arena)
			}
			t.arena = append(t.arena, v[from:c.attEnd]...)
			t.arena = append(t.arena, '=')
			from = c.vb
			return true
		})
		if start >= 0 {
			t.arena = append(t.arena, v[from:]...)
			f.Value = t.arenaFrom(start)
		}
	}
}

// cookieSpan is one cookie of a header value: the name v[att:attEnd],
// '=' at eq, the value v[vb:ve], the delimiter after it at next.
type cookieSpan struct{ att, attEnd, eq, vb, ve, next int }

// walkCookies walks a Cookie value (list: cookies separated by ';' or
// ',') or a Set-Cookie value (its first cookie; a ',' ends its value but
// not its name) as HAProxy's http_manage_client/server_side_cookies do:
// blanks around names and values are not theirs, words without '=' are
// skipped. fn is called for
// each cookie until it returns false.
func walkCookies(v []byte, list bool, fn func(cookieSpan) bool) {
	for pos := 0; pos < len(v); {
		att := pos
		for att < len(v) && (v[att] == ' ' || v[att] == '\t') {
			att++
		}
		eq, attEnd := att, att
		for eq < len(v) && v[eq] != '=' && v[eq] != ';' && (!list || v[eq] != ',') {
			if v[eq] != ' ' && v[eq] != '\t' {
				attEnd = eq + 1
			}
			eq++
		}
		if eq >= len(v) || v[eq] != '=' {
			if !list {
				return
			}
			pos = eq + 1
			continue
		}
		vb := eq + 1
		for vb < len(v) && (v[vb] == ' ' || v[vb] == '\t') {
			vb++
		}
		next := vb + sample.CookieValueEnd(v[vb:])
		ve := next
		for ve > vb && (v[ve-1] == ' ' || v[ve-1] == '\t') {
			ve--
		}
		if !fn(cookieSpan{att, attEnd, eq, vb, ve, next}) || !list {
			return
		}
		pos = next + 1
	}
}
