package httperr

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Loader reads errorfiles the way HAProxy does: each path once (later uses
// share the page), within tune.bufsize. Warnings collects HAProxy's
// messages about truncated files, without any "parsing [...]" prefix.
type Loader struct {
	// BufSize is tune.bufsize (0: 16384); MaxRewrite is tune.maxrewrite
	// (0: 1024, at most BufSize/2).
	BufSize, MaxRewrite int
	Warnings            []string
	cache               map[string]*Page
	order               []string
}

func (l *Loader) bufSize() int {
	if l.BufSize > 0 {
		return l.BufSize
	}
	return DefaultBufSize
}

func (l *Loader) maxRewrite() int {
	m := l.MaxRewrite
	if m <= 0 {
		m = DefaultMaxRewrite
	}
	if m >= l.bufSize()/2 {
		m = l.bufSize() / 2
	}
	return m
}

func (l *Loader) cached(key string) *Page {
	if l.cache == nil {
		l.cache = map[string]*Page{}
	}
	return l.cache[key]
}

func (l *Loader) store(key string, p *Page) {
	l.cache[key] = p
	l.order = append(l.order, key)
}

func withCode(p *Page, code int) *Page {
	c := *p
	c.Code = code
	return &c
}

// File loads an errorfile (http_load_errorfile): errors read
// "error opening file 'F'.", "error reading file 'F'." or "'F': <why>".
func (l *Loader) File(path string) (*Page, error) {
	if p := l.cached(path); p != nil {
		return p, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("error opening file '%s'.", path)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("error opening file '%s'.", path)
	}
	n := int(st.Size())
	if n > l.bufSize() {
		l.Warnings = append(l.Warnings, fmt.Sprintf("custom error message file '%s' larger than %d bytes. Truncating.", path, l.bufSize()))
		n = l.bufSize()
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(f, raw); err != nil || st.IsDir() {
		return nil, fmt.Errorf("error reading file '%s'.", path)
	}
	p, err := parseMessage(raw, l.bufSize())
	if err != nil {
		return nil, fmt.Errorf("'%s': %v", path, err)
	}
	l.store(path, p)
	return p, nil
}

// Errorfile is `errorfile CODE FILE` (http_parse_errorfile).
func (l *Loader) Errorfile(code int, path string) (*Page, error) {
	if !Handled(code) {
		return nil, fmt.Errorf("status code '%d' not handled.", code)
	}
	p, err := l.File(path)
	if err != nil {
		return nil, err
	}
	return withCode(p, code), nil
}

// Errorloc is `errorloc302|errorloc303 CODE URL` (http_parse_errorloc):
// a redirect with an empty body; errloc is 302 or 303.
func (l *Loader) Errorloc(errloc, code int, url string) (*Page, error) {
	if !Handled(code) {
		return nil, fmt.Errorf("status code '%d' not handled.", code)
	}
	key := fmt.Sprintf("errorloc%d %s", errloc, url)
	if p := l.cached(key); p != nil {
		return withCode(p, code), nil
	}
	msg := "HTTP/1.1 302 Found\r\n"
	if errloc == 303 {
		msg = "HTTP/1.1 303 See Other\r\n"
	}
	msg += "Cache-Control: no-cache\r\nContent-length: 0\r\nLocation: " + url + "\r\n\r\n"
	p, err := parseMessage([]byte(msg), l.bufSize())
	if err != nil {
		return nil, fmt.Errorf("invalid error message: %v", err)
	}
	l.store(key, p)
	return withCode(p, code), nil
}

// PostCheckWarnings returns HAProxy's post-check warnings for loaded
// messages that leave less than tune.maxrewrite of buffer room.
func (l *Loader) PostCheckWarnings() []string {
	var out []string
	for _, k := range l.order {
		p := l.cache[k]
		if !p.Empty && p.htxFree < l.maxRewrite() {
			out = append(out, fmt.Sprintf("config: errorfile '%s' runs over the buffer space reserved to headers rewriting. It may lead to internal errors if  http-after-response rules are evaluated on this message.", k))
		}
	}
	return out
}

// Reply is a parsed `http-error` directive (http_parse_http_reply plus
// proxy_parse_http_error).
type Reply struct {
	Code int
	// Page is the response; nil with Section empty means the built-in page
	// (default-errorfiles): the proxy sets no page of its own for Code.
	Page *Page
	// Section names an http-errors section (errorfiles NAME), resolved by
	// Build.
	Section string
	// Warnings are HAProxy's, to print as "parsing [file:line] : <w>".
	Warnings []string
}

// HTTPError parses the arguments of `http-error` (args excludes the
// keyword). Errors are HAProxy's whole texts ("http-error : ...").
func (l *Loader) HTTPError(args []string) (*Reply, error) {
	r, err := l.httpError(args)
	if err != nil {
		if strings.HasPrefix(err.Error(), "http-error") {
			return nil, err
		}
		return nil, fmt.Errorf("http-error : %w", err)
	}
	return r, nil
}

func (l *Loader) httpError(args []string) (*Reply, error) {
	spec, err := l.ParseReply(args, 0, false)
	if err != nil {
		return nil, err
	}
	r := &Reply{Code: spec.Code, Page: spec.Page, Section: spec.Section, Warnings: spec.Warnings}
	if r.Code == 0 {
		return nil, fmt.Errorf("expects at least a <status> as arguments.")
	}
	if !Handled(r.Code) {
		return nil, fmt.Errorf("http-error: status code '%d' not handled.", r.Code)
	}
	if len(spec.Rest) > 0 {
		return nil, fmt.Errorf("unknown keyword '%s'.", spec.Rest[0])
	}
	if r.Page != nil {
		r.Page = withCode(r.Page, r.Code)
	}
	if spec.LogFormat() {
		// Rendered for each response by the engine, as HAProxy's
		// http_reply_to_htx does.
		r.Page = &Page{Code: r.Code, Status: r.Code, Ver11: true, KnownLength: true, Reply: spec}
		return r, nil
	}
	if k := spec.Kind; k == "" || k == "file" || k == "string" {
		hs := make([]header, 0, len(spec.Hdrs)+2)
		for _, h := range spec.Hdrs {
			hs = append(hs, header{[]byte(h.Name), []byte(h.Value)})
		}
		r.Page = staticReply(r.Code, hs, spec.Body, spec.CType)
	}
	return r, nil
}

// staticReply builds an http reply without log-format parts: the headers
// given, then content-length, then content-type when there is a body,
// as HAProxy's http_reply_to_htx writes them. A header whose value is
// empty is left out.
func staticReply(code int, hs []header, body, ctype string) *Page {
	out := make([]header, 0, len(hs)+2)
	for _, h := range hs {
		if len(h.value) > 0 {
			out = append(out, h)
		}
	}
	out = append(out, header{[]byte("content-length"), []byte(strconv.Itoa(len(body)))})
	if body != "" && ctype != "" {
		out = append(out, header{[]byte("content-type"), []byte(ctype)})
	}
	return replyPage(code, out, []byte(body))
}

// replyPage builds an http reply's response (http_ana.c http_reply_to_htx).
func replyPage(code int, hs []header, body []byte) *Page {
	c := []byte(strconv.Itoa(code))
	p := build([]byte("HTTP/1.1"), c, []byte(Reason(code)), hs, body)
	p.Code, p.Status, p.Ver11, p.KnownLength = code, code, true, true
	for _, h := range hs {
		if eqFold(h.name, "connection") {
			parseConn(h.value, &p.ConnClose, &p.ConnKeepAlive)
		}
	}
	return p
}

// rawFile reads the payload of `file FILE`.
func (l *Loader) rawFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("error opening file '%s'", path)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("error opening file '%s'", path)
	}
	if st.Size() > int64(l.bufSize()) {
		return "", fmt.Errorf("file '%s' exceeds the buffer size (%d > %d)", path, st.Size(), l.bufSize())
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil || st.IsDir() {
		return "", fmt.Errorf("error reading file '%s'", path)
	}
	return string(b), nil
}

// atol is C's atol: leading blanks, optional sign, digits, rest ignored.
func atol(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1<<40 {
			break
		}
	}
	if neg {
		return -n
	}
	return n
}

// Atol exposes C's atol, which HAProxy uses to read status codes
// ("errorfile 503x f" is errorfile 503).
func Atol(s string) int { return atol(s) }
