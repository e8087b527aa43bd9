package sample

import "sluice/internal/h1"

// The request body fetches read what the engine buffered of the body
// (Ctx.Body), as HAProxy 2.6's read the HTX data blocks in the
// request buffer (src/http_fetch.c): de-chunked, as far as the buffer
// holds, never waiting themselves. option http-buffer-request and
// http-request wait-for-body are what makes the whole body be there.
func init() {
	eval("req.body", Bin, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		if c.Req == nil {
			return false
		}
		return setBytes(v, Bin, c.bodyData())
	})
	eval("req.body_len", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		if c.Req == nil {
			return false
		}
		if b := c.Body; b != nil && b.Chunked {
			_, n, _ := h1.ChunkedPrefix(nil, b.Data, b.Max, false)
			return setInt(v, n)
		}
		return setInt(v, int64(len(c.bodyData())))
	})
	eval("req.body_size", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		b := c.Body
		switch {
		case c.Req == nil:
			return false
		case b == nil:
			return setInt(v, 0)
		case !b.Chunked:
			// The data held and what is still to come: the Content-Length.
			return setInt(v, b.Length)
		}
		// The data held and the rest of the chunk being received.
		_, n, left := h1.ChunkedPrefix(nil, b.Data, b.Max, false)
		return setInt(v, n+left)
	})
	eval("req.body_param", Bin, 0, 1, nil, fetchBodyParam)
	// The response's, in http-response and http-after-response rules:
	// Ctx.Body is then what is buffered of the response body.
	eval("res.body", Bin, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		if c.Res == nil || !c.InResponse {
			return false
		}
		return setBytes(v, Bin, c.bodyData())
	})
	eval("res.body_len", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		if c.Res == nil || !c.InResponse {
			return false
		}
		if b := c.Body; b != nil && b.Chunked {
			_, n, _ := h1.ChunkedPrefix(nil, b.Data, b.Max, false)
			return setInt(v, n)
		}
		return setInt(v, int64(len(c.bodyData())))
	})
	eval("res.body_size", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		b := c.Body
		switch {
		case c.Res == nil || !c.InResponse:
			return false
		case b == nil:
			return setInt(v, 0)
		case !b.Chunked:
			return setInt(v, b.Length)
		}
		_, n, left := h1.ChunkedPrefix(nil, b.Data, b.Max, false)
		return setInt(v, n+left)
	})
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
	body := cur.elem
	vs, ve, ok := findURLParam(body, cur.pos, name, '&')
	if !ok {
		c.more = false
		return false
	}
	cur.pos = ve
	c.more = ve < len(body)
	return setBytes(v, Bin, body[vs:ve])
}
