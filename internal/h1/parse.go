package h1

import (
	"errors"
	"strconv"
)

// ErrIncomplete means the buffer holds no complete head yet: read more and
// parse again from the start.
var ErrIncomplete = errors.New("h1: incomplete message head")

// Error is a message Sluice refuses. Status is what HAProxy answers a
// client that sent it (400 for a malformed request, 413 for an HTTP/1.0
// GET, HEAD or DELETE with a body, 422 for a transfer coding it will not
// decode); a refused response always gives 502.
type Error struct {
	Status int
	Msg    string
	// Offset is where in the head the problem was found, for `show
	// errors`-style reports.
	Offset int
}

func (e *Error) Error() string { return "h1: " + e.Msg + " at offset " + strconv.Itoa(e.Offset) }

// Messages of refusals the tests tell apart.
const (
	msgTooManyHeaders = "too many headers"
	msgTargetHost     = "request target does not match Host"
	msgConnectTarget  = "CONNECT target does not match Host"
	msgWebSocketKey   = "WebSocket upgrade without Sec-WebSocket-Key"
	msgFragment       = "fragment in request target"
)

func bad(off int, msg string) error { return &Error{Status: 400, Msg: msg, Offset: off} }

// Limits bound what a head may hold. Zero fields take HAProxy's defaults.
type Limits struct {
	// MaxFields is tune.http.maxhdr. As in HAProxy, the end of the head
	// takes one of these slots, so a head holds at most MaxFields-1
	// fields (100 by default), not counting the fields HAProxy drops
	// while parsing (repeated Content-Length or Host values, Connection
	// fields holding only close or keep-alive).
	MaxFields int
	// Lax is HAProxy's option accept-invalid-http-request (for
	// ParseRequest) or accept-invalid-http-response (ParseResponse):
	// bytes above 0x7e and '#' in a request target, any byte but ':' and
	// LF in a field name (such a name is never Content-Length, Host...),
	// any version token of upper-case letters, digits, '.' and '/', and
	// a request target whose authority is not the Host are let through.
	Lax bool
	// Again says the buffer was parsed before, and changed in place then
	// (an obs-fold, a default port left out of an absolute target): the
	// port is not looked at twice, so "http://a::" stays "http://a:".
	Again bool
}

// DefaultMaxFields is HAProxy's tune.http.maxhdr default.
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

func isSPHT(c byte) bool { return c == ' ' || c == '\t' }

// skipEmptyLines skips the empty lines a client may send before a message
// (RFC 9112 section 2.2): CRLF or bare LF; a CR must be followed by LF.
func skipEmptyLines(buf []byte) (int, error) {
	i := 0
	for i < len(buf) {
		switch buf[i] {
		case '\n':
			i++
		case '\r':
			if i+1 == len(buf) {
				return 0, ErrIncomplete
			}
			if buf[i+1] != '\n' {
				return 0, bad(i+1, "CR not followed by LF")
			}
			i += 2
		default:
			return i, nil
		}
	}
	return 0, ErrIncomplete
}

// ParseRequest parses a request head at the start of buf into h. It
// returns the head's length, ErrIncomplete when buf ends before the head
// does, or an *Error. Empty lines before the request line are skipped
// (RFC 9112 section 2.2). buf is modified in place where an obs-fold is
// turned into spaces.
func ParseRequest(buf []byte, h *Head, lim Limits) (int, error) {
	h.Reset()
	i, err := skipEmptyLines(buf)
	if err != nil {
		return 0, err
	}
	// method SP request-target SP HTTP-version, where HAProxy takes any
	// run of SP and HTAB as the separator (RFC 9112 section 3 allows it).
	start := i
	for i < len(buf) && tchar[buf[i]] {
		i++
	}
	if i == len(buf) {
		return 0, ErrIncomplete
	}
	if i == start || !isSPHT(buf[i]) {
		return 0, bad(i, "invalid character in method")
	}
	h.method = buf[start:i]
	if i, err = skipSPHT(buf, i); err != nil {
		return 0, err
	}
	start = i
	// The target: visible ASCII only. HAProxy refuses a fragment ('#',
	// CVE-2023-45539) and anything non-printable (RFC 9112 section 3.2);
	// lax, it takes 8-bit bytes and '#' too.
	for i < len(buf) && (buf[i] > ' ' && buf[i] < 0x7f && buf[i] != '#' || lim.Lax && (buf[i] >= 0x80 || buf[i] == '#')) {
		i++
	}
	if i == len(buf) {
		return 0, ErrIncomplete
	}
	if buf[i] == '#' {
		return 0, bad(i, msgFragment)
	}
	if i == start || !isSPHT(buf[i]) {
		// A CR or LF here is HTTP/0.9 ("GET /"), which HAProxy refuses.
		return 0, bad(i, "invalid character in request target")
	}
	h.uri = buf[start:i]
	if i, err = skipSPHT(buf, i); err != nil {
		return 0, err
	}
	if i, err = h.parseVersion(buf, i, false, lim.Lax); err != nil {
		return 0, err
	}
	if i, err = endOfLine(buf, i); err != nil {
		return 0, err
	}
	if i, err = parseFields(buf, i, &h.Fields, hardLimit(lim), lim.Lax); err != nil {
		return 0, err
	}
	h.lax, h.again = lim.Lax, lim.Again
	return i, h.requestFraming(limit(lim))
}

// ParseResponse parses a response head. headReq says the request was a
// HEAD, whose response has no body whatever its head says. buf is
// modified in place where an obs-fold is turned into spaces.
func ParseResponse(buf []byte, h *Head, headReq bool, lim Limits) (int, error) {
	h.Reset()
	i, err := skipEmptyLines(buf)
	if err != nil {
		return 0, err
	}
	if i, err = h.parseVersion(buf, i, true, lim.Lax); err != nil {
		return 0, err
	}
	if i == len(buf) {
		return 0, ErrIncomplete
	}
	if !isSPHT(buf[i]) {
		return 0, bad(i, "invalid HTTP version")
	}
	if i, err = skipSPHT(buf, i); err != nil {
		return 0, err
	}
	// status-code = 3DIGIT (RFC 9112 section 4). HAProxy takes any run of
	// digits; Sluice refuses what is not three, and codes below 100.
	start := i
	for i < len(buf) && digit(buf[i]) {
		i++
	}
	if i == len(buf) {
		return 0, ErrIncomplete
	}
	if i-start != 3 || buf[start] == '0' || (!isSPHT(buf[i]) && buf[i] != '\r' && buf[i] != '\n') {
		return 0, bad(start, "invalid status")
	}
	h.status = int(buf[start]-'0')*100 + int(buf[start+1]-'0')*10 + int(buf[start+2]-'0')
	if isSPHT(buf[i]) {
		if i, err = skipSPHT(buf, i); err != nil {
			return 0, err
		}
	}
	start = i
	for i < len(buf) && buf[i] != '\r' && buf[i] != '\n' {
		i++
	}
	h.reason = buf[start:i]
	if i, err = endOfLine(buf, i); err != nil {
		return 0, err
	}
	if i, err = parseFields(buf, i, &h.Fields, hardLimit(lim), lim.Lax); err != nil {
		return 0, err
	}
	return i, h.responseFraming(headReq, limit(lim))
}

// skipSPHT skips the run of SP and HTAB at i.
func skipSPHT(buf []byte, i int) (int, error) {
	for i < len(buf) && isSPHT(buf[i]) {
		i++
	}
	if i == len(buf) {
		return 0, ErrIncomplete
	}
	return i, nil
}

// limit is the number of fields a head may keep: HAProxy's header table
// has tune.http.maxhdr slots and the end-of-head marker takes one.
func limit(l Limits) int {
	if l.MaxFields > 0 {
		return l.MaxFields - 1
	}
	return DefaultMaxFields - 1
}

// hardLimit bounds the lines parseFields reads, so that a head made of
// fields HAProxy would drop still cannot grow the field list without end.
func hardLimit(l Limits) int { return 4*limit(l) + 4 }

func digit(c byte) bool { return '0' <= c && c <= '9' }

// verChar is HAProxy's HTTP_FLG_VER class: upper-case letters, digits,
// '.' and '/'.
func verChar(c byte) bool { return 'A' <= c && c <= 'Z' || digit(c) || c == '.' || c == '/' }

// parseVersion reads the protocol at i: exactly "HTTP/x.y" for a request
// (case-sensitive, RFC 9112 section 2.3); for a response HAProxy only
// checks the shape "XXXX/x.y" of upper-case letters. Versions above 1.1
// are read as 1.1, as HAProxy does; 0.x is kept and forwarded as is.
// lax takes any token of version characters, as HAProxy's
// accept-invalid options do: one of 8 bytes that reads as 1.1 or above
// is 1.1, any other is kept as received and read as 1.0.
func (h *Head) parseVersion(buf []byte, i int, resp, lax bool) (int, error) {
	const p = "HTTP/"
	start := i
	for i < len(buf) && verChar(buf[i]) {
		if !resp && !lax && i-start < len(p) && buf[i] != p[i-start] {
			return 0, bad(i, "invalid HTTP version")
		}
		i++
	}
	if i == len(buf) && (i-start <= 8 || lax) {
		return 0, ErrIncomplete
	}
	v := buf[start:i]
	if lax && len(v) > 0 && !(len(v) == 8 && v[4] == '/' && digit(v[5]) && v[6] == '.' && digit(v[7])) {
		// HAProxy's VER_11 test (h1_process_req_vsn).
		h.version, h.Major, h.Minor = v, 1, 0
		if len(v) == 8 && (v[5] > '1' || v[5] == '1' && v[7] >= '1') {
			h.Minor = 1
		}
		return i, nil
	}
	if len(v) != 8 || v[4] != '/' || !digit(v[5]) || v[6] != '.' || !digit(v[7]) {
		return 0, bad(start, "invalid HTTP version")
	}
	h.version = v
	h.Major, h.Minor = int(v[5]-'0'), int(v[7]-'0')
	if h.Major > 1 || (h.Major == 1 && h.Minor > 1) {
		h.Major, h.Minor = 1, 1
	}
	return i, nil
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
// previous value with its CRLF replaced by spaces, as HAProxy does. lax
// takes any byte but ':' and LF in a name, as HAProxy's accept-invalid
// options do, a space that starts the first line included.
func parseFields(buf []byte, i int, fields *[]Field, max int, lax bool) (int, error) {
	for {
		if i >= len(buf) {
			return 0, ErrIncomplete
		}
		if buf[i] == '\r' || buf[i] == '\n' {
			return endOfLine(buf, i)
		}
		if isSPHT(buf[i]) && !(lax && len(*fields) == 0) {
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
		for i < len(buf) && (tchar[buf[i]] || lax && buf[i] != ':' && buf[i] != '\n') {
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
		for i < len(buf) && isSPHT(buf[i]) {
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
		if len(*fields) >= max {
			return 0, bad(start, msgTooManyHeaders)
		}
		if cap(*fields) == 0 {
			// A head seen for the first time (a new server
			// connection's response): one allocation for a usual
			// header count rather than growth from one.
			*fields = make([]Field, 0, firstFields)
		}
		*fields = append(*fields, Field{Name: name, Value: trimOWS(buf[vs:ve])})
	}
}

// firstFields is the capacity a field list starts with.
const firstFields = 8

// unfold joins a continuation line at i to f: as in HAProxy, the line
// break before it and its leading whitespace become spaces in place, so
// f.Value stays one slice; whitespace inside the line is kept.
func unfold(buf []byte, i int, f *Field) (int, error) {
	eol := i - 1 // the LF ending the previous line
	if eol > 0 && buf[eol-1] == '\r' {
		eol--
	}
	j := i
	for j < len(buf) && isSPHT(buf[j]) {
		j++
	}
	end := j
	for end < len(buf) && buf[end] != '\r' && buf[end] != '\n' {
		end++
	}
	n, err := endOfLine(buf, end)
	if err != nil {
		return 0, err
	}
	for k := eol; k < j; k++ {
		if buf[k] == '\r' || buf[k] == '\n' {
			buf[k] = ' ' // HAProxy blanks the line break only: tabs stay
		}
	}
	// The value runs from its first byte to this line's end.
	vstart := cap(buf) - cap(f.Value)
	f.Value = trimOWS(buf[vstart:end])
	return n, nil
}
