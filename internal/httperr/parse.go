package httperr

import (
	"bytes"
	"fmt"
)

// Sizes HAProxy 2.6 uses when it turns an error message into HTX.
const (
	// DefaultBufSize is tune.bufsize's default (include/haproxy/defaults.h).
	DefaultBufSize = 16384
	// DefaultMaxRewrite is tune.maxrewrite's default.
	DefaultMaxRewrite = 1024
	// maxHdr is tune.http.maxhdr's default: the header list HAProxy parses
	// an errorfile into holds this many entries, the end marker included.
	maxHdr = 101
	// htxHeader is sizeof(struct htx) and htxBlk sizeof(struct htx_blk);
	// htxSL is sizeof(struct htx_sl) before its text.
	htxHeader = 48
	htxBlk    = 8
	htxSL     = 20
)

// HAProxy's character classes (src/http.c http_char_classes).
func isTok(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func isVerTok(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '/'
}

func isSPHT(c byte) bool { return c == ' ' || c == '\t' }
func isLWS(c byte) bool  { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
func isCRLF(c byte) bool { return c == '\r' || c == '\n' }

type header struct{ name, value []byte }

// head is a response head as HAProxy's h1_headers_to_hdr_list sees it.
type head struct {
	ver, code, reason []byte
	status            uint16
	hdrs              []header
	ver11             bool
	clen, chnk, te    bool
	connClose, connKA bool
	bodyLen           uint64
}

// parseHead mirrors h1_headers_to_hdr_list (src/h1.c) for a response with
// H1_MF_NO_PHDR: it returns the offset of the payload (> 0), 0 when the
// head is incomplete, or -1 (invalid) / -2 (too many headers) with the
// error offset HAProxy reports ("error offset: N", -2 when incomplete).
func parseHead(src []byte) (h head, ret, errPos int) {
	buf := append([]byte(nil), src...) // folding rewrites bytes in place
	end := len(buf)
	p := 0
	invalid := func(at int) (head, int, int) { return h, -1, at }
	ood := func() (head, int, int) { return h, 0, -2 }
	// Leading empty lines (H1_MSG_RPBEFORE).
	for {
		if p >= end {
			return ood()
		}
		c := buf[p]
		if isTok(c) {
			break
		}
		if c == '\n' {
			p++
			continue
		}
		if c != '\r' {
			return invalid(p)
		}
		p++
		if p >= end {
			return ood()
		}
		if buf[p] != '\n' {
			return invalid(p)
		}
		p++
	}
	// Version.
	v0 := p
	for p < end && isVerTok(buf[p]) {
		p++
	}
	if p >= end {
		return ood()
	}
	if !isSPHT(buf[p]) {
		return invalid(p)
	}
	h.ver = buf[v0:p]
	if len(h.ver) == 8 && (h.ver[5] > '1' || h.ver[5] == '1' && h.ver[7] >= '1') {
		h.ver11 = true
	}
	for p < end && isSPHT(buf[p]) {
		p++
	}
	if p >= end {
		return ood()
	}
	if isLWS(buf[p]) {
		return invalid(p)
	}
	// Code.
	c0 := p
	for p < end && buf[p] >= '0' && buf[p] <= '9' {
		h.status = h.status*10 + uint16(buf[p]-'0')
		p++
	}
	if p >= end {
		return ood()
	}
	if !isLWS(buf[p]) {
		return invalid(p)
	}
	h.code = buf[c0:p]
	h.reason = buf[p:p]
	if isSPHT(buf[p]) {
		for p < end && isSPHT(buf[p]) {
			p++
		}
		if p >= end {
			return ood()
		}
		if !isLWS(buf[p]) {
			r0 := p
			for p < end && !isCRLF(buf[p]) {
				p++
			}
			if p >= end {
				return ood()
			}
			h.reason = buf[r0:p]
		}
	}
	// End of the status line: p is on CR or LF.
	if buf[p] == '\r' {
		p++
		if p >= end {
			return ood()
		}
	}
	if buf[p] != '\n' {
		return invalid(p)
	}
	p++
	nhdr := 0
	var clVal uint64
	for {
		if p >= end {
			return ood()
		}
		sol := p
		if isCRLF(buf[p]) {
			break
		}
		// Name.
		for p < end && isTok(buf[p]) {
			p++
		}
		if p >= end {
			return ood()
		}
		if buf[p] != ':' || p == sol {
			return invalid(p)
		}
		col := p
		p++
		// Leading blanks, possibly folded onto next lines.
		var sov, eol int
	l1sp:
		for p < end && isSPHT(buf[p]) {
			p++
		}
		if p >= end {
			return ood()
		}
		sov = p
		if isCRLF(buf[p]) {
			if buf[p] == '\r' {
				p++
				if p >= end {
					return ood()
				}
			}
			if buf[p] != '\n' {
				return invalid(p)
			}
			p++
			if p >= end {
				return ood()
			}
			if isSPHT(buf[p]) {
				for ; sov < p; sov++ {
					buf[sov] = ' '
				}
				goto l1sp
			}
			eol = sov
		} else {
		val:
			for p < end && !isCRLF(buf[p]) {
				p++
			}
			if p >= end {
				return ood()
			}
			eol = p
			if buf[p] == '\r' {
				p++
				if p >= end {
					return ood()
				}
			}
			if buf[p] != '\n' {
				return invalid(p)
			}
			p++
			if p >= end {
				return ood()
			}
			if isSPHT(buf[p]) {
				for ; eol < p; eol++ {
					buf[eol] = ' '
				}
				goto val
			}
		}
		for sov < eol && isLWS(buf[sov]) {
			sov++
		}
		for eol-1 > sov && isLWS(buf[eol-1]) {
			eol--
		}
		n, v := buf[sol:col], buf[sov:eol]
		if nhdr >= maxHdr {
			return h, -2, p
		}
		switch {
		case eqFold(n, "transfer-encoding"):
			h.te = true
			if !parseTE(&h, v) {
				return invalid(sov)
			}
		case eqFold(n, "content-length") && len(v) > 0:
			w, cl, ok := parseCL(v)
			if !ok || h.clen && cl != clVal {
				return invalid(sov)
			}
			if h.clen {
				continue // identical duplicate: skipped
			}
			h.clen, clVal, v = true, cl, w
		case eqFold(n, "connection"):
			parseConn(v, &h.connClose, &h.connKA)
			if len(v) == 0 {
				continue
			}
		}
		h.hdrs = append(h.hdrs, header{n, v})
		nhdr++
	}
	// Empty line ending the head.
	if buf[p] == '\r' {
		p++
		if p >= end {
			return ood()
		}
	}
	if buf[p] != '\n' {
		return invalid(p)
	}
	p++
	if nhdr >= maxHdr {
		return h, -2, p - 1
	}
	h.bodyLen = clVal
	if h.te && h.clen {
		// T-E + C-L: HAProxy drops C-L and forces close.
		h.connClose, h.clen = true, false
		out := h.hdrs[:0]
		for _, hd := range h.hdrs {
			if !eqFold(hd.name, "content-length") {
				out = append(out, hd)
			}
		}
		h.hdrs = out
	} else if h.te && !h.ver11 {
		h.connClose = true
	}
	return h, p, 0
}

func eqFold(b []byte, s string) bool { return len(b) == len(s) && bytes.EqualFold(b, []byte(s)) }

// parseTE mirrors h1_parse_xfer_enc_header: chunked applied twice fails.
func parseTE(h *head, v []byte) bool {
	chunkedSeen := false
	for _, w := range tokens(v) {
		h.chnk = false
		if eqFold(w, "chunked") {
			if chunkedSeen {
				return false
			}
			chunkedSeen, h.chnk = true, true
		}
	}
	return true
}

// parseCL mirrors h1_parse_cont_len_header: a comma list of identical
// decimal values; it returns the cleaned last value.
func parseCL(v []byte) (word []byte, cl uint64, ok bool) {
	first := true
	for i := 0; i < len(v); i++ {
		if isLWS(v[i]) {
			continue
		}
		j := i
		var n uint64
		for ; j < len(v) && v[j] >= '0' && v[j] <= '9'; j++ {
			d := uint64(v[j] - '0')
			if n > ^uint64(0)/10 || n*10+d < n*10 {
				return nil, 0, false
			}
			n = n*10 + d
		}
		if j == i {
			return nil, 0, false
		}
		w := v[i:j]
		for ; j < len(v); j++ {
			if !isLWS(v[j]) {
				if v[j] != ',' {
					return nil, 0, false
				}
				break
			}
		}
		if !first && n != cl {
			return nil, 0, false
		}
		first, cl, word = false, n, w
		i = j
	}
	return word, cl, true
}

// tokens splits a comma list the way HAProxy walks it: blanks around
// each element trimmed, empty elements dropped.
func tokens(v []byte) [][]byte {
	var out [][]byte
	for i := 0; i < len(v); i++ {
		if isLWS(v[i]) || v[i] == ',' {
			continue
		}
		j := i
		for j < len(v) && v[j] != ',' {
			j++
		}
		w := v[i:j]
		for len(w) > 0 && isLWS(w[len(w)-1]) {
			w = w[:len(w)-1]
		}
		out = append(out, w)
		i = j
	}
	return out
}

// parseConn notes close and keep-alive tokens of a Connection value.
func parseConn(v []byte, clo, ka *bool) {
	for _, w := range tokens(v) {
		switch {
		case eqFold(w, "close"):
			*clo = true
		case eqFold(w, "keep-alive"):
			*ka = true
		}
	}
}

// cleanConn is h1_parse_connection_header with H1_MF_CLEAN_CONN_HDR, as the
// H1 multiplexer applies it to outgoing messages: close and keep-alive
// tokens are removed, the rest joined with "," (the value is kept verbatim
// when nothing was removed).
func cleanConn(v []byte) []byte {
	var out []byte
	removed := false
	for _, w := range tokens(v) {
		if eqFold(w, "close") || eqFold(w, "keep-alive") {
			removed = true
			continue
		}
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = append(out, w...)
	}
	if !removed {
		return v
	}
	return out
}

// parseMessage is http_str_to_htx (src/http_htx.c): it validates a raw
// error message and builds the page HAProxy would send from it. Error
// texts are HAProxy's.
func parseMessage(raw []byte, bufSize int) (*Page, error) {
	if len(raw) == 0 {
		return &Page{Empty: true}, nil
	}
	h, ret, errPos := parseHead(raw)
	if ret <= 0 {
		return nil, fmt.Errorf("unable to parse headers (error offset: %d)", errPos)
	}
	if len(h.ver) != 8 {
		return nil, fmt.Errorf("invalid http version (%s)", h.ver)
	}
	if h.status < 200 && (h.status == 100 || h.status >= 102) {
		return nil, fmt.Errorf("invalid http status code for an error message (%d)", h.status)
	}
	body := raw[ret:]
	xferLen, bodyless := false, false
	if h.status == 204 || h.status == 304 {
		h.clen, h.chnk = false, false
		xferLen, bodyless = true, true
	} else if h.clen || h.chnk {
		xferLen = true
	}
	if xferLen {
		if h.chnk {
			return nil, fmt.Errorf("chunk-encoded payload not supported")
		}
		if h.clen && h.bodyLen == 0 || !h.clen {
			bodyless = true
		}
	}
	if bodyless && len(body) > 0 {
		return nil, fmt.Errorf("message payload not expected")
	}
	if h.clen && h.bodyLen != uint64(len(body)) {
		return nil, fmt.Errorf("payload size does not match the announced content-length (%d != %d)", len(body), h.bodyLen)
	}
	// HTX capacity: the start line, each header and the end of headers
	// are blocks of a buffer of bufSize bytes.
	size := bufSize - htxHeader
	used := htxBlk + htxSL + len(h.ver) + len(h.code) + len(h.reason)
	for _, hd := range h.hdrs {
		if len(hd.name) > 255 || len(hd.value) > 1048575 {
			used = size + 1
		}
		used += htxBlk + len(hd.name) + len(hd.value)
	}
	used += htxBlk + 1
	if used > size {
		return nil, fmt.Errorf("unable to add headers into the HTX message")
	}
	if len(body) > 0 {
		used += htxBlk + len(body)
		if used > size {
			return nil, fmt.Errorf("unable to add payload into the HTX message")
		}
	}
	ver := h.ver
	if h.ver11 {
		ver = []byte("HTTP/1.1")
	}
	pg := build(ver, h.code, h.reason, h.hdrs, body)
	pg.Status = int(h.status)
	pg.Ver11 = h.ver11
	pg.KnownLength = xferLen
	pg.ConnClose, pg.ConnKeepAlive = h.connClose, h.connKA
	pg.htxFree = size - used - htxBlk
	return pg, nil
}

// build writes a page the way the H1 multiplexer formats an HTX response
// (mux_h1.c h1_process_mux): lower-case names, Connection values cleaned
// (and dropped when empty), Content-Length and Transfer-Encoding dropped
// for 1xx and 204, no connection-mode header yet.
func build(ver, code, reason []byte, hdrs []header, body []byte) *Page {
	status := 0
	for _, c := range code {
		status = status*10 + int(c-'0')
	}
	var b []byte
	hidden := 0
	b = append(b, ver...)
	b = append(b, ' ')
	b = append(b, code...)
	b = append(b, ' ')
	b = append(b, reason...)
	b = append(b, "\r\n"...)
	for _, hd := range hdrs {
		v := hd.value
		switch {
		case eqFold(hd.name, "transfer-encoding"), eqFold(hd.name, "content-length"):
			if status < 200 || status == 204 {
				hidden += len(hd.name) + len(v)
				continue
			}
		case eqFold(hd.name, "connection"):
			v = cleanConn(v)
			hidden += len(hd.value) - len(v)
			if len(v) == 0 {
				hidden += len(hd.name)
				continue
			}
		}
		b = append(b, bytes.ToLower(hd.name)...)
		b = append(b, ": "...)
		b = append(b, v...)
		b = append(b, "\r\n"...)
	}
	headLen := len(b)
	b = append(b, "\r\n"...)
	b = append(b, body...)
	return &Page{Raw: b, HeadLen: headLen, HTXHidden: hidden}
}
