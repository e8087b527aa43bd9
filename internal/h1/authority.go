package h1

// checkAuthority compares the request target's authority with the Host
// field as HAProxy 2.6 does at the end of h1_headers_to_hdr_list: a
// CONNECT target must be host:port (RFC 9112 section 3.2.3) and agree
// with Host; an absolute-form target must name the same host as Host
// (RFC 9112 section 3.2.2: two components that disagree on the
// destination are a request-routing ambiguity), default ports aside.
func (h *Head) checkAuthority(connect bool) error {
	var host []byte
	hasHost := false
	if i := h.Lookup("host", 0); i >= 0 {
		host, hasHost = h.Fields[i].Value, true
	}
	scheme, auth, isAuth := splitTarget(h.uri)
	if connect {
		// An accept-invalid option lets a port-less or other-host
		// authority through.
		if !isAuth || !h.lax && !connectAuthorityOK(auth, host, hasHost) {
			return bad(0, msgConnectTarget)
		}
		return nil
	}
	if !h.lax && hasHost && len(auth) > 0 && !equalFoldBytes(auth, host) && !sameAuthority(scheme, auth, host) {
		return bad(0, msgTargetHost)
	}
	if !h.again {
		h.normalizeDefaultPort(scheme, auth)
	}
	return nil
}

// normalizeDefaultPort is HAProxy 2.6's scheme-based normalization (RFC
// 3986 section 6.2.3, http_scheme_based_normalize): when an absolute-form
// target names its scheme's default port ("http://a:80/x"), the port is
// left out of the target, and out of every Host field that names it too.
// Both change in place, the bytes freed becoming spaces, so that the
// buffer parses again to the same head, as an obs-fold does.
func (h *Head) normalizeDefaultPort(scheme, auth []byte) {
	if scheme == nil {
		return
	}
	_, port, has := hostPort(auth)
	if !has || !defaultPort(scheme, port) {
		return
	}
	// auth is a sub-slice of h.uri; its port, colon included, ends it.
	end := cap(h.uri) - cap(auth) + len(auth)
	k := len(port) + 1
	u := h.uri
	copy(u[end-k:], u[end:])
	for i := len(u) - k; i < len(u); i++ {
		u[i] = ' '
	}
	h.uri = u[:len(u)-k]
	for i := range h.Fields {
		f := &h.Fields[i]
		if !EqualFold(f.Name, "host") {
			continue
		}
		if hh, hp, ok := hostPort(f.Value); ok && defaultPort(scheme, hp) {
			for j := len(hh); j < len(f.Value); j++ {
				f.Value[j] = ' '
			}
			f.Value = hh
		}
	}
}

// splitTarget finds the scheme ("http://", with its "://") and the
// authority (without userinfo) of a target that is neither origin-form
// nor "*", as http_parse_scheme and http_parse_authority do. A target
// without "://" is all authority, up to its first '/'. isAuth is false
// for an origin-form or asterisk-form target.
func splitTarget(u []byte) (scheme, auth []byte, isAuth bool) {
	if len(u) == 0 || u[0] == '/' || u[0] == '*' {
		return nil, nil, false
	}
	rest := u
	if isAlpha(u[0]) {
		i := 1
		for i < len(u) && (isAlpha(u[i]) || digit(u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.') {
			i++
		}
		if len(u)-i >= 3 && u[i] == ':' && u[i+1] == '/' && u[i+2] == '/' {
			scheme, rest = u[:i+3], u[i+3:]
		}
	}
	start, i := 0, 0
	for i < len(rest) && rest[i] != '/' {
		if rest[i] == '@' {
			start = i + 1
		}
		i++
	}
	return scheme, rest[start:i], true
}

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// hostPort splits a trailing ":digits" off h, as http_get_host_port does;
// hasPort says a colon was found (the port may be empty).
func hostPort(h []byte) (host, port []byte, hasPort bool) {
	i := len(h)
	for i > 0 {
		i--
		if !digit(h[i]) {
			break
		}
	}
	if len(h) == 0 || h[i] != ':' {
		return h, nil, false
	}
	return h[:i], h[i+1:], true
}

// defaultPort is http_is_default_port: an empty port is a default one;
// without a scheme both 80 and 443 are.
func defaultPort(scheme, port []byte) bool {
	switch {
	case len(port) == 0:
		return true
	case scheme == nil:
		return string(port) == "80" || string(port) == "443"
	}
	return string(port) == "443" && EqualFold(scheme, "https://") ||
		string(port) == "80" && EqualFold(scheme, "http://")
}

// connectAuthorityOK is h1_validate_connect_authority.
func connectAuthorityOK(auth, hostField []byte, hasHost bool) bool {
	uriHost, uriPort, _ := hostPort(auth)
	if len(uriPort) == 0 {
		return false
	}
	if !hasHost {
		return true
	}
	host, port, _ := hostPort(hostField)
	if len(port) > 0 {
		return equalFoldBytes(host, uriHost) && string(port) == string(uriPort)
	}
	return defaultPort(nil, uriPort) && equalFoldBytes(host, uriHost)
}

// sameAuthority is h1_validate_mismatch_authority: auth and Host differ
// as strings but may name the same place, one with the scheme's default
// port and the other without a port.
func sameAuthority(scheme, auth, hostField []byte) bool {
	if scheme == nil {
		return false
	}
	uriHost, uriPort, uriHas := hostPort(auth)
	host, port, has := hostPort(hostField)
	switch {
	case !uriHas && !has:
		return false
	case uriHas && !defaultPort(scheme, uriPort):
		return false
	case has && !defaultPort(scheme, port):
		return false
	}
	return equalFoldBytes(uriHost, host)
}
