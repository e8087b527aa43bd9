// Package h1 is Sluice's HTTP/1.x codec: it parses request and response
// heads into an ordered list of header fields, decides how each message's
// body is framed, reads chunk-size lines and trailers, and writes heads
// back out the way HAProxy forwards them (header names in lower case).
//
// It is pure: no sockets, no goroutines. Parsed slices point into the
// caller's buffer, and a Head is reused from one message to the next, so
// parsing allocates nothing once its field list has grown to the size the
// traffic needs.
//
// Parsing is strict where framing or security depends on it (RFC 9112 and
// the request-smuggling CVEs) and as lenient as HAProxy 2.6 where it is
// not: the two must accept and refuse the same requests.
//
// Where Sluice differs from HAProxy 2.6 it refuses what HAProxy lets
// through and no client or server should send: a status code that is not
// three digits from 100 (RFC 9112 section 4), a Content-Length above
// 2^63-1, a trailer field whose name is not a token (HAProxy parses
// trailers with an uninitialised error mode and was seen to pass "X T:").
// The differences from net/http are listed with FuzzDiffNetHTTP.
package h1

// Field is one header field. Name keeps the case it arrived with; the
// writers put it out in lower case, as HAProxy does.
type Field struct {
	Name, Value []byte
}

// Framing says how a message's body is delimited (RFC 9112 section 6.3).
type Framing uint8

// Body framings.
const (
	// NoBody: the message ends with its head (a request without
	// Content-Length or Transfer-Encoding; a response to HEAD; 1xx, 204
	// and 304 responses).
	NoBody Framing = iota
	// Length: Content-Length bytes follow.
	Length
	// Chunked: chunked transfer coding, ended by a zero-size chunk and
	// trailers.
	Chunked
	// UntilClose: a response without length that ends when the server
	// closes.
	UntilClose
)

// Conn flags from the Connection header's tokens.
const (
	ConnClose uint8 = 1 << iota
	ConnKeepAlive
	ConnUpgrade
)

// Head is a parsed request or response head.
type Head struct {
	method, uri, version []byte
	// lax and again: the head was parsed with Limits.Lax, Limits.Again.
	lax, again bool
	status     int
	reason     []byte
	// Major and Minor are the protocol version as received (0.9, 1.0,
	// 1.1); versions above 1.1 are read as 1.1, as HAProxy does.
	Major, Minor int
	Fields       []Field

	// Framing and ContentLength (for Length) say how the body is delimited.
	Framing       Framing
	ContentLength int64
	// Conn holds the Connection header's close, keep-alive and upgrade
	// tokens. ConnClose is also set where HAProxy forces the connection
	// to close after the message: Transfer-Encoding with Content-Length,
	// or Transfer-Encoding in an HTTP/1.0 message.
	Conn uint8
	// Expect100 is set for a request with "Expect: 100-continue".
	Expect100 bool
	// HasHost is set when the request has a Host header (repeated
	// identical Host fields are merged into the first one).
	HasHost bool
	// htxDropped is the HTX size of fields removed because HAProxy
	// leaves them out of what it writes, not out of the message
	// (dropForOutput), and their number.
	htxDropped, nDropped int
}

// Reset empties h for the next message, keeping its field list's memory.
func (h *Head) Reset() {
	f := h.Fields[:0]
	*h = Head{Fields: f}
}

// Forget is Reset for a head put away for a while (a pooled one): the
// field list's entries are cleared too, so that they no longer hold the
// buffers the last message was read into.
func (h *Head) Forget() {
	clear(h.Fields[:cap(h.Fields)])
	h.Reset()
}

// Method is the request method as received.
func (h *Head) Method() []byte { return h.method }

// URI is the request target as received.
func (h *Head) URI() []byte { return h.uri }

// Version is the start line's protocol as received ("HTTP/1.1").
func (h *Head) Version() []byte { return h.version }

// Status is a response's status code; 0 for a request.
func (h *Head) Status() int { return h.status }

// Reason is a response's reason phrase.
func (h *Head) Reason() []byte { return h.reason }

// NumFields is the number of header fields.
func (h *Head) NumFields() int { return len(h.Fields) }

// Field returns the i-th header field.
func (h *Head) Field(i int) (name, value []byte) { return h.Fields[i].Name, h.Fields[i].Value }

// SetMethod, SetURI and SetStatus replace parts of the start line; the
// slices must stay valid until the head is written.
func (h *Head) SetMethod(m []byte) { h.method = m }

// SetURI replaces the request target.
func (h *Head) SetURI(u []byte) { h.uri = u }

// SetStatus replaces a response's status and reason.
func (h *Head) SetStatus(code int, reason []byte) { h.status, h.reason = code, reason }

// Is11 reports whether the message is HTTP/1.1 (or above, read as 1.1).
func (h *Head) Is11() bool { return h.Major == 1 && h.Minor >= 1 }

// Lookup returns the index of the first field named name (compared
// without case) at or after index from, or -1.
func (h *Head) Lookup(name string, from int) int {
	for i := from; i < len(h.Fields); i++ {
		if EqualFold(h.Fields[i].Name, name) {
			return i
		}
	}
	return -1
}

// Get returns the value of the first field named name, or nil.
func (h *Head) Get(name string) []byte {
	if i := h.Lookup(name, 0); i >= 0 {
		return h.Fields[i].Value
	}
	return nil
}

// Del removes every field named name and reports how many were removed.
func (h *Head) Del(name string) int {
	n := 0
	out := h.Fields[:0]
	for _, f := range h.Fields {
		if EqualFold(f.Name, name) {
			n++
			continue
		}
		out = append(out, f)
	}
	clear(h.Fields[len(out):])
	h.Fields = out
	return n
}

// Add appends a field; name and value must stay valid until the head is
// written.
func (h *Head) Add(name, value []byte) { h.Fields = append(h.Fields, Field{name, value}) }

// EqualFold compares an ASCII header name with s without case.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c, d := b[i], s[i]
		if c != d && lower(c) != lower(d) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// appendLower appends b in ASCII lower case.
func appendLower(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, lower(c))
	}
	return dst
}

// CaseMap gives header names the letter case a picky HTTP/1 peer expects
// (HAProxy's h1-case-adjust): each lower-case name found in it is sent as
// the name it maps to. A nil map changes nothing.
type CaseMap map[string]string

// AppendRequest writes the request head as Sluice forwards it: the start
// line with "HTTP/1.1" for a message of version 1.1 or above and the
// version as received otherwise (HTTP/1.0, HTTP/0.9), as HAProxy's
// h1_format_htx_reqline does, then every field with its name in lower
// case.
func (h *Head) AppendRequest(dst []byte) []byte { return h.AppendRequestCase(dst, nil) }

// AppendRequestCase is AppendRequest with the names in cm sent in its
// case.
func (h *Head) AppendRequestCase(dst []byte, cm CaseMap) []byte {
	dst = append(dst, h.method...)
	dst = append(dst, ' ')
	dst = append(dst, h.uri...)
	dst = append(dst, ' ')
	dst = h.appendVersion(dst)
	dst = append(dst, "\r\n"...)
	return appendFields(dst, h.Fields, cm)
}

// AppendResponse writes the response head as Sluice forwards it to a
// client: "HTTP/1.1" (or the version as received below 1.1), the status,
// the reason, and lower-case names.
func (h *Head) AppendResponse(dst []byte) []byte { return h.AppendResponseCase(dst, nil) }

// AppendResponseCase is AppendResponse with the names in cm sent in its
// case.
func (h *Head) AppendResponseCase(dst []byte, cm CaseMap) []byte {
	dst = h.appendVersion(dst)
	dst = append(dst, ' ')
	dst = appendStatus(dst, h.status)
	dst = append(dst, ' ')
	dst = append(dst, h.reason...)
	dst = append(dst, "\r\n"...)
	return appendFields(dst, h.Fields, cm)
}

// appendVersion writes HTTP/1.1 for 1.1 and above, else the version as
// received; a head built without one is HTTP/1.0 or HTTP/1.1.
func (h *Head) appendVersion(dst []byte) []byte {
	switch {
	case h.Is11():
		return append(dst, "HTTP/1.1"...)
	case len(h.version) > 0:
		// 1.0, 0.9, or a token an accept-invalid option let through.
		return append(dst, h.version...)
	case h.Major == 1 && h.Minor == 0:
		return append(dst, "HTTP/1.0"...)
	}
	return append(dst, "HTTP/1.1"...)
}

func appendStatus(dst []byte, code int) []byte {
	return append(dst, byte('0'+code/100%10), byte('0'+code/10%10), byte('0'+code%10))
}

// appendFields writes fields and the empty line that ends them, names in
// lower case or as cm adjusts them.
func appendFields(dst []byte, fields []Field, cm CaseMap) []byte {
	for _, f := range fields {
		dst = appendName(dst, f.Name, cm)
		dst = append(dst, ": "...)
		dst = append(dst, f.Value...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// appendName writes a field name in lower case, or as cm spells it.
func appendName(dst, name []byte, cm CaseMap) []byte {
	start := len(dst)
	dst = appendLower(dst, name)
	if cm != nil {
		if to, ok := cm[string(dst[start:])]; ok {
			dst = append(dst[:start], to...)
		}
	}
	return dst
}

// HasToken reports whether a comma-separated header value holds token
// (compared without case); commas inside quoted strings do not separate.
func HasToken(v []byte, token string) bool { return hasListToken(v, token) }

// trimOWS removes spaces and tabs around b (RFC 9110 section 5.6.3).
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// ValueEnd is where a header value's first comma-separated element ends:
// the first comma outside a quoted string (with backslash escapes), or
// len(v). HAProxy splits list headers this way (http_find_hdr_value_end).
func ValueEnd(v []byte) int {
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
		case c == ',':
			return i
		}
	}
	return len(v)
}
