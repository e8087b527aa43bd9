package netaddr

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// errBindNoArg is HAProxy's message for a `bind` line without an address.
var errBindNoArg = errors.New("'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.")

// sockType is the socket type forced by a prefix. Only stream sockets are
// usable by bind and server lines; the others exist to report HAProxy's
// errors for udp@, dgram+, uxdg@ and quic4@/quic6@.
type sockType int

const (
	sockStream sockType = iota
	sockDgram
	sockQUIC
)

// prefixes are the family prefixes of HAProxy 2.6, in str2sa_range()'s
// order. None is a prefix of another, so the order does not matter.
var prefixes = []struct {
	text string
	kind Kind
	sock sockType // sockStream here means "keep the current type"
}{
	{"unix@", KindUnix, sockStream},
	{"uxst@", KindUnix, sockStream},
	{"uxdg@", KindUnix, sockDgram},
	{"abns@", KindABNS, sockStream},
	{"ip@", KindUnspec, sockStream},
	{"ipv4@", KindIPv4, sockStream},
	{"ipv6@", KindIPv6, sockStream},
	{"tcp@", KindUnspec, sockStream},
	{"tcp4@", KindIPv4, sockStream},
	{"tcp6@", KindIPv6, sockStream},
	{"udp@", KindUnspec, sockDgram},
	{"udp4@", KindIPv4, sockDgram},
	{"udp6@", KindIPv6, sockDgram},
	{"quic4@", KindIPv4, sockQUIC},
	{"quic6@", KindIPv6, sockQUIC},
	{"fd@", KindFD, sockStream},
	{"sockpair@", KindSockPair, sockStream},
}

// parseOpts are the PA_O_* flags that distinguish bind from server parsing.
type parseOpts struct {
	portMandatory bool // PA_O_PORT_MAND: bind needs a port
	portRange     bool // PA_O_PORT_RANGE: "lo-hi"
	portOffset    bool // PA_O_PORT_OFS: ":+N" / ":-N"
	fdOK          bool // fd@ allowed (bind only)
	resolveNow    bool // PA_O_RESOLVE: bind rejects bad hostnames at parse time
}

var (
	bindOpts   = parseOpts{portMandatory: true, portRange: true, fdOK: true, resolveNow: true}
	serverOpts = parseOpts{portOffset: true}
)

// parsed is the family-independent result of parseAddr.
type parsed struct {
	kind         Kind
	host         string
	ip           netip.Addr
	wildcard     bool
	lo, hi, port int // port = HAProxy's "porta": the port or the signed offset
	signed       bool
	path         string
	fd           int
}

// ParseBind parses the address word of a `bind` line: a comma-separated list
// of addresses, each with an optional family prefix and, for IP addresses, a
// mandatory port or port range. Hostnames are accepted when they are
// syntactically valid; they are left for BindAddr.Resolve. A trailing comma
// is ignored, any other empty element is an error, as in HAProxy.
func ParseBind(s string) ([]BindAddr, error) {
	if s == "" {
		return nil, errBindNoArg
	}
	parts := strings.Split(s, ",")
	if len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	out := make([]BindAddr, 0, len(parts))
	for _, part := range parts {
		p, err := parseAddr(part, bindOpts)
		if err != nil {
			return nil, err
		}
		out = append(out, BindAddr{
			Kind: p.kind, IP: p.ip, Wildcard: p.wildcard, Host: p.host,
			PortLo: p.lo, PortHi: p.hi, Path: p.path, FD: p.fd, Raw: part,
		})
	}
	return out, nil
}

// ParseServer parses the address of a `server` line. There are no comma
// lists nor port ranges; the port is optional and may be an offset. Any host
// that is not an IP literal is kept in Host for Resolve, even one that can
// never resolve: HAProxy reports those when it resolves ("could not resolve
// address"), not while parsing.
func ParseServer(s string) (ServerAddr, error) {
	if s == "" {
		return ServerAddr{}, errors.New("'server' expects <name> and <addr>[:<port>] as arguments.")
	}
	p, err := parseAddr(s, serverOpts)
	if err != nil {
		return ServerAddr{}, err
	}
	a := ServerAddr{
		Kind: p.kind, Host: p.host, IP: p.ip, Path: p.path, FD: p.fd,
		Raw: s, UseClientDst: p.wildcard,
	}
	switch {
	case !p.kind.IsIP():
		a.PortMode = PortNone
	case p.signed:
		a.PortMode, a.Offset = PortOffset, p.port
	case p.port == 0:
		a.PortMode = PortNone // no port, or port 0: HAProxy maps the client's port
	default:
		a.PortMode, a.Port = PortFixed, p.port
	}
	return a, nil
}

// parseAddr is str2sa_range(): prefixes, then the family-specific part, then
// the socket-type checks.
func parseAddr(str string, o parseOpts) (parsed, error) {
	if str == "" {
		return parsed{}, fmt.Errorf("'%s' resolves to an empty address (environment variable missing?)", str)
	}
	s, kind, sock := splitPrefix(str)
	var p parsed
	var err error
	switch kind {
	case KindFD, KindSockPair:
		p, err = parseFD(str, s, kind, o)
	case KindUnix, KindABNS:
		p, err = parsePath(str, s, kind)
	default:
		p, err = parseIP(str, s, kind, o)
	}
	if err != nil {
		return parsed{}, err
	}
	switch sock {
	case sockDgram:
		return parsed{}, fmt.Errorf("dgram-type address not acceptable in '%s'", str)
	case sockQUIC:
		fam := 2 // AF_INET
		if kind == KindIPv6 {
			fam = 10 // AF_INET6
		}
		return parsed{}, fmt.Errorf("unsupported stream protocol for datagram family %d address '%s'; "+
			"QUIC is not compiled in if this is what you were looking for.", fam, str)
	}
	return p, nil
}

// splitPrefix removes the optional "stream+"/"dgram+" socket-type prefix and
// the family prefix, returning the rest, the forced family (KindUnspec when
// none) and the socket type.
func splitPrefix(str string) (string, Kind, sockType) {
	s, sock := str, sockStream
	if rest, ok := strings.CutPrefix(s, "stream+"); ok {
		s = rest
	} else if rest, ok := strings.CutPrefix(s, "dgram+"); ok {
		s, sock = rest, sockDgram
	}
	for _, pf := range prefixes {
		if rest, ok := strings.CutPrefix(s, pf.text); ok {
			if pf.sock != sockStream {
				sock = pf.sock
			}
			return rest, pf.kind, sock
		}
	}
	if strings.HasPrefix(s, "/") {
		return s, KindUnix, sock
	}
	return s, KindUnspec, sock
}

// parseFD reads the descriptor of fd@N / sockpair@N with strtol()'s rules.
// Whether it is a usable socket is checked when it is opened.
func parseFD(str, s string, kind Kind, o parseOpts) (parsed, error) {
	fd, ok := strtol(s)
	if !ok || fd < 0 {
		return parsed{}, fmt.Errorf("file descriptor '%s' is not a valid integer in '%s'", s, str)
	}
	if kind == KindFD && !o.fdOK {
		return parsed{}, fmt.Errorf("a file descriptor is not acceptable here in '%s'", str)
	}
	return parsed{kind: kind, fd: fd}, nil
}

// sunPathMax is sizeof(sun_path) - 1 on Linux.
const sunPathMax = 107

// parsePath checks a UNIX socket path against HAProxy's limit, which keeps
// room for the "<path>.<pid>.tmp" name used while replacing a socket.
func parsePath(str, s string, kind Kind) (parsed, error) {
	max := sunPathMax
	if kind == KindUnix {
		max -= 1 + 5 + 1 + 3
	}
	if len(s) > max {
		return parsed{}, fmt.Errorf("socket path '%s' too long (max %d)", str, max)
	}
	return parsed{kind: kind, path: s}, nil
}

// parseIP splits host and port at the last colon that is not inside
// brackets, parses the port, then the host.
func parseIP(str, s string, kind Kind, o parseOpts) (parsed, error) {
	host, portText, hasPort := splitHostPort(s)
	if !hasPort && o.portMandatory {
		return parsed{}, fmt.Errorf("missing port specification in '%s'", str)
	}
	p, err := parsePort(str, portText, o)
	if err != nil {
		return parsed{}, err
	}
	p.kind = kind
	if err := p.setHost(str, host, o); err != nil {
		return parsed{}, err
	}
	return p, nil
}

// splitHostPort scans back from the end for ':' or ']', whichever comes
// first, like str2sa_range(): a colon found first separates the port.
func splitHostPort(s string) (host, port string, ok bool) {
	i := len(s) - 1
	for i > 0 && s[i] != ':' && s[i] != ']' {
		i--
	}
	if i >= 0 && s[i] == ':' {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// parsePort interprets the text after the colon: "N", "lo-hi", "+N", "-N"
// or nothing, with atoi() so that trailing garbage after digits is ignored.
func parsePort(str, t string, o parseOpts) (parsed, error) {
	var p parsed
	switch {
	case t != "" && isDigit(t[0]):
		t1, t2 := t, t
		if i := strings.IndexByte(t, '-'); i >= 0 {
			if !o.portRange {
				return p, fmt.Errorf("port range not permitted here in '%s'", str)
			}
			t1, t2 = t[:i], t[i+1:]
		}
		p.lo, p.hi = atoi(t1), atoi(t2)
		min := 0
		if o.portMandatory {
			min = 1
		}
		if p.lo < min || p.lo > 65535 {
			return p, fmt.Errorf("invalid port '%s'", t1)
		}
		if p.hi < min || p.hi > 65535 {
			return p, fmt.Errorf("invalid port '%s'", t2)
		}
		if p.lo > p.hi {
			return p, fmt.Errorf("invalid port range '%d-%d'", p.lo, p.hi)
		}
		p.port = p.lo
	case t != "" && (t[0] == '-' || t[0] == '+'):
		if !o.portOffset {
			return p, fmt.Errorf("port offset not permitted here in '%s'", str)
		}
		p.signed, p.port = true, atoi(t[1:])
		if t[0] == '-' {
			p.port = -p.port
		}
	case t != "":
		return p, fmt.Errorf("invalid character '%s' in port number '%s' in '%s'", t[:1], t, str)
	case o.portMandatory:
		return p, fmt.Errorf("missing port specification in '%s'", str)
	}
	return p, nil
}

// setHost parses the host part. Literals (and the wildcards) set ip; other
// hosts are hostnames. For a bind line a host that cannot be a valid
// hostname is an error now; for a server line it is kept and fails in
// Resolve, as in HAProxy.
func (p *parsed) setHost(str, host string, o parseOpts) error {
	p.host = host
	ip, literal, ok := parseLiteral(host, p.kind)
	if literal {
		p.host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		p.ip, p.wildcard = ip, ip.IsUnspecified()
		if host == "" || host == "*" {
			p.host = ""
		}
		if p.kind == KindUnspec {
			p.kind = KindIPv4
			if ip.Is6() {
				p.kind = KindIPv6
			}
		}
		return nil
	}
	if o.resolveNow && !ok {
		return fmt.Errorf("invalid address: '%s' in '%s'", host, str)
	}
	return nil
}

// parseLiteral is str2ip2() without name resolution, extended with the
// inet_aton() forms ("127.1", "0x7f.1") that HAProxy accepts through
// getaddrinfo(). literal reports an address was found; resolvable reports
// that host may still be a hostname worth looking up.
func parseLiteral(host string, k Kind) (ip netip.Addr, literal, resolvable bool) {
	h := host
	if strings.HasPrefix(h, "[") {
		if len(h) < 4 || len(h) >= 48 || !strings.HasSuffix(h, "]") {
			return netip.Addr{}, false, false
		}
		h = h[1 : len(h)-1]
	}
	if h == "::" && k != KindIPv4 {
		return netip.IPv6Unspecified(), true, true
	}
	if h == "" || h == "*" {
		if k == KindIPv6 {
			return netip.IPv6Unspecified(), true, true
		}
		return netip.IPv4Unspecified(), true, true
	}
	if a, err := netip.ParseAddr(h); err == nil && a.Zone() == "" {
		if (a.Is6() && k != KindIPv4) || (a.Is4() && k != KindIPv6) {
			return a, true, true
		}
	}
	if k != KindIPv6 {
		if a, ok := inetAton(h); ok {
			return a, true, true
		}
	}
	return netip.Addr{}, false, validHostname(h)
}
