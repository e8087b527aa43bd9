package check

import (
	"bytes"
	"strconv"
	"strings"
)

// httpResponse is the part of a server's reply an http-check looks at.
type httpResponse struct {
	status   int
	reason   string
	headers  [][2]string // names lower-cased, in order
	body     []byte
	complete bool // the whole body arrived
}

// parseHTTPResponse parses buf as an HTTP/1 response. It returns nil
// while the header block is incomplete, and bad for bytes that are not an
// HTTP response. Interim 1xx responses are skipped. closed means no more
// bytes will come, which ends a body without a length.
func parseHTTPResponse(buf []byte, closed bool) (resp *httpResponse, bad bool) {
	for {
		end := bytes.Index(buf, []byte("\r\n\r\n"))
		sep := 4
		if e2 := bytes.Index(buf, []byte("\n\n")); e2 >= 0 && (end < 0 || e2 < end) {
			end, sep = e2, 2
		}
		if end < 0 {
			if len(buf) >= 5 && !bytes.HasPrefix(buf, []byte("HTTP/")) {
				return nil, true
			}
			return nil, false
		}
		head := strings.ReplaceAll(string(buf[:end]), "\r\n", "\n")
		lines := strings.Split(head, "\n")
		r := &httpResponse{}
		sl := lines[0]
		if !strings.HasPrefix(sl, "HTTP/") || len(sl) < 12 || sl[8] != ' ' {
			return nil, true
		}
		code, err := strconv.Atoi(sl[9:12])
		if err != nil || code < 100 || code > 999 || (len(sl) > 12 && sl[12] != ' ') {
			return nil, true
		}
		r.status = code
		if len(sl) > 13 {
			r.reason = sl[13:]
		}
		for _, l := range lines[1:] {
			name, val, ok := strings.Cut(l, ":")
			if !ok || name == "" || strings.ContainsAny(name, " \t") {
				return nil, true
			}
			r.headers = append(r.headers, [2]string{strings.ToLower(name), strings.Trim(val, " \t")})
		}
		rest := buf[end+sep:]
		if code >= 100 && code < 200 && code != 101 {
			buf = rest
			continue
		}
		r.fillBody(rest, closed)
		return r, false
	}
}

func (r *httpResponse) header(name string) (string, bool) {
	for _, h := range r.headers {
		if h[0] == name {
			return h[1], true
		}
	}
	return "", false
}

// fillBody takes the body from rest, by Content-Length, chunked encoding
// or up to the close.
func (r *httpResponse) fillBody(rest []byte, closed bool) {
	if r.status == 204 || r.status == 304 {
		r.complete = true
		return
	}
	if te, ok := r.header("transfer-encoding"); ok && strings.Contains(strings.ToLower(te), "chunked") {
		r.body, r.complete = dechunk(rest)
		if closed {
			r.complete = true
		}
		return
	}
	if cl, ok := r.header("content-length"); ok {
		n, err := strconv.Atoi(cl)
		if err == nil && n >= 0 {
			if len(rest) >= n {
				r.body, r.complete = rest[:n], true
			} else {
				r.body, r.complete = rest, closed
			}
			return
		}
	}
	r.body, r.complete = rest, closed
}

// dechunk decodes as much of a chunked body as is there.
func dechunk(b []byte) (body []byte, complete bool) {
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return body, false
		}
		line := strings.TrimSpace(string(b[:i]))
		if semi := strings.IndexByte(line, ';'); semi >= 0 {
			line = line[:semi]
		}
		n, err := strconv.ParseInt(line, 16, 32)
		if err != nil || n < 0 {
			return body, true
		}
		b = b[i+1:]
		if n == 0 {
			return body, true
		}
		if int64(len(b)) < n {
			return append(body, b...), false
		}
		body = append(body, b[:n]...)
		b = bytes.TrimPrefix(b[n:], []byte("\r"))
		b = bytes.TrimPrefix(b, []byte("\n"))
	}
}

// expectHTTP evaluates an http-check expect, as HAProxy's
// tcpcheck_eval_expect_http.
func (r *run) expectHTTP(st *Step) (Result, bool) {
	for {
		resp, bad := parseHTTPResponse(r.buf, r.lastRead())
		if bad {
			return Result{Status: L7Rsp, Info: withComment("", st)}, false
		}
		if resp != nil && (resp.complete || r.lastRead() || !needsBody(st)) {
			r.resp = resp
			return r.evalHTTP(st, resp)
		}
		if r.lastRead() {
			return Result{Status: L7Rsp, Info: withComment("", st)}, false
		}
		if res, ok := r.fill(); !ok {
			return res, false
		}
	}
}

func needsBody(st *Step) bool { return st.Match == MatchBody || st.Match == MatchRBody }

func (r *run) evalHTTP(st *Step, resp *httpResponse) (Result, bool) {
	var match bool
	errSt, desc := L7Rsp, ""
	switch st.Match {
	case MatchStatus:
		for _, c := range st.codes {
			if resp.status >= c.lo && resp.status <= c.hi {
				match = true
			}
		}
		errSt, desc = L7Sts, resp.reason
	case MatchRStatus:
		match = st.re.MatchString(strconv.Itoa(resp.status))
		errSt, desc = L7Sts, resp.reason
	case MatchBody, MatchRBody:
		if len(resp.body) == 0 {
			return Result{Status: L7Rsp, Code: resp.status, Info: withComment("HTTP content check could not find a response body", st)}, false
		}
		if st.Match == MatchBody {
			match = bytes.Contains(resp.body, st.bytes)
		} else {
			match = st.re.Match(resp.body)
		}
		desc = "HTTP content check did not match"
		if st.Negate {
			desc = "HTTP check matched unwanted content"
		}
	case MatchHdr:
		match = st.hdr.eval(resp)
		desc = "HTTP header did not match"
		if st.Negate {
			desc = "HTTP header matched unwanted content"
		}
	}
	if match != st.Negate {
		r.lastOK = st
		return Result{}, true
	}
	if st.Err != Unknown {
		errSt = st.Err
	}
	if st.OnErr != "" {
		desc = st.OnErr
	}
	return Result{Status: errSt, Code: resp.status, Info: withComment(desc, st)}, false
}

func (h *hdrMatch) eval(resp *httpResponse) bool {
	for _, kv := range resp.headers {
		if !h.name.match(kv[0]) {
			continue
		}
		if h.value == nil {
			return true
		}
		vals := []string{kv[1]}
		if !h.full {
			vals = strings.Split(kv[1], ",")
		}
		for _, v := range vals {
			if h.value.match(strings.TrimSpace(v)) {
				return true
			}
		}
	}
	return false
}
