package sample

import "sluice/internal/h1"

// The request body fetches read what the engine buffered of the body
// (Ctx.Body), as HAProxy 2.6's read the HTX data blocks in the
// request buffer (src/http_fetch.c): de-chunked, as far as the buffer
// holds, never waiting themselves. option http-buffer-request and
// http-request wait-for-body are what makes the whole body be there.
func init() {
	req := func(c *Ctx) bool { return c.Req != nil }
	// The response's, in http-response and http-after-response rules:
	// Ctx.Body is then what is buffered of the response body.
	res := func(c *Ctx) bool { return c.Res != nil && c.InResponse }
	for _, side := range []struct {
		dir string
		ok  func(*Ctx) bool
	}{{"req", req}, {"res", res}} {
		ok := side.ok
		eval(side.dir+".body", Bin, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
			return ok(c) && setBytes(v, Bin, c.bodyData())
		})
		eval(side.dir+".body_len", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
			return ok(c) && setInt(v, c.bodyLen())
		})
		eval(side.dir+".body_size", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
			return ok(c) && setInt(v, c.bodySize())
		})
	}
	eval("req.body_param", Bin, 0, 1, nil, fetchBodyParam)
}

// bodyLen is how much body data the fetches see.
func (c *Ctx) bodyLen() int64 {
	if b := c.Body; b != nil && b.Chunked {
		_, n, _ := h1.ChunkedPrefix(nil, b.Data, b.Max, false)
		return n
	}
	return int64(len(c.bodyData()))
}

// bodySize is the data held and what is still to come: the
// Content-Length, or for a chunked body the rest of the chunk being
// received.
func (c *Ctx) bodySize() int64 {
	b := c.Body
	switch {
	case b == nil:
		return 0
	case !b.Chunked:
		return b.Length
	}
	_, n, left := h1.ChunkedPrefix(nil, b.Data, b.Max, false)
	return n + left
}

// BodyData is the request body's data as the fetches see it: de-chunked
// (in a scratch buffer, valid until the next evaluation) and capped.
func (c *Ctx) BodyData() []byte { return c.bodyData() }

func (c *Ctx) bodyData() []byte {
	b := c.Body
	switch {
	case b == nil:
		return nil
	case b.Chunked:
		b.dechunked, _, _ = h1.ChunkedPrefix(b.dechunked[:0], b.Data, b.Max, true)
		return b.dechunked
	}
	return b.Data[:min(int64(len(b.Data)), b.Length, b.Max)]
}

// fetchBodyParam is smp_fetch_body_param: the value of a parameter of a
// url-encoded body (the first parameter when unnamed), names compared
// with case, values not decoded, '&' and ';' separating them; in an ACL
// every value in turn.
func fetchBodyParam(c *Ctx, a []Arg, v *Value) bool {
	if c.Req == nil {
		return false
	}
	cur := &c.cur
	if !c.iterate || !cur.started {
		*cur = cursor{started: true, elem: c.bodyData()}
	}
	name := ""
	if len(a) == 1 {
		name = a[0].Str
	}
	return nextParam(c, cur.elem, name, '&', Bin, v)
}
