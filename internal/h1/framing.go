package h1

// Framing and the checks HAProxy 2.6 makes once a head is parsed
// (h1_headers_to_hdr_list's end, h1_postparse_*_hdrs and
// h1_process_headers): each decides between forwarding a message and
// refusing it, so each follows HAProxy step by step, in the same order.

// teState is what the Transfer-Encoding fields say, as HAProxy's
// H1_MF_XFER_ENC, H1_MF_TE_CHUNKED, H1_MF_CHNK and H1_MF_TE_OTHER flags.
type teState struct {
	seen, chunked, last, other bool
}

// requestFraming applies RFC 9112 section 6.3 to a request and closes the
// smuggling routes: Transfer-Encoding wins over Content-Length, which is
// removed; Content-Length values must all agree; chunked must be the last
// coding and appear once.
func (h *Head) requestFraming(max int) error {
	te, err := h.transferEncoding(false)
	if err != nil {
		return err
	}
	if err := h.contentLength(); err != nil {
		return err
	}
	var ws bool
	if ws, err = h.scanRequestFields(max); err != nil {
		return err
	}
	connect := string(h.method) == "CONNECT"
	if err := h.checkAuthority(connect); err != nil {
		return err
	}
	if te.seen {
		h.closeOnTE()
		if !te.last {
			// RFC 9112 section 6.3 point 4: a request whose body is not
			// chunked last cannot be framed.
			return bad(0, "request body not chunked")
		}
		h.Framing, h.ContentLength = Chunked, 0
	}
	// HAProxy refuses a body on an HTTP/1.0 GET, HEAD or DELETE with 413
	// (mux_h1.c h1_process_headers); the method is compared with case.
	if !h.Is11() && (h.Framing == Chunked || h.Framing == Length && h.ContentLength > 0) {
		switch string(h.method) {
		case "GET", "HEAD", "DELETE":
			return &Error{Status: 413, Msg: "HTTP/1.0 " + string(h.method) + " request with a body"}
		}
	}
	if te.other {
		// HAProxy decodes no coding but chunked: "gzip, chunked" is
		// well-formed but refused with 422.
		return &Error{Status: 422, Msg: "transfer coding other than chunked"}
	}
	if connect {
		// A CONNECT request has no body: what follows is the tunnel.
		h.Framing, h.ContentLength = NoBody, 0
	}
	// An upgrade to WebSocket must carry its key (RFC 6455 section
	// 4.1); HAProxy looks only when the request has no body.
	if ws && h.Conn&ConnUpgrade != 0 && h.Framing != Chunked && h.ContentLength == 0 && !h.hasWSKey() {
		return bad(0, msgWebSocketKey)
	}
	return nil
}

// closeOnTE forces the connection to close after a message with
// Transfer-Encoding that also had Content-Length (removed here) or that
// is HTTP/1.0, as HAProxy does: a peer that framed it the other way must
// not get to send another message on this connection.
func (h *Head) closeOnTE() {
	if h.Framing == Length {
		h.Del("content-length")
		h.Framing, h.ContentLength = NoBody, 0
		h.Conn |= ConnClose
	} else if !h.Is11() {
		h.Conn |= ConnClose
	}
}

// scanRequestFields counts the fields HAProxy keeps, merges repeated
// identical Host fields (a different one is refused), and reads the
// Connection, Expect and Upgrade fields. It reports whether the request
// asks for a WebSocket upgrade.
func (h *Head) scanRequestFields(max int) (bool, error) {
	host := -1
	kept := 0
	ws := false
	out := h.Fields[:0]
	for _, f := range h.Fields {
		switch {
		case EqualFold(f.Name, "host"):
			if host >= 0 {
				if !equalFoldBytes(out[host].Value, f.Value) {
					return false, bad(0, "more than one Host header")
				}
				continue
			}
			host = len(out)
		case EqualFold(f.Name, "connection"):
			fl, keep := connTokens(f.Value)
			h.Conn |= fl
			if !keep {
				kept-- // HAProxy drops a field of only close/keep-alive
			}
		case EqualFold(f.Name, "expect"):
			h.Expect100 = h.Expect100 || EqualFold(f.Value, "100-continue")
		case EqualFold(f.Name, "upgrade"):
			// The last Upgrade field decides, as in HAProxy.
			ws = hasListToken(f.Value, "websocket")
		}
		kept++
		out = append(out, f)
	}
	clear(h.Fields[len(out):])
	h.Fields = out
	h.HasHost = host >= 0
	if kept > max {
		return false, bad(0, msgTooManyHeaders)
	}
	return ws, nil
}

// hasWSKey looks for a Sec-WebSocket-Key of 24 bytes, the base64 form of
// 16 bytes, as HAProxy checks it (length only).
func (h *Head) hasWSKey() bool {
	for _, f := range h.Fields {
		if EqualFold(f.Name, "sec-websocket-key") && len(f.Value) == 24 {
			return true
		}
	}
	return false
}

// responseFraming decides how a response's body ends.
func (h *Head) responseFraming(headReq bool, max int) error {
	te, err := h.transferEncoding(true)
	if err != nil {
		return err
	}
	if err := h.contentLength(); err != nil {
		return err
	}
	kept, ws := 0, false
	for _, f := range h.Fields {
		switch {
		case EqualFold(f.Name, "connection"):
			fl, keep := connTokens(f.Value)
			h.Conn |= fl
			if !keep {
				kept--
			}
		case EqualFold(f.Name, "upgrade"):
			ws = hasListToken(f.Value, "websocket")
		}
		kept++
	}
	if kept > max {
		return bad(0, msgTooManyHeaders)
	}
	if te.seen {
		h.closeOnTE()
		if te.last {
			h.Framing = Chunked
		}
	}
	switch {
	case h.status == 204 || h.status < 200:
		// HAProxy leaves out the Content-Length and Transfer-Encoding
		// of a 1xx or a 204 it forwards (mux_h1.c; RFC 9110 sections
		// 8.6 and 6.1: a server must not send them).
		h.dropForOutput("content-length")
		h.dropForOutput("transfer-encoding")
		h.Framing, h.ContentLength = NoBody, 0
	case headReq || h.status == 304:
		h.Framing, h.ContentLength = NoBody, 0
	case h.Framing == NoBody:
		// Neither length nor chunked: the body ends at close (RFC 9112
		// section 6.3 point 8).
		h.Framing = UntilClose
	}
	if te.other {
		// HAProxy refuses any coding but chunked with 502, whatever its
		// place in the list (mux_h1.c h1_process_headers).
		return bad(0, "transfer coding other than chunked")
	}
	if ws && h.status == 101 && h.Conn&ConnUpgrade != 0 && h.Lookup("sec-websocket-accept", 0) < 0 {
		return bad(0, "WebSocket upgrade without Sec-WebSocket-Accept")
	}
	return nil
}

// dropForOutput removes the fields named name that HAProxy keeps in the
// message but leaves out when it writes it: they still count in HTXSize.
func (h *Head) dropForOutput(name string) {
	for _, f := range h.Fields {
		if EqualFold(f.Name, name) {
			h.htxDropped += len(f.Name) + len(f.Value)
			h.nDropped++
		}
	}
	h.Del(name)
}

// transferEncoding reads every Transfer-Encoding field as one list, as
// h1_parse_xfer_enc_header does: chunked twice is refused, and so is any
// coding after chunked in a request (RFC 9112 section 6.1); an empty list
// element counts as a coding other than chunked.
func (h *Head) transferEncoding(resp bool) (teState, error) {
	var te teState
	for _, f := range h.Fields {
		if !EqualFold(f.Name, "transfer-encoding") {
			continue
		}
		te.seen = true
		for v := f.Value; ; {
			w, rest, ok := nextListItem(v)
			if !ok {
				break
			}
			v = rest
			te.last = false
			if EqualFold(w, "chunked") {
				if te.chunked {
					return te, bad(0, "chunked applied twice")
				}
				te.chunked, te.last = true, true
				continue
			}
			if !resp && te.chunked {
				return te, bad(0, "transfer coding after chunked")
			}
			te.other = true
		}
	}
	return te, nil
}

// nextListItem returns the first element of a comma-separated list and
// the rest after its comma, skipping leading whitespace and stopping at a
// comma only outside a quoted string, as HAProxy's
// http_find_hdr_value_end does. ok is false at the end of the list. An
// element may be empty ("a,,b").
func nextListItem(v []byte) (item, rest []byte, ok bool) {
	i := 0
	for i < len(v) && isLWS(v[i]) {
		i++
	}
	if i == len(v) {
		return nil, nil, false
	}
	start := i
	quoted, pair := false, false
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case pair:
			pair = false
		case quoted:
			if c == '\\' {
				pair = true
			} else if c == '"' {
				quoted = false
			}
		case c == '"':
			quoted = true
		case c == ',':
			return trimLWSRight(v[start:i]), v[i+1:], true
		}
	}
	return trimLWSRight(v[start:]), nil, true
}

func isLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimLWSRight(b []byte) []byte {
	for len(b) > 0 && isLWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// hasListToken reports whether a list holds token, compared without case.
func hasListToken(v []byte, token string) bool {
	for {
		w, rest, ok := nextListItem(v)
		if !ok {
			return false
		}
		if EqualFold(w, token) {
			return true
		}
		v = rest
	}
}

// contentLength checks every Content-Length value: a list of identical
// decimal numbers ("3, 3", or the same value in two fields) is merged
// into one field, as HAProxy does; anything else, an empty value or
// element included (CVE-2023-40225), is refused.
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

// parseDecimal reads 1*DIGIT (no sign, no blanks; leading zeros allowed,
// as in HAProxy) into an int64, refusing what would overflow.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	const max = 1<<63 - 1
	var n int64
	for _, c := range b {
		if !digit(c) {
			return 0, false
		}
		d := int64(c - '0')
		if n > (max-d)/10 {
			return 0, false
		}
		n = n*10 + d
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

// connTokens reads a Connection field's close, keep-alive and upgrade
// tokens. keep is false when the field holds nothing but close and
// keep-alive: HAProxy drops such a field (H1_MF_CLEAN_CONN_HDR).
func connTokens(v []byte) (fl uint8, keep bool) {
	for {
		w, rest, ok := nextListItem(v)
		if !ok {
			return fl, keep
		}
		switch {
		case EqualFold(w, "close"):
			fl |= ConnClose
		case EqualFold(w, "keep-alive"):
			fl |= ConnKeepAlive
		case EqualFold(w, "upgrade"):
			fl |= ConnUpgrade
			keep = true
		default:
			keep = true
		}
		v = rest
	}
}

func equalFoldBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}
