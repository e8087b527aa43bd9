package sample

import "sluice/internal/h1"

// Helpers reading an HTTPMessage the way HAProxy 2.6 reads its HTX
// messages (src/http_htx.c, src/http.c). They allocate nothing.

// isLWS is HAProxy's HTTP_IS_LWS: space, tab, CR, LF.
func isLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// isSPHT is HAProxy's HTTP_IS_SPHT: space or tab.
func isSPHT(c byte) bool { return c == ' ' || c == '\t' }

// equalFold compares a header name with a lower- or mixed-case string,
// ASCII only, without allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// hdrCursor is a position in a message's header list: the field being
// read and, once a value of it was returned, the offset where the next
// comma-separated element starts.
type hdrCursor struct {
	field   int
	off     int
	inField bool
}

// hdrValueEnd is http_find_hdr_value_end: the first comma outside a
// quoted string, or the end.
func hdrValueEnd(v []byte) int { return h1.ValueEnd(v) }

// nextHdr is __http_find_header: the next value of header name (any
// header when name is empty) after cur, split at commas unless full,
// with surrounding spaces removed.
func nextHdr(m HTTPMessage, name string, full bool, cur *hdrCursor) ([]byte, bool) {
	n := m.NumFields()
	for cur.field < n {
		fname, val := m.Field(cur.field)
		var v []byte
		base := 0
		if cur.inField {
			if full || cur.off >= len(val) {
				cur.field, cur.inField = cur.field+1, false
				continue
			}
			v, base = val[cur.off:], cur.off
			if v[0] == ',' {
				v, base = v[1:], base+1
			}
		} else {
			if name != "" && !equalFold(fname, name) {
				cur.field++
				continue
			}
			v = val
		}
		s := 0
		for s < len(v) && isLWS(v[s]) {
			s++
		}
		end := len(v)
		if !full {
			end = s + hdrValueEnd(v[s:])
		}
		e := end
		for e > s && isLWS(v[e-1]) {
			e--
		}
		cur.inField, cur.off = true, base+end
		return v[s:e], true
	}
	return nil, false
}

// maxHdrHistory is HAProxy's MAX_HDR_HISTORY: how far back a negative
// occurrence may count.
const maxHdrHistory = 10

// hdrOcc is http_get_htx_hdr / http_get_htx_fhdr: occurrence occ of a
// header, counted from the first (occ >= 1; 0 is the first too) or from
// the last (occ < 0, -1 being the last, no further back than 10).
func hdrOcc(m HTTPMessage, name string, occ int64, full bool) ([]byte, bool) {
	var cur hdrCursor
	if occ >= 0 {
		for {
			v, ok := nextHdr(m, name, full, &cur)
			if !ok {
				return nil, false
			}
			occ--
			if occ <= 0 {
				return v, true
			}
		}
	}
	if -occ > maxHdrHistory {
		return nil, false
	}
	var hist [maxHdrHistory][]byte
	found, idx := 0, 0
	for {
		v, ok := nextHdr(m, name, full, &cur)
		if !ok {
			break
		}
		hist[idx] = v
		if idx++; idx >= maxHdrHistory {
			idx = 0
		}
		found++
	}
	if -occ > int64(found) {
		return nil, false
	}
	idx += int(occ) + maxHdrHistory
	if idx >= maxHdrHistory {
		idx -= maxHdrHistory
	}
	return hist[idx], true
}

// uriPath is http_parse_path: the path of an origin-form target, or of
// an absolute URI after its scheme and authority; nothing for "*", an
// empty target, an authority (CONNECT) or an absolute URI without path.
func uriPath(uri []byte) ([]byte, bool) {
	if len(uri) == 0 || uri[0] == '*' {
		return nil, false
	}
	if uri[0] == '/' {
		return uri, true
	}
	// http_parse_scheme: alpha *(alnum / "+" / "-" / ".") "://"
	if !isAlpha(uri[0]) {
		return nil, false
	}
	i := 1
	for i < len(uri) && (isAlpha(uri[i]) || uri[i] >= '0' && uri[i] <= '9' || uri[i] == '+' || uri[i] == '-' || uri[i] == '.') {
		i++
	}
	if i+3 > len(uri) || uri[i] != ':' || uri[i+1] != '/' || uri[i+2] != '/' {
		return nil, false
	}
	i += 3
	for i < len(uri) && uri[i] != '/' {
		i++
	}
	if i == len(uri) {
		return nil, false
	}
	return uri[i:], true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// cutAt returns b up to the first c.
func cutAt(b []byte, c byte) []byte {
	for i, x := range b {
		if x == c {
			return b[:i]
		}
	}
	return b
}

// CookieValueEnd is http_find_cookie_value_end: the first ',' or ';'
// outside a quoted string.
func CookieValueEnd(v []byte) int {
	quoted, qdpair := false, false
	for i, c := range v {
		switch {
		case qdpair:
			qdpair = false
		case quoted:
			if c == '\\' {
				qdpair = true
			} else if c == '"' {
				quoted = false
			}
		case c == '"':
			quoted = true
		case c == ',' || c == ';':
			return i
		}
	}
	return len(v)
}

// extractCookie is http_extract_cookie_value: from offset at in hdr, the
// next cookie named name (any when empty), its value and the offset to
// go on from. list is true for Cookie headers, which hold several
// cookies; a Set-Cookie header's name is only in its first pair.
func extractCookie(hdr []byte, at int, name string, list bool) (val []byte, next int, ok bool) {
	end := len(hdr)
	for attBeg := at; attBeg+len(name)+1 < end; attBeg = next + 1 {
		for attBeg < end && isSPHT(hdr[attBeg]) {
			attBeg++
		}
		equal, attEnd := attBeg, attBeg
		for equal < end {
			c := hdr[equal]
			if c == '=' || c == ';' || (list && c == ',') {
				break
			}
			equal++
			if isSPHT(c) {
				continue
			}
			attEnd = equal
		}
		var valBeg, valEnd int
		if equal < end && hdr[equal] == '=' {
			valBeg = equal + 1
			for valBeg < end && isSPHT(hdr[valBeg]) {
				valBeg++
			}
			next = valBeg + CookieValueEnd(hdr[valBeg:])
			valEnd = next
			for valEnd > valBeg && isSPHT(hdr[valEnd-1]) {
				valEnd--
			}
		} else {
			valBeg, valEnd, next = equal, equal, equal
		}
		if attBeg < end && hdr[attBeg] == '$' {
			continue
		}
		if equal == next {
			continue
		}
		if name == "" || string(hdr[attBeg:attEnd]) == name {
			return hdr[valBeg:valEnd], next + 1, true
		}
		if !list {
			break
		}
	}
	return nil, 0, false
}

// isParamDelim is http_is_param_delimiter.
func isParamDelim(c, delim byte) bool { return c == '&' || c == ';' || c == delim }

// findURLParam is http_find_next_url_param over qs[pos:]: the value of
// the next parameter called name (the first '=' when name is empty) and
// where it ends.
func findURLParam(qs []byte, pos int, name string, delim byte) (vs, ve int, ok bool) {
	end := len(qs)
	argStart := pos
	if name != "" {
		argStart = -1
		p := pos
		for p < end {
			equal := p + len(name)
			if equal >= end {
				return 0, 0, false
			}
			if qs[equal] == '=' {
				if string(qs[p:equal]) == name {
					argStart = p
					break
				}
				p += len(name) + 1
			}
			for p < end && !isParamDelim(qs[p], delim) {
				p++
			}
			if p >= end {
				return 0, 0, false
			}
			p++
		}
		if argStart < 0 {
			return 0, 0, false
		}
		vs = argStart + len(name) + 1
	} else {
		i := argStart
		for i < end && qs[i] != '=' {
			i++
		}
		if i >= end {
			return 0, 0, false
		}
		vs = i + 1
	}
	ve = vs
	for ve < end && !isParamDelim(qs[ve], delim) {
		ve++
	}
	return vs, ve, true
}

// strl2ic is HAProxy's strl2ic: a leading decimal number in 32-bit
// arithmetic. Like HAProxy it does not stop at characters below '0',
// which count as negative digits.
func strl2ic(b []byte) int64 {
	var i int32
	if len(b) == 0 {
		return 0
	}
	if b[0] != '-' {
		for _, c := range b {
			j := int32(c) - '0'
			if j > 9 {
				break
			}
			i = i*10 + j
		}
	} else {
		for _, c := range b[1:] {
			j := int32(c) - '0'
			if j > 9 {
				break
			}
			i = i*10 - j
		}
	}
	return int64(i)
}

// url2ipv4 is HAProxy's url2ipv4: a dotted quad at the start of b and
// the length it took; 0 when there is none.
func url2ipv4(b []byte) (a [4]byte, n int) {
	octets, sawDigit := 0, false
	var tmp [4]int
	tp := 0
	i := 0
	for ; i < len(b); i++ {
		ch := b[i]
		d := int(ch) - '0'
		if (d < 0 || d > 9) && ch != '.' {
			break
		}
		if d >= 0 && d <= 9 {
			nv := tmp[tp]*10 + d
			if nv > 255 {
				return a, 0
			}
			tmp[tp] = nv
			if !sawDigit {
				if octets++; octets > 4 {
					return a, 0
				}
				sawDigit = true
			}
		} else if ch == '.' && sawDigit {
			if octets == 4 {
				return a, 0
			}
			tp++
			sawDigit = false
		} else {
			return a, 0
		}
	}
	if octets < 4 {
		return a, 0
	}
	for k := range a {
		a[k] = byte(tmp[k])
	}
	return a, i
}
