package sample

import "bytes"

// Captures are the capture slots of one HTTP transaction: what `capture
// request header`, `capture response header`, `declare capture` and the
// capture actions fill, in the frontend's slot order, for the log's %hr
// and %hs and the capture.req.hdr() and capture.res.hdr() fetches. The
// engine resets them at each transaction; their buffers are reused.
type Captures struct {
	Req, Res []CaptureSlot
}

// CaptureSlot is one slot: Val holds at most the slot's length, and Set
// says whether anything was captured (an empty value is a capture too).
type CaptureSlot struct {
	Val []byte
	Set bool
}

// Reset empties the slots for a new transaction with nreq request and nres
// response slots, keeping their buffers.
func (c *Captures) Reset(nreq, nres int) {
	c.Req = resetSlots(c.Req, nreq)
	c.Res = resetSlots(c.Res, nres)
}

func resetSlots(s []CaptureSlot, n int) []CaptureSlot {
	if cap(s) < n {
		s = append(s[:cap(s)], make([]CaptureSlot, n-cap(s))...)
	}
	s = s[:n]
	for i := range s {
		s[i].Val, s[i].Set = s[i].Val[:0], false
	}
	return s
}

// Store fills slot i of slots with at most max bytes of b. As in HAProxy,
// whose slots are C strings, the value ends at its first NUL byte. An
// index outside the slots is ignored.
func Store(slots []CaptureSlot, i int, b []byte, max int) {
	if i < 0 || i >= len(slots) {
		return
	}
	if max < 0 {
		max = 0
	}
	if len(b) > max {
		b = b[:max]
	}
	if k := bytes.IndexByte(b, 0); k >= 0 {
		b = b[:k]
	}
	s := &slots[i]
	s.Val, s.Set = append(s.Val[:0], b...), true
}

func init() {
	eval("capture.req.hdr", Str, 1, 1, intArgs, func(c *Ctx, a []Arg, v *Value) bool { return fetchCapture(c.Caps.Req, a, v) })
	eval("capture.res.hdr", Str, 1, 1, intArgs, func(c *Ctx, a []Arg, v *Value) bool { return fetchCapture(c.Caps.Res, a, v) })
}

// fetchCapture is capture.req.hdr(N) and capture.res.hdr(N): slot N of
// the frontend, when something was captured there.
func fetchCapture(slots []CaptureSlot, a []Arg, v *Value) bool {
	i := a[0].Int
	if i < 0 || i >= int64(len(slots)) || !slots[i].Set {
		return false
	}
	return setBytes(v, Str, slots[i].Val)
}
