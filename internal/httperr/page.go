// Package httperr holds HAProxy 2.6's HTTP error responses and the
// directives that replace them: errorfile, errorloc/errorloc302/errorloc303,
// http-error, errorfiles and the http-errors section. It is pure: it reads
// the files a configuration names and nothing else.
//
// # Pages
//
// A Page is a complete HTTP/1 response, byte for byte what HAProxy 2.6.12
// puts on the wire for it, except for the one header HAProxy's H1
// multiplexer appends last according to the connection mode. Raw[:HeadLen]
// is the status line and headers (each ending in CRLF), Raw[HeadLen:] is the
// empty line and the body. The engine writes a page with AppendWire, or by
// hand: Raw[:HeadLen], then "connection: <v>\r\n" when ConnHeader says so,
// then Raw[HeadLen:] (without Body() for a HEAD request).
//
// # Which page
//
// For an error raised while a stream exists (deny, tarpit, no server, queue
// or connect timeout, 502/504 from a server, ...), HAProxy looks at the
// backend's pages, then the frontend's, then the built-in ones
// (http_ana.c http_error_message): Lookup(be, fe, code). The backend is the
// frontend itself before a backend is chosen. A Page with Empty set (an
// errorfile of zero bytes, e.g. /dev/null) means: send nothing, close.
//
// Errors the H1 multiplexer raises before a stream exists (400 on a request
// that does not parse, 408 on `timeout http-request`, 500/501 internal) are
// sent as Builtin(code): HAProxy's raw text, mixed-case names and
// "Connection: close" included, and the connection is closed. Errorfiles do
// not apply to them, except that an Empty page configured for the code on
// the frontend suppresses them (mux_h1.c h1_send_error).
//
// # Connection header (observed on haproxy 2.6.12, mux_h1.c)
//
// HAProxy strips close/keep-alive tokens from a page's own Connection
// header (dropping it when nothing is left) and appends its own after the
// last header. The connection closes after the page when the client asked
// for it (HTTP/1.0 without keep-alive, or "Connection: close"), when the
// request was not fully received (a deny before the body arrived), when the
// page has no known length (no Content-Length: the Debian errorfiles), when
// the page itself said close, or with option httpclose unless the page said
// keep-alive. Closing, it adds "connection: close" only if the page is
// HTTP/1.1; keeping alive, it adds "connection: keep-alive" only if the page
// or the request is HTTP/1.0. So a deny answering a complete HTTP/1.1
// keep-alive request carries no connection header and the connection stays
// open; built-in 400 and 408 pages generated through a stream close (their
// text says "Connection: close").
package httperr

import "fmt"

// Page is one complete error response.
type Page struct {
	// Code is the status the page answers for (the errorfile's or
	// http-error's code); Status is the code on its status line, which an
	// errorfile may set to anything.
	Code, Status int
	// Raw is the response without the connection-mode header; HeadLen is
	// the length of its status line and headers, without the empty line.
	Raw     []byte
	HeadLen int
	// Ver11 is set when the status line is HTTP/1.1 (or later).
	Ver11 bool
	// KnownLength is set when the page has a Content-Length (or a status
	// that has no body); without one the connection closes after it.
	KnownLength bool
	// ConnClose and ConnKeepAlive record the page's own Connection tokens.
	ConnClose, ConnKeepAlive bool
	// Empty marks a zero-byte errorfile: nothing is sent, the connection
	// is closed.
	Empty bool
	// Reply, when set, is an http-error reply with log-format parts: the
	// engine renders it for each response, and Raw is empty.
	Reply *ReplySpec
	// htxFree is the room left in HAProxy's buffer, for its maxrewrite
	// warning.
	htxFree int
	// HTXHidden is the HTX size of what the message holds but HAProxy's
	// HTTP/1 layer leaves out when it writes it, which Raw lacks: the
	// close and keep-alive tokens of its Connection header (the whole
	// header when nothing else is left) and a 1xx's or 204's
	// Content-Length and Transfer-Encoding. HAProxy's %B counts them.
	HTXHidden int
}

// Head returns the status line and headers, each ending in CRLF.
func (p *Page) Head() []byte { return p.Raw[:p.HeadLen] }

// Body returns the payload.
func (p *Page) Body() []byte {
	if p.Empty {
		return nil
	}
	return p.Raw[p.HeadLen+2:]
}

// ConnState is what the engine knows about the client side when it sends a
// page. The zero value is an HTTP/1.1 keep-alive request fully received.
type ConnState struct {
	// ClientClose: the request was HTTP/1.0 without keep-alive, or said
	// "Connection: close".
	ClientClose bool
	// ReqHTTP10: the request line said HTTP/1.0.
	ReqHTTP10 bool
	// ReqPending: the request (its body) was not fully received.
	ReqPending bool
	// HTTPClose: option httpclose on the frontend.
	HTTPClose bool
	// Stopping: the frontend is stopping (soft stop).
	Stopping bool
	// Head: the request method was HEAD (the body is not sent).
	Head bool
}

// ConnHeader says whether the connection closes after the page and which
// connection header value (possibly none: "") HAProxy appends.
func (p *Page) ConnHeader(cs ConnState) (value string, closeAfter bool) {
	if p.Empty {
		return "", true
	}
	closeAfter = cs.ClientClose || cs.ReqPending || cs.Stopping || !p.KnownLength || p.ConnClose ||
		cs.HTTPClose && !p.ConnKeepAlive
	if closeAfter {
		if p.Ver11 {
			return "close", true
		}
		return "", true
	}
	if !p.Ver11 || cs.ReqHTTP10 {
		return "keep-alive", false
	}
	return "", false
}

// AppendWire appends the bytes HAProxy sends for the page in state cs and
// says whether the connection closes after them.
func (p *Page) AppendWire(dst []byte, cs ConnState) ([]byte, bool) {
	if p.Empty {
		return dst, true
	}
	v, closeAfter := p.ConnHeader(cs)
	dst = append(dst, p.Raw[:p.HeadLen]...)
	if v != "" {
		dst = append(dst, "connection: "...)
		dst = append(dst, v...)
		dst = append(dst, "\r\n"...)
	}
	if cs.Head {
		return append(dst, "\r\n"...), closeAfter
	}
	return append(dst, p.Raw[p.HeadLen:]...), closeAfter
}

var defaults = map[int]*Page{}

func init() {
	for _, code := range Codes {
		p, err := parseMessage([]byte(builtinMsgs[code]), DefaultBufSize)
		if err != nil {
			panic(fmt.Sprintf("httperr: built-in %d: %v", code, err))
		}
		p.Code = code
		defaults[code] = p
	}
}

// Default returns HAProxy's built-in page for code as a stream sends it,
// or nil when HAProxy has none for code (see Handled).
func Default(code int) *Page { return defaults[code] }

// Builtin returns HAProxy's raw built-in message for code, as the H1
// multiplexer sends it verbatim for errors raised before a stream exists;
// nil when HAProxy has none.
func Builtin(code int) []byte {
	if m, ok := builtinMsgs[code]; ok {
		return []byte(m)
	}
	return nil
}

// Reason is HAProxy's reason phrase for a status (src/http.c
// http_get_reason), used on the status line of http-error and
// http-request return replies.
func Reason(status int) string {
	if r, ok := reasons[status]; ok {
		return r
	}
	switch {
	case status >= 100 && status <= 199:
		return "Informational"
	case status >= 200 && status <= 299:
		return "Success"
	case status >= 300 && status <= 399:
		return "Redirection"
	case status >= 400 && status <= 499:
		return "Client Error"
	case status >= 500 && status <= 599:
		return "Server Error"
	}
	return "Other"
}

var reasons = map[int]string{
	100: "Continue", 101: "Switching Protocols", 102: "Processing",
	200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
	204: "No Content", 205: "Reset Content", 206: "Partial Content", 207: "Multi-Status",
	210: "Content Different", 226: "IM Used",
	300: "Multiple Choices", 301: "Moved Permanently", 302: "Moved Temporarily",
	303: "See Other", 304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect",
	308: "Permanent Redirect", 310: "Too many Redirects",
	400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
	404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
	407: "Proxy Authentication Required", 408: "Request Time-out", 409: "Conflict",
	410: "Gone", 411: "Length Required", 412: "Precondition Failed",
	413: "Request Entity Too Large", 414: "Request-URI Too Long",
	415: "Unsupported Media Type", 416: "Requested range unsatisfiable",
	417: "Expectation failed", 418: "I'm a teapot", 421: "Misdirected Request",
	422: "Unprocessable Content", 423: "Locked", 424: "Method failure", 425: "Too Early",
	426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
	431: "Request Header Fields Too Large", 449: "Retry With",
	450: "Blocked by Windows Parental Controls", 451: "Unavailable For Legal Reasons",
	456: "Unrecoverable Error", 499: "client has closed connection",
	500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway or Proxy Error",
	503: "Service Unavailable", 504: "Gateway Time-out", 505: "HTTP Version not supported",
	506: "Variant also negotiate", 507: "Insufficient storage", 508: "Loop detected",
	509: "Bandwidth Limit Exceeded", 510: "Not extended",
	511: "Network authentication required", 520: "Web server is returning an unknown error",
}

// ParseErrorfile validates the content of an errorfile as HAProxy 2.6 does
// (http_str_to_htx) with the default tune.bufsize, and returns the page it
// sends. The error texts are HAProxy's ("unable to parse headers (error
// offset: 19)", "message payload not expected", ...).
func ParseErrorfile(raw []byte) (*Page, error) { return parseMessage(raw, DefaultBufSize) }
