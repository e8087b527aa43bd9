package h1

// HTX sizes: HAProxy 2.6 holds a message in its internal HTX form, and
// its log counters (%B, %U and the byte counts of its statistics) count
// what entered a stream in that form, not the bytes on the wire. A head
// takes its start line (sizeof(struct htx_sl), 20 bytes, and the line's
// three parts), each header's name and value, and one byte for the end
// of the head; a body takes its data (chunk framing left out); trailers
// take each field's name and value and one byte for their end, which a
// chunked body always has.
const (
	htxStartLine = 20
	htxEndMarker = 1
	// htxBlock is sizeof(struct htx_blk): each part of a message (start
	// line, header, end of head) takes one beside its data.
	htxBlock = 8
	// HTXHeader is sizeof(struct htx), at the start of every buffer
	// holding a message in HTX.
	HTXHeader = 48
)

// HTXRoom is the room HAProxy's HTTP/1 parser makes sure a head will
// take in HTX before it takes it (h1_eval_htx_size): its HTXSize and a
// block each for the start line, every header and the end of the head.
// A head whose room exceeds what a buffer holds less tune.maxrewrite and
// the HTX header is refused, with a 400 for a request and a 502 for a
// response, even when its bytes fit the buffer.
func (h *Head) HTXRoom() int64 {
	return h.HTXSize() + int64(htxBlock*(len(h.Fields)+h.nDropped+2))
}

// HTXSize is the room h takes in HTX as HAProxy's HTTP/1 parser builds
// it: Connection fields count without their close and keep-alive
// tokens, and not at all when nothing else is left in them (the parser
// cleans them, H1_MF_CLEAN_CONN_HDR); the fields the parser drops
// (repeated Content-Length or Host, Content-Length beside
// Transfer-Encoding) are already out of h.Fields.
func (h *Head) HTXSize() int64 {
	n := htxStartLine + len(h.version) + htxEndMarker + h.htxDropped
	if h.method != nil {
		n += len(h.method) + len(h.uri)
	} else {
		n += 3 + len(h.reason) // the status code's three digits
	}
	for _, f := range h.Fields {
		if EqualFold(f.Name, "connection") {
			if v := cleanConnLen(f.Value); v > 0 {
				n += len(f.Name) + v
			}
			continue
		}
		n += len(f.Name) + len(f.Value)
	}
	return int64(n)
}

// TrailersHTXSize is the room trailers take in HTX, their end included.
func TrailersHTXSize(fields []Field) int64 {
	n := htxEndMarker
	for _, f := range fields {
		n += len(f.Name) + len(f.Value)
	}
	return int64(n)
}

// cleanConnLen is the length of a Connection value once HAProxy's
// h1_parse_connection_header has taken its close and keep-alive tokens
// out: while no token was taken out, the value is kept as it came up to
// the end of the last word kept; after that, each word kept is appended
// after a comma.
func cleanConnLen(v []byte) int {
	n, p := 0, 0 // the cleaned length; the end of the last word looked at
	for i := 0; i < len(v); i++ {
		if isLWS(v[i]) {
			continue
		}
		e := i + ValueEnd(v[i:])
		w := trimLWSRight(v[i:e])
		switch {
		case EqualFold(w, "close"), EqualFold(w, "keep-alive"):
		case n == p:
			n = e
		default:
			if n > 0 {
				n++
			}
			n += len(w)
		}
		p, i = e, e
	}
	return n
}

// ReplyHTXSize is the HTX size of a whole response Sluice wrote itself
// (an error page, a deny, return or redirect reply): its head counted as
// HTXSize counts a parsed one, and everything after the head as data.
// msg must be well formed, lines ending in CRLF; a header Sluice adds on
// the way out (connection: close) counts as HAProxy's HTTP/1 layer,
// which adds it after HTX, leaves it out.
func ReplyHTXSize(msg []byte) int64 {
	n := htxStartLine + htxEndMarker
	i := lineEnd(msg, 0)
	line := msg[:i]
	// "HTTP/1.1 200 OK": the version, the code and the reason, without
	// the spaces between them.
	if k := indexByte(line, ' '); k >= 0 {
		n += k
		rest := line[k+1:]
		if indexByte(rest, ' ') >= 0 {
			n += len(rest) - 1
		} else {
			n += len(rest)
		}
	}
	for i += 2; i < len(msg); {
		e := lineEnd(msg, i)
		if e == i {
			return int64(n + len(msg) - (e + 2))
		}
		line := msg[i:e]
		if c := indexByte(line, ':'); c >= 0 {
			name, value := line[:c], trimOWS(line[c+1:])
			if EqualFold(name, "connection") {
				if v := cleanConnLen(value); v > 0 {
					n += len(name) + v
				}
			} else {
				n += len(name) + len(value)
			}
		}
		i = e + 2
	}
	return int64(n)
}

// lineEnd is where the line at i ends (its CR), or len(b).
func lineEnd(b []byte, i int) int {
	for j := i; j+1 < len(b); j++ {
		if b[j] == '\r' && b[j+1] == '\n' {
			return j
		}
	}
	return len(b)
}
