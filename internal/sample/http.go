package sample

import (
	"fmt"
	"net/netip"
	"strconv"
)

// Layer 7 fetches over Ctx.Req and Ctx.Res, after HAProxy 2.6's
// src/http_fetch.c. Without a message (mode tcp, or no response yet)
// they find nothing.

func init() {
	eval("method", Meth, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.Req != nil && setBytes(v, Meth, c.Req.Method())
	})
	eval("req.ver req_ver", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return fetchVer(c.Req, v) })
	eval("res.ver resp_ver", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return fetchVer(c.Res, v) })
	eval("status", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.Res != nil && setInt(v, int64(c.Res.Status()))
	})
	eval("url", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.Req != nil && setBytes(v, Str, c.Req.URI())
	})
	eval("path", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return fetchPath(c, v, false) })
	eval("pathq", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return fetchPath(c, v, true) })
	eval("base", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return fetchBase(c, v, false) })
	eval("baseq", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return fetchBase(c, v, true) })
	eval("query", Str, 0, 0, nil, fetchQuery)
	eval("req.proto_http req_proto_http", Bool, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.Req != nil && setBool(v, true)
	})
	eval("http_first_req", Bool, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.Req != nil && setBool(v, c.FirstRequest)
	})
	eval("capture.req.method", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.Req != nil && setBytes(v, Str, c.Req.Method())
	})
	eval("capture.req.uri", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		if c.Req == nil {
			return false
		}
		p, ok := uriPath(c.Req.URI())
		return ok && setBytes(v, Str, p)
	})
	eval("capture.req.ver", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return fetchCaptureVer(c, c.Req, v) })
	eval("capture.res.ver", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return fetchCaptureVer(c, c.Res, v) })

	// Headers. hdr and cookie follow the rule's direction; the others
	// name theirs.
	for _, h := range []struct {
		names string
		dir   msgDir
	}{{"hdr", dirRule}, {"req.hdr", dirReq}, {"res.hdr shdr", dirRes}} {
		dir := h.dir
		eval(h.names, Str, 0, 2, hdrArgs, func(c *Ctx, a []Arg, v *Value) bool {
			return fetchHdr(c, dir.msg(c), a, false, v)
		})
	}
	eval("req.fhdr", Str, 0, 2, hdrArgs, func(c *Ctx, a []Arg, v *Value) bool { return fetchHdr(c, c.Req, a, true, v) })
	eval("res.fhdr", Str, 0, 2, hdrArgs, func(c *Ctx, a []Arg, v *Value) bool { return fetchHdr(c, c.Res, a, true, v) })
	eval("hdr_cnt req.hdr_cnt", Int, 0, 1, nil, func(c *Ctx, a []Arg, v *Value) bool { return fetchHdrCnt(c.Req, a, false, v) })
	eval("res.hdr_cnt shdr_cnt", Int, 0, 1, nil, func(c *Ctx, a []Arg, v *Value) bool { return fetchHdrCnt(c.Res, a, false, v) })
	eval("req.fhdr_cnt", Int, 0, 1, nil, func(c *Ctx, a []Arg, v *Value) bool { return fetchHdrCnt(c.Req, a, true, v) })
	eval("res.fhdr_cnt", Int, 0, 1, nil, func(c *Ctx, a []Arg, v *Value) bool { return fetchHdrCnt(c.Res, a, true, v) })
	eval("hdr_val req.hdr_val", Int, 0, 2, hdrArgs, func(c *Ctx, a []Arg, v *Value) bool { return fetchHdrVal(c, c.Req, a, v) })
	eval("res.hdr_val shdr_val", Int, 0, 2, hdrArgs, func(c *Ctx, a []Arg, v *Value) bool { return fetchHdrVal(c, c.Res, a, v) })
	eval("hdr_ip req.hdr_ip", IP, 0, 2, hdrArgs, func(c *Ctx, a []Arg, v *Value) bool { return fetchHdrIP(c, c.Req, a, v) })
	eval("res.hdr_ip shdr_ip", IP, 0, 2, hdrArgs, func(c *Ctx, a []Arg, v *Value) bool { return fetchHdrIP(c, c.Res, a, v) })
	eval("req.hdr_names", Str, 0, 1, nil, func(c *Ctx, a []Arg, v *Value) bool { return fetchHdrNames(c, c.Req, a, v) })
	eval("res.hdr_names", Str, 0, 1, nil, func(c *Ctx, a []Arg, v *Value) bool { return fetchHdrNames(c, c.Res, a, v) })

	// Cookies: Cookie in requests, Set-Cookie in responses.
	for _, h := range []struct {
		names, cnt, val string
		dir             msgDir
	}{
		{"cook req.cook", "cook_cnt req.cook_cnt", "cook_val req.cook_val", dirReq},
		{"res.cook scook", "res.cook_cnt scook_cnt", "res.cook_val scook_val", dirRes},
		{"cookie", "", "", dirRule},
	} {
		dir := h.dir
		eval(h.names, Str, 0, 1, nil, func(c *Ctx, a []Arg, v *Value) bool { return fetchCookie(c, dir, a, v) })
		if h.cnt != "" {
			eval(h.cnt, Int, 0, 1, nil, func(c *Ctx, a []Arg, v *Value) bool { return fetchCookieCnt(c, dir, a, v) })
			eval(h.val, Int, 0, 1, nil, func(c *Ctx, a []Arg, v *Value) bool {
				return fetchCookie(c, dir, a, v) && setInt(v, strl2ic(v.Bytes))
			})
		}
	}

	eval("url_param urlp", Str, 0, 2, nil, fetchURLParam)
	eval("urlp_val", Int, 0, 2, nil, func(c *Ctx, a []Arg, v *Value) bool {
		return fetchURLParam(c, a, v) && setInt(v, strl2ic(v.Bytes))
	})
}

// msgDir says which message a fetch reads.
type msgDir uint8

const (
	dirReq  msgDir = iota
	dirRes         // the response
	dirRule        // the request, or the response in http-response rules
)

func (d msgDir) msg(c *Ctx) HTTPMessage {
	if d == dirRes || d == dirRule && c.InResponse {
		return c.Res
	}
	return c.Req
}

// response reports whether the direction reads a response.
func (d msgDir) response(c *Ctx) bool { return d == dirRes || d == dirRule && c.InResponse }

// fetchVer is the version after "HTTP/" in the start line.
func fetchVer(m HTTPMessage, v *Value) bool {
	if m == nil {
		return false
	}
	ver := m.Version()
	for i, ch := range ver {
		if ch == '/' {
			return i+1 < len(ver) && setBytes(v, Str, ver[i+1:])
		}
	}
	return false
}

// fetchCaptureVer gives "HTTP/1.1" for a message of version 1.1 or
// later, "HTTP/1.0" otherwise, as HAProxy's HTTP_MSGF_VER_11 does.
func fetchCaptureVer(c *Ctx, m HTTPMessage, v *Value) bool {
	if m == nil {
		return false
	}
	ver := m.Version()
	s := "HTTP/1.0"
	if len(ver) == 8 && string(ver[:5]) == "HTTP/" && (ver[5] > '1' || ver[5] == '1' && ver[7] >= '1') {
		s = "HTTP/1.1"
	}
	return setStr(c, v, s)
}

func fetchPath(c *Ctx, v *Value, withQuery bool) bool {
	if c.Req == nil {
		return false
	}
	p, ok := uriPath(c.Req.URI())
	if !ok {
		return false
	}
	if !withQuery {
		p = cutAt(p, '?')
	}
	return setBytes(v, Str, p)
}

// fetchBase is the first Host value followed by the path when it starts
// with '/'; without a Host header (or an empty one), the path alone.
func fetchBase(c *Ctx, v *Value, withQuery bool) bool {
	if c.Req == nil {
		return false
	}
	var cur hdrCursor
	host, ok := nextHdr(c.Req, "host", false, &cur)
	if !ok || len(host) == 0 {
		return fetchPath(c, v, withQuery)
	}
	b := append(c.buf(), host...)
	if p, ok := uriPath(c.Req.URI()); ok {
		if !withQuery {
			p = cutAt(p, '?')
		}
		if len(p) > 0 && p[0] == '/' {
			b = append(b, p...)
		}
	}
	v.Type, v.Bytes = Str, c.keep(b)
	return true
}

// fetchQuery is what follows the first '?' of the target; nothing
// without one.
func fetchQuery(c *Ctx, _ []Arg, v *Value) bool {
	if c.Req == nil {
		return false
	}
	uri := c.Req.URI()
	for i, ch := range uri {
		if ch == '?' {
			return setBytes(v, Str, uri[i+1:])
		}
	}
	return false
}

// hdrArgs reads a header name and an optional occurrence.
func hdrArgs(w []string) ([]Arg, error) {
	if len(w) == 0 {
		return nil, nil
	}
	out := []Arg{{Str: w[0]}}
	if len(w) == 2 {
		n, err := strconv.ParseInt(w[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("'%s' is not an integer", w[1])
		}
		if n < -maxHdrHistory {
			return nil, fmt.Errorf("header occurrence must be >= %d", -maxHdrHistory)
		}
		out = append(out, Arg{Int: n, Str: "set"})
	}
	return out, nil
}

// fetchHdr is smp_fetch_hdr / smp_fetch_fhdr. Without an occurrence a
// sample expression gets the last value and an ACL every value in turn.
func fetchHdr(c *Ctx, m HTTPMessage, a []Arg, full bool, v *Value) bool {
	if m == nil || len(a) == 0 {
		return false
	}
	var occ int64
	if len(a) == 2 {
		occ = a[1].Int
	}
	if occ == 0 && c.iterate {
		c.cur.started = true
		val, ok := nextHdr(m, a[0].Str, full, &c.cur.hdr)
		c.more = ok
		return ok && setBytes(v, Str, val)
	}
	if occ == 0 {
		occ = -1
	}
	val, ok := hdrOcc(m, a[0].Str, occ, full)
	return ok && setBytes(v, Str, val)
}

func fetchHdrCnt(m HTTPMessage, a []Arg, full bool, v *Value) bool {
	if m == nil {
		return false
	}
	name := ""
	if len(a) == 1 {
		name = a[0].Str
	}
	var cur hdrCursor
	n := 0
	for {
		if _, ok := nextHdr(m, name, full, &cur); !ok {
			break
		}
		n++
	}
	return setInt(v, int64(n))
}

func fetchHdrVal(c *Ctx, m HTTPMessage, a []Arg, v *Value) bool {
	return fetchHdr(c, m, a, false, v) && setInt(v, strl2ic(v.Bytes))
}

// fetchHdrIP is smp_fetch_hdr_ip: the value as an IPv4 address, possibly
// with a ":port", or an IPv6 address. While iterating, values that are
// no address are skipped.
func fetchHdrIP(c *Ctx, m HTTPMessage, a []Arg, v *Value) bool {
	for fetchHdr(c, m, a, false, v) {
		s := v.Bytes
		if ip, n := url2ipv4(s); n > 0 {
			if n == len(s) {
				return setIP(v, netip.AddrFrom4(ip))
			}
			if s[n] == ':' && validPort(s[n+1:]) {
				return setIP(v, netip.AddrFrom4(ip))
			}
		}
		if ip, ok := parseIPv6(s); ok {
			v.Type, v.IP = IP, ip
			return true
		}
		if !c.more {
			return false
		}
	}
	return false
}

// validPort is strl2irc's check: only digits, and 0 to 65535.
func validPort(b []byte) bool {
	n := 0
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return false
		}
		n = n*10 + int(ch-'0')
		if n > 65535 {
			return false
		}
	}
	return true
}

// parseIPv6 is inet_pton(AF_INET6): it takes no zone and no brackets.
func parseIPv6(b []byte) (netip.Addr, bool) {
	if len(b) < 2 || len(b) > 45 {
		return netip.Addr{}, false
	}
	for _, ch := range b {
		if ch == '%' {
			return netip.Addr{}, false
		}
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

// fetchHdrNames lists the header names, lowercase as HAProxy stores
// them, joined by the delimiter (',' by default).
func fetchHdrNames(c *Ctx, m HTTPMessage, a []Arg, v *Value) bool {
	if m == nil {
		return false
	}
	del := byte(',')
	if len(a) == 1 && a[0].Str != "" {
		del = a[0].Str[0]
	}
	b := c.buf()
	for i, n := 0, m.NumFields(); i < n; i++ {
		name, _ := m.Field(i)
		if i > 0 {
			b = append(b, del)
		}
		for _, ch := range name {
			if ch >= 'A' && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			b = append(b, ch)
		}
	}
	v.Type, v.Bytes = Str, c.keep(b)
	return true
}

// cookieHeader is the header cookie fetches read in that direction.
func cookieHeader(resp bool) string {
	if resp {
		return "set-cookie"
	}
	return "cookie"
}

// fetchCookie is smp_fetch_cookie: in an ACL every value of the named
// cookie in turn; in a sample expression the last one, or the first
// cookie of any name when none is given.
func fetchCookie(c *Ctx, dir msgDir, a []Arg, v *Value) bool {
	m := dir.msg(c)
	if m == nil {
		return false
	}
	name := ""
	if len(a) == 1 {
		name = a[0].Str
	}
	hdr := cookieHeader(dir.response(c))
	list := !c.InResponse
	cur := &c.cur
	if !c.iterate || !cur.started {
		*cur = cursor{started: true}
	}
	found := false
	for {
		if !cur.inElem {
			e, ok := nextHdr(m, hdr, false, &cur.hdr)
			if !ok {
				break
			}
			if len(e) < len(name)+1 {
				continue
			}
			cur.elem, cur.pos, cur.inElem = e, 0, true
		}
		val, next, ok := extractCookie(cur.elem, cur.pos, name, list)
		if !ok {
			cur.inElem = false
			continue
		}
		cur.pos = next
		found = true
		v.Type, v.Bytes = Str, val
		if c.iterate {
			c.more = true
			return true
		}
		if name == "" {
			break
		}
	}
	c.more = false
	return found
}

func fetchCookieCnt(c *Ctx, dir msgDir, a []Arg, v *Value) bool {
	m := dir.msg(c)
	if m == nil {
		return false
	}
	name := ""
	if len(a) == 1 {
		name = a[0].Str
	}
	hdr := cookieHeader(dir.response(c))
	list := !c.InResponse
	var cur hdrCursor
	n := 0
	for {
		e, ok := nextHdr(m, hdr, false, &cur)
		if !ok {
			break
		}
		if len(e) < len(name)+1 {
			continue
		}
		for pos := 0; ; {
			_, next, ok := extractCookie(e, pos, name, list)
			if !ok {
				break
			}
			n++
			pos = next
		}
	}
	return setInt(v, int64(n))
}

// fetchURLParam is smp_fetch_url_param: the value of a query parameter
// (the first parameter when unnamed) after the first delimiter ('?' by
// default); in an ACL every value in turn.
func fetchURLParam(c *Ctx, a []Arg, v *Value) bool {
	if c.Req == nil {
		return false
	}
	name := ""
	if len(a) >= 1 {
		name = a[0].Str
	}
	delim := byte('?')
	if len(a) == 2 && a[1].Str != "" {
		delim = a[1].Str[0]
	}
	uri := c.Req.URI()
	cur := &c.cur
	if !c.iterate || !cur.started {
		*cur = cursor{started: true}
		i := 0
		for i < len(uri) && uri[i] != delim {
			i++
		}
		if i == len(uri) {
			return false
		}
		cur.pos = i + 1
	}
	return nextParam(c, uri, name, delim, Str, v)
}

// nextParam finds the next name= parameter in params from the cursor's
// position on, for url_param and req.body_param: the value, and whether
// another may follow (an ACL's walk).
func nextParam(c *Ctx, params []byte, name string, delim byte, t Type, v *Value) bool {
	vs, ve, ok := findURLParam(params, c.cur.pos, name, delim)
	if !ok {
		c.more = false
		return false
	}
	c.cur.pos = ve
	c.more = ve < len(params)
	return setBytes(v, t, params[vs:ve])
}
