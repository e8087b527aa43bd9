package h1

import (
	"bytes"
	"errors"
	"strconv"
)

// ErrIncomplete means the buffer holds no complete head yet: read more and
// parse again from the start.
var ErrIncomplete = errors.New("h1: incomplete message head")

// Error is a message Sluice refuses. Status is what HAProxy answers a
// client that sent it (400 for a malformed request, 422 for a transfer
// coding it will not decode); a refused response always gives 502.
type Error struct {
	Status int
	Msg    string
	// Offset is where in the head the problem was found, for `show
	// errors`-style reports.
	Offset int
}

func (e *Error) Error() string { return "h1: " + e.Msg + " at offset " + strconv.Itoa(e.Offset) }

func bad(off int, msg string) error { return &Error{Status: 400, Msg: msg, Offset: off} }

// Limits bound what a head may hold. Zero fields take HAProxy's defaults.
type Limits struct {
	// MaxFields is tune.http.maxhdr: at most this many header fields.
	MaxFields int
}

// DefaultMaxFields is HAProxy's tune.http.maxhdr default; a message may
// hold one field less.
const DefaultMaxFields = 101

// maxNameLen is the longest header name HAProxy can hold.
const maxNameLen = 255

// tchar is RFC 9110's token character set (method and field names).
var tchar [256]bool

func init() {
	for c := '0'; c <= '9'; c++ {
		tchar[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		tchar[c] = true
		tchar[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		tchar[c] = true
	}
}

// ParseRequest parses a request head at the start of buf into h. It
// returns the head's length, ErrIncomplete when buf ends before the head
// does, or an *Error. Empty lines before the request line are skipped
// (RFC 9112 section 2.2).
func ParseRequest(buf []byte, h *Head, lim Limits) (int, error) {
	h.Reset()
	i := 0
	for i < len(buf) && (buf[i] == '\r' || buf[i] == '\n') {
		i++
	}
	// method SP+ request-target SP+ HTTP-version
	start := i
	for i < len(buf) && tchar[buf[i]] {
		i++
	}
	if i == len(buf) {
		return 0, ErrIncomplete
	}
	// HAProxy takes a tab for a space between the start line's parts.
	if i == start || (buf[i] != ' ' && buf[i] != '\t') {
		return 0, bad(i, "invalid character in method")
	}
	h.method = buf[start:i]
	for i < len(buf) && (buf[i] == ' ' || buf[i] == '\t') {
		i++
	}
	start = i
	// The target: visible ASCII only. HAProxy refuses a fragment ('#')
	// and anything non-printable (RFC 9112 section 3.2).
	for i < len(buf) && buf[i] > ' ' && buf[i] < 0x7f && buf[i] != '#' {
		i++
	}
	if i == len(buf) {
		return 0, ErrIncomplete
	}
	if i == start || (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n') {
		return 0, bad(i, "invalid character in request target")
	}
	h.uri = buf[start:i]
	if buf[i] != ' ' && buf[i] != '\t' {
		// HTTP/0.9 "GET /": no version, which HAProxy refuses.
		return 0, bad(i, "missing HTTP version")
	}
	for i < len(buf) && (buf[i] == ' ' || buf[i] == '\t') {
		i++
	}
	n, err := h.parseVersion(buf, i)
	if err != nil {
		return 0, err
	}
	i += n
	if i, err = endOfLine(buf, i); err != nil {
		return 0, err
	}
	if h.Major == 0 {
		return 0, bad(start, "HTTP/0.x is not supported")
	}
	if i, err = parseFields(buf, i, &h.Fields, limit(lim)); err != nil {
		return 0, err
	}
	return i, h.requestFraming()
}

// ParseResponse parses a response head. headReq says the request was a
// HEAD, whose response has no body whatever its head says.
func ParseResponse(buf []byte, h *Head, headReq bool, lim Limits) (int, error) {
	h.Reset()
	n, err := h.parseVersion(buf, 0)
	if err != nil {
		return 0, err
	}
	i := n
	if i+4 > len(buf) {
		return 0, ErrIncomplete
	}
	if buf[i] != ' ' || !digit(buf[i+1]) || !digit(buf[i+2]) || !digit(buf[i+3]) {
		return 0, bad(i, "invalid status")
	}
	h.status = int(buf[i+1]-'0')*100 + int(buf[i+2]-'0')*10 + int(buf[i+3]-'0')
	if h.status < 100 {
		return 0, bad(i, "invalid status")
	}
	i += 4
	start := i
	if i < len(buf) && buf[i] == ' ' {
		i++
		start = i
		for i < len(buf) && buf[i] != '\r' && buf[i] != '\n' {
			i++
		}
	}
	h.reason = buf[start:i]
	if i, err = endOfLine(buf, i); err != nil {
		return 0, err
	}
	if i, err = parseFields(buf, i, &h.Fields, limit(lim)); err != nil {
		return 0, err
	}
	return i, h.responseFraming(headReq)
}

func limit(l Limits) int {
	if l.MaxFields > 0 {
		return l.MaxFields
	}
	return DefaultMaxFields
}

func digit(c byte) bool { return '0' <= c && c <= '9' }

// parseVersion reads "HTTP/x.y" (case-sensitive, RFC 9112 section 2.3).
func (h *Head) parseVersion(buf []byte, i int) (int, error) {
	const p = "HTTP/"
	if len(buf)-i < len(p)+3 {
		for k := i; k < len(buf); k++ {
			if k-i < len(p) && buf[k] != p[k-i] {
				return 0, bad(k, "invalid HTTP version")
			}
		}
		return 0, ErrIncomplete
	}
	v := buf[i : i+len(p)+3]
	if string(v[:len(p)]) != p || !digit(v[5]) || v[6] != '.' || !digit(v[7]) {
		return 0, bad(i, "invalid HTTP version")
	}
	h.version = v
	h.Major, h.Minor = int(v[5]-'0'), int(v[7]-'0')
	if h.Major > 1 || (h.Major == 1 && h.Minor > 1) {
		h.Major, h.Minor = 1, 1
	}
	return len(v), nil
}

// endOfLine expects CRLF (or a bare LF, which HAProxy accepts) at i.
func endOfLine(buf []byte, i int) (int, error) {
	switch {
	case i >= len(buf):
		return 0, ErrIncomplete
	case buf[i] == '\n':
		return i + 1, nil
	case buf[i] != '\r':
		return 0, bad(i, "unexpected character at end of line")
	case i+1 >= len(buf):
		return 0, ErrIncomplete
	case buf[i+1] != '\n':
		return 0, bad(i+1, "CR not followed by LF")
	}
	return i + 2, nil
}

// parseFields reads header fields up to and including the empty line.
// An obs-fold continuation line (RFC 9112 section 5.2) is joined to the
// previous value with its CR and LF replaced by spaces, as HAProxy does.
func parseFields(buf []byte, i int, fields *[]Field, max int) (int, error) {
	for {
		if i >= len(buf) {
			return 0, ErrIncomplete
		}
		if buf[i] == '\r' || buf[i] == '\n' {
			return endOfLine(buf, i)
		}
		if buf[i] == ' ' || buf[i] == '\t' {
			if len(*fields) == 0 {
				return 0, bad(i, "folded line before any header")
			}
			n, err := unfold(buf, i, &(*fields)[len(*fields)-1])
			if err != nil {
				return 0, err
			}
			i = n
			continue
		}
		start := i
		for i < len(buf) && tchar[buf[i]] {
			i++
		}
		if i == len(buf) {
			return 0, ErrIncomplete
		}
		// No space between name and colon (RFC 9112 section 5.1): it
		// would let two parsers disagree on the name.
		if i == start || buf[i] != ':' {
			return 0, bad(i, "invalid character in header name")
		}
		name := buf[start:i]
		// HAProxy's HTX stores a name's length in 8 bits.
		if len(name) > maxNameLen {
			return 0, bad(start, "header name too long")
		}
		i++
		for i < len(buf) && (buf[i] == ' ' || buf[i] == '\t') {
			i++
		}
		vs := i
		for i < len(buf) && buf[i] != '\r' && buf[i] != '\n' {
			i++
		}
		ve := i
		var err error
		if i, err = endOfLine(buf, i); err != nil {
			return 0, err
		}
		// HAProxy's header list keeps its last slot for an end
		// marker: tune.http.maxhdr 101 holds 100 fields.
		if len(*fields) >= max-1 {
			return 0, bad(start, "too many headers")
		}
		*fields = append(*fields, Field{Name: name, Value: trimOWS(buf[vs:ve])})
	}
}

// unfold joins a continuation line at i to f: the line break and the
// folding whitespace become spaces in place, so f.Value stays one slice.
func unfold(buf []byte, i int, f *Field) (int, error) {
	for i < len(buf) && buf[i] != '\r' && buf[i] != '\n' {
		i++
	}
	end := i
	n, err := endOfLine(buf, i)
	if err != nil {
		return 0, err
	}
	// The previous value ends before its own line break; everything from
	// its start to this line's end becomes one value.
	vstart := cap(buf) - cap(f.Value)
	for k := vstart + len(f.Value); k < end; k++ {
		if buf[k] == '\r' || buf[k] == '\n' {
			buf[k] = ' ' // HAProxy blanks the line break only, tabs stay
		}
	}
	f.Value = trimOWS(buf[vstart:end])
	return n, nil
}

// requestFraming applies RFC 9112 section 6.3 to a request and closes the
// smuggling routes: Transfer-Encoding wins over Content-Length, which is
// removed; Content-Length values must all agree; chunked must be the last
// coding and appear once.
func (h *Head) requestFraming() error {
	te, err := h.transferEncoding()
	if err != nil {
		return err
	}
	if err := h.contentLength(); err != nil {
		return err
	}
	host := -1
	for i := 0; i < len(h.Fields); i++ {
		f := h.Fields[i]
		switch {
		case EqualFold(f.Name, "host"):
			// A second Host with the same value is dropped, another
			// value refused, as HAProxy does.
			if host < 0 {
				host = i
			} else if !EqualFold(f.Value, string(h.Fields[host].Value)) {
				return bad(0, "more than one Host header")
			} else {
				h.Fields = append(h.Fields[:i], h.Fields[i+1:]...)
				i--
			}
		case EqualFold(f.Name, "connection"):
			h.Conn |= connTokens(f.Value)
		case EqualFold(f.Name, "expect"):
			h.Expect100 = h.Expect100 || EqualFold(f.Value, "100-continue")
		}
	}
	h.HasHost = host >= 0
	if host >= 0 {
		if err := h.matchAuthority(&h.Fields[host].Value); err != nil {
			return err
		}
	}
	switch {
	case te == teChunked:
		if h.Del("content-length") > 0 || !h.Is11() {
			// With Content-Length too, or in HTTP/1.0, the framing is
			// in doubt: the connection closes after the response (RFC
			// 9112 section 6.1), which HAProxy does on the client side.
			h.Conn |= ConnClose
		}
		h.Framing, h.ContentLength = Chunked, 0
	case te == teCodedChunked:
		return &Error{Status: 422, Msg: "transfer coding other than chunked"}
	case te == teOther:
		return bad(0, "request body not chunked")
	case te == teBad:
		return bad(0, "invalid Transfer-Encoding")
	}
	return nil
}

// matchAuthority checks an absolute-form target ("http://a/x") against
// the Host header as HAProxy 2.6 does: they must name the same host and
// port, a scheme's default port (80 for http, 443 for https) counting
// as no port; that default port is then removed from both, in place.
func (h *Head) matchAuthority(host *[]byte) error {
	u := h.uri
	k := bytes.Index(u, []byte("://"))
	if k <= 0 || !isScheme(u[:k]) {
		return nil
	}
	a0 := k + 3
	a1 := a0
	for a1 < len(u) && u[a1] != '/' && u[a1] != '?' {
		a1++
	}
	def := ""
	switch {
	case EqualFold(u[:k], "http"):
		def = "80"
	case EqualFold(u[:k], "https"):
		def = "443"
	}
	uh, up := splitHostPort(u[a0:a1])
	hh, hp := splitHostPort(*host)
	if !bytes.EqualFold(uh, hh) || !samePort(up, hp, def) {
		return bad(0, "absolute URI and Host disagree")
	}
	if def != "" && up != nil && string(up) == def {
		// ":port" is left out when the target is written; the buffer
		// stays as received, so that the head parses again the same.
		h.uriCut, h.uriCutEnd = a0+len(uh), a1
	}
	if def != "" && hp != nil && string(hp) == def {
		*host = (*host)[:len(hh)]
	}
	return nil
}

func isScheme(b []byte) bool {
	for i, c := range b {
		if !('a' <= lower(c) && lower(c) <= 'z') && (i == 0 || !(digit(c) || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// splitHostPort splits "host:port" ("[v6]:port"); port is nil when
// there is none.
func splitHostPort(a []byte) (host, port []byte) {
	i := len(a) - 1
	for i >= 0 && digit(a[i]) {
		i--
	}
	if i >= 0 && a[i] == ':' && (a[0] != '[' || (i > 0 && a[i-1] == ']')) {
		return a[:i], a[i+1:]
	}
	return a, nil
}

func samePort(a, b []byte, def string) bool {
	switch {
	case a == nil && b == nil:
		return true
	case a == nil:
		return def != "" && string(b) == def
	case b == nil:
		return def != "" && string(a) == def
	}
	return string(a) == string(b)
}

// responseFraming decides how a response's body ends.
func (h *Head) responseFraming(headReq bool) error {
	te, err := h.transferEncoding()
	if err != nil {
		return err
	}
	if err := h.contentLength(); err != nil {
		return err
	}
	for _, f := range h.Fields {
		if EqualFold(f.Name, "connection") {
			h.Conn |= connTokens(f.Value)
		}
	}
	switch {
	case h.status == 204:
		// HAProxy removes a 204's Content-Length (RFC 9110 section
		// 8.6: a server must not send one).
		h.Del("content-length")
		h.Framing, h.ContentLength = NoBody, 0
	case headReq || h.status < 200 || h.status == 304:
		h.Framing = NoBody
	case te == teChunked || te == teCodedChunked:
		if h.Del("content-length") > 0 {
			// Framing in doubt: the server connection is not reused
			// (RFC 9112 section 6.1), as in HAProxy.
			h.Conn |= ConnClose
		}
		h.Framing, h.ContentLength = Chunked, 0
	case te != teNone:
		// A coding without chunked last would end at close (RFC 9112
		// section 6.3, point 4), but HAProxy 2.6 refuses it: 502.
		return bad(0, "invalid Transfer-Encoding")
	case h.Framing != Length:
		h.Framing = UntilClose
	}
	return nil
}

const (
	teNone = iota
	teChunked
	teOther
	teBad
	teCodedChunked // other codings, then chunked
)

// transferEncoding reads every Transfer-Encoding field as one list.
func (h *Head) transferEncoding() (int, error) {
	state, seen, other := teNone, false, false
	for _, f := range h.Fields {
		if !EqualFold(f.Name, "transfer-encoding") {
			continue
		}
		seen = true
		v := f.Value
		for len(v) > 0 {
			var t []byte
			if k := indexByte(v, ','); k >= 0 {
				t, v = v[:k], v[k+1:]
			} else {
				t, v = v, nil
			}
			t = trimOWS(t)
			switch {
			case len(t) == 0:
			case EqualFold(t, "chunked"):
				if state == teChunked {
					return teBad, nil // chunked twice
				}
				state = teChunked
			case EqualFold(t, "identity"):
				return teBad, nil
			default:
				if state == teChunked {
					return teBad, nil // chunked must be last
				}
				state, other = teOther, true
			}
		}
	}
	if seen && state == teNone {
		return teBad, nil
	}
	if other {
		// HAProxy decodes no coding but chunked: "gzip, chunked" is
		// well-formed but refused with 422.
		if state == teChunked {
			return teCodedChunked, nil
		}
		return teOther, nil
	}
	return state, nil
}

// contentLength checks every Content-Length value: a list of identical
// decimal numbers ("3, 3", or the same value in two fields) is merged
// into one field, as HAProxy does; anything else is refused.
func (h *Head) contentLength() error {
	var n int64 = -1
	first := -1
	for i := range h.Fields {
		f := &h.Fields[i]
		if !EqualFold(f.Name, "content-length") {
			continue
		}
		v := f.Value
		for {
			var t []byte
			k := indexByte(v, ',')
			if k >= 0 {
				t, v = trimOWS(v[:k]), v[k+1:]
			} else {
				t = trimOWS(v)
			}
			m, ok := parseDecimal(t)
			if !ok || (n >= 0 && m != n) {
				return bad(0, "invalid Content-Length")
			}
			if n < 0 {
				n = m
				if first < 0 {
					first = i
					f.Value = t
				}
			}
			if k < 0 {
				break
			}
		}
	}
	if first < 0 {
		return nil
	}
	// Keep the first field, with one value.
	keep := h.Fields[first]
	out := h.Fields[:0]
	for i, f := range h.Fields {
		if i == first {
			out = append(out, keep)
		} else if !EqualFold(f.Name, "content-length") {
			out = append(out, f)
		}
	}
	clear(h.Fields[len(out):])
	h.Fields = out
	h.Framing, h.ContentLength = Length, n
	return nil
}

// parseDecimal reads 1*DIGIT (no sign, no blanks) without overflow.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !digit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func connTokens(v []byte) uint8 {
	var fl uint8
	if HasToken(v, "close") {
		fl |= ConnClose
	}
	if HasToken(v, "keep-alive") {
		fl |= ConnKeepAlive
	}
	if HasToken(v, "upgrade") {
		fl |= ConnUpgrade
	}
	return fl
}
