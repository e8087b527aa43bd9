package logfmt

const badReq = "<BADREQ>"

func isSPHT(c byte) bool { return c == ' ' || c == '\t' }

// quoteOpen and quoteClose write the '"' that +Q puts around the request
// parts and captures.
func quoteOpen(dst []byte, fl Flags) []byte {
	if fl&FlagQuote != 0 {
		dst = append(dst, '"')
	}
	return dst
}

func quoteClose(dst []byte, fl Flags) []byte { return quoteOpen(dst, fl) }

// appendURLPart writes s with the request-line encoding ('#XX').
func appendURLPart(dst []byte, s string, fl Flags) []byte {
	dst = quoteOpen(dst, fl)
	dst = appendEncoded(dst, s, '#', clsURL, fl)
	return quoteClose(dst, fl)
}

// rRequest is %r: the whole request line, "<BADREQ>" when none was parsed.
func rRequest(dst []byte, n *node, fl *Fields) []byte {
	line := fl.RequestLine
	if line == "" {
		line = badReq
	}
	return appendURLPart(dst, line, n.flags)
}

// rMethod is %HM: up to the first blank of the request line.
func rMethod(dst []byte, n *node, fl *Fields) []byte {
	line := fl.RequestLine
	if line == "" {
		line = badReq
	}
	i := 0
	for i < len(line) && !isSPHT(line[i]) {
		i++
	}
	if i == len(line) {
		return appendURLPart(dst, badReq, n.flags)
	}
	return appendURLPart(dst, line[:i], n.flags)
}

// uriBounds returns where the URI of the request line starts and ends,
// and whether blanks separate it from the method.
func uriBounds(line string, stopAtQuery bool) (start, end int, ok bool) {
	i := 0
	for i < len(line) && !isSPHT(line[i]) {
		i++
	}
	start = i
	for start < len(line) && isSPHT(line[start]) {
		start++
	}
	end = start
	for end < len(line) && !isSPHT(line[end]) && !(stopAtQuery && line[end] == '?') {
		end++
	}
	return start, end, start > i
}

// rURIPart is %HU (whole URI), %HP (URI without query) and %HPO (path
// only, without scheme, authority and query).
func rURIPart(dst []byte, n *node, fl *Fields, pathOnly, stopAtQuery bool) []byte {
	line := fl.RequestLine
	if line == "" {
		return appendURLPart(dst, badReq, n.flags)
	}
	start, end, ok := uriBounds(line, stopAtQuery && !pathOnly)
	if !ok {
		return appendURLPart(dst, badReq, n.flags)
	}
	part := line[start:end]
	if pathOnly {
		part = uriPath(part)
		for i := 0; i < len(part); i++ {
			if part[i] == '?' {
				part = part[:i]
				break
			}
		}
	}
	return appendURLPart(dst, part, n.flags)
}

// uriPath is HAProxy's http_parse_path: the URI itself for an
// origin-form, what follows the authority for an absolute-form, nothing
// for "*" and authority-form.
func uriPath(u string) string {
	switch {
	case u == "" || u[0] == '*' || (u[0] != '/' && !isAlpha(u[0])):
		return ""
	case u[0] == '/':
		return u
	}
	i := 1
	for i < len(u) && (isAlnum(u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.') {
		i++
	}
	if len(u)-i < 3 || u[i:i+3] != "://" {
		return ""
	}
	i += 3
	for i < len(u) && u[i] != '/' {
		i++
	}
	return u[i:]
}

// rQuery is %HQ: from the first '?' of the request line to the next blank,
// nothing when there is no query.
func rQuery(dst []byte, n *node, fl *Fields) []byte {
	line := fl.RequestLine
	if line == "" {
		return appendURLPart(dst, badReq, n.flags)
	}
	q := 0
	for q < len(line) && line[q] != '?' {
		q++
	}
	e := q
	for e < len(line) && !isSPHT(line[e]) {
		e++
	}
	return appendURLPart(dst, line[q:e], n.flags)
}

// rVersion is %HV: what follows the URI, "HTTP/0.9" when nothing does.
func rVersion(dst []byte, n *node, fl *Fields) []byte {
	line := fl.RequestLine
	if line == "" {
		return appendURLPart(dst, badReq, n.flags)
	}
	_, i, ok := uriBounds(line, false)
	if !ok {
		return appendURLPart(dst, badReq, n.flags)
	}
	for i < len(line) && isSPHT(line[i]) {
		i++
	}
	if i == len(line) {
		return appendURLPart(dst, "HTTP/0.9", n.flags)
	}
	return appendURLPart(dst, line[i:], n.flags)
}

func isCapture(v varKind) bool {
	return v == vReqHeaders || v == vReqHeaderList || v == vRespHeaders || v == vRespHeaderList
}

// captures returns the capture slots a capture variable shows, nil when
// there are none (HAProxy then writes nothing, not even braces).
func captures(v varKind, fl *Fields) []Capture {
	switch v {
	case vReqHeaders, vReqHeaderList:
		if len(fl.ReqCaptures) > 0 {
			return fl.ReqCaptures
		}
	case vRespHeaders, vRespHeaderList:
		if len(fl.RespCaptures) > 0 {
			return fl.RespCaptures
		}
	}
	return nil
}

// appendCaptures writes %hr/%hs as "{a|b}" and %hrl/%hsl as "a b", with
// the header encoding ('#XX' for controls, 8-bit and '"#{|}').
func appendCaptures(dst []byte, n *node, caps []Capture) []byte {
	if n.v == vReqHeaders || n.v == vRespHeaders {
		dst = quoteOpen(dst, n.flags)
		dst = append(dst, '{')
		for i, c := range caps {
			if i > 0 {
				dst = append(dst, '|')
			}
			if c.OK {
				dst = appendEncoded(dst, c.Value, '#', clsHdr, n.flags)
			}
		}
		dst = append(dst, '}')
		return quoteClose(dst, n.flags)
	}
	for i, c := range caps {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = quoteOpen(dst, n.flags)
		if c.OK {
			dst = appendEncoded(dst, c.Value, '#', clsHdr, n.flags)
		} else if n.flags&FlagQuote == 0 {
			dst = append(dst, '-')
		}
		dst = quoteClose(dst, n.flags)
	}
	return dst
}
