package sample

import "sluice/internal/h1"

// The request body fetches read what the engine buffered of the body
// (Ctx.ReqBody), as HAProxy 2.6's read the HTX data blocks in the
// request buffer (src/http_fetch.c): de-chunked, as far as the buffer
// holds, never waiting themselves. option http-buffer-request and
// http-request wait-for-body are what makes the whole body be there.
func init() {
	eval("req.body", Bin, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		if c.Req == nil {
			return false
		}
		if !c.ReqChunked {
			return setBytes(v, Bin, c.ReqBody[:c.bodyLen()])
		}
		b, _, _ := h1.ChunkedPrefix(c.buf(), c.ReqBody, c.ReqBodyMax, true)
		return setBytes(v, Bin, c.keep(b))
	})
	eval("req.body_len", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		if c.Req == nil {
			return false
		}
		if !c.ReqChunked {
			return setInt(v, int64(c.bodyLen()))
		}
		_, n, _ := h1.ChunkedPrefix(nil, c.ReqBody, c.ReqBodyMax, false)
		return setInt(v, n)
	})
	eval("req.body_size", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		if c.Req == nil {
			return false
		}
		if !c.ReqChunked {
			// The data held and what is still to come: the Content-Length.
			return setInt(v, c.ReqBodyLength)
		}
		// The data held and the rest of the chunk being received.
		_, n, left := h1.ChunkedPrefix(nil, c.ReqBody, c.ReqBodyMax, false)
		return setInt(v, n+left)
	})
	eval("req.body_param", Bin, 0, 1, nil, fetchBodyParam)
}

// bodyLen is how much of a Content-Length body the fetches see.
func (c *Ctx) bodyLen() int {
	return int(min(int64(len(c.ReqBody)), c.ReqBodyLength, c.ReqBodyMax))
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
		var body []byte
		if c.ReqChunked {
			body, _, _ = h1.ChunkedPrefix(c.buf(), c.ReqBody, c.ReqBodyMax, true)
			body = c.keep(body)
		} else {
			body = c.ReqBody[:c.bodyLen()]
		}
		*cur = cursor{started: true, elem: body}
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
