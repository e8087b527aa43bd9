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
