// Package netaddr parses the socket addresses of HAProxy 2.6's configuration
// language: the address word of a `bind` line and the address of a `server`
// line.
//
// The parser follows HAProxy's str2sa_range() step by step rather than Go's
// net.SplitHostPort, because configurations written for HAProxy rely on its
// quirks: the port is whatever follows the last colon (so ":::80" is "::"
// port 80 and "::1" on a server line is host ":" port 1), ports are read with
// atoi() (so "8a" is port 8), numeric hosts accept inet_aton() forms such as
// "127.1", and prefixes such as ipv4@, unix@, abns@, fd@ and sockpair@ force
// the address family. Error messages reproduce the text HAProxy prints after
// "parsing [file:line] : 'bind' : " (or "'server be/s' : ") so that Sluice's
// diagnostics read like HAProxy's.
//
// Parsing does no I/O. Hostnames are kept in Host with IP unset; Resolve
// methods look them up with the system resolver, as HAProxy does with libc
// at start-up.
package netaddr

import (
	"net/netip"
	"strconv"
	"strings"
)

// Kind is the address family of a parsed address. It decides how a listener
// is opened or a server connected to.
type Kind int

const (
	// KindUnspec is a hostname written without ipv4@/ipv6@: its family is
	// only known once it is resolved (HAProxy's AF_UNSPEC).
	KindUnspec Kind = iota
	// KindIPv4 is an IPv4 address (literal, hostname forced with ipv4@, or
	// the "*" / empty wildcard).
	KindIPv4
	// KindIPv6 is an IPv6 address.
	KindIPv6
	// KindUnix is a filesystem UNIX socket path ("/path" or unix@path).
	KindUnix
	// KindABNS is a Linux abstract-namespace UNIX socket (abns@name).
	KindABNS
	// KindFD is an inherited file descriptor (fd@N), e.g. from systemd.
	KindFD
	// KindSockPair is a connected UNIX socket over which file descriptors
	// of connections are passed (sockpair@N).
	KindSockPair
)

var kindNames = [...]string{"unspec", "ipv4", "ipv6", "unix", "abns", "fd", "sockpair"}

// String returns the HAProxy-style name of the family, for logs.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// IsIP reports whether k is an IP family (or a hostname yet to be resolved).
func (k Kind) IsIP() bool { return k == KindUnspec || k == KindIPv4 || k == KindIPv6 }

// BindAddr is one listening address of a `bind` line. A bind word may hold
// several of them separated by commas; each one may carry a port range that
// opens one socket per port.
type BindAddr struct {
	Kind Kind
	// IP is the address to listen on. For "*", an empty host or "::" it is
	// the unspecified address of the family (0.0.0.0 or ::) and Wildcard is
	// set. It is the zero Addr for a hostname that is not resolved yet.
	IP       netip.Addr
	Wildcard bool
	// Host is the host part as written (without [] around IPv6 literals);
	// "" for the "*" and empty wildcards.
	Host string
	// PortLo and PortHi bound the inclusive port range; equal for a single
	// port, zero for non-IP kinds.
	PortLo, PortHi int
	Path           string // socket path (KindUnix) or abstract name (KindABNS)
	FD             int    // descriptor number for KindFD and KindSockPair
	Raw            string // the text of this one address, prefixes included
}

// NeedsResolve reports whether the address is a hostname that must be
// resolved before a socket can be opened.
func (a BindAddr) NeedsResolve() bool { return a.Kind.IsIP() && !a.IP.IsValid() }

// Ports returns the number of sockets the address opens (1 for non-IP kinds).
func (a BindAddr) Ports() int {
	if !a.Kind.IsIP() {
		return 1
	}
	return a.PortHi - a.PortLo + 1
}

// String returns a canonical form that ParseBind reads back to the same
// address (Raw aside): "1.2.3.4:80", "[::1]:80-82", "ipv4@host:80",
// "/path", "abns@name", "fd@3".
func (a BindAddr) String() string {
	if !a.Kind.IsIP() {
		return nonIPString(a.Kind, a.Path, a.FD)
	}
	ports := strconv.Itoa(a.PortLo)
	if a.PortHi != a.PortLo {
		ports += "-" + strconv.Itoa(a.PortHi)
	}
	return hostString(a.Kind, a.IP, a.Host) + ":" + ports
}

// PortMode says how a server's destination port is chosen.
type PortMode int

const (
	// PortFixed connects to Port.
	PortFixed PortMode = iota
	// PortNone means no port was given (or port 0): connect to the port
	// the client connected to on Sluice.
	PortNone
	// PortOffset adds Offset (":+N" or ":-N") to the client's destination
	// port.
	PortOffset
)

// ServerAddr is the address of a `server` line.
type ServerAddr struct {
	Kind Kind
	// Host is the host part as written; a hostname to resolve when IP is
	// the zero Addr (see Resolve).
	Host     string
	IP       netip.Addr
	Port     int // destination port when PortMode is PortFixed
	PortMode PortMode
	Offset   int    // port offset when PortMode is PortOffset
	Path     string // socket path (KindUnix) or abstract name (KindABNS)
	FD       int    // descriptor number for KindSockPair
	Raw      string // the address as written
	// UseClientDst is set for 0.0.0.0, "*", "::" or an empty host: the
	// connection goes to the address the client connected to (transparent
	// proxying).
	UseClientDst bool
}

// NeedsResolve reports whether Host must be resolved before connecting.
func (a ServerAddr) NeedsResolve() bool { return a.Kind.IsIP() && !a.IP.IsValid() }

// String returns a canonical form that ParseServer reads back to the same
// address (Raw aside): "1.2.3.4:80", "[::1]", "host:+1000", "/path".
func (a ServerAddr) String() string {
	if !a.Kind.IsIP() {
		return nonIPString(a.Kind, a.Path, a.FD)
	}
	host := hostString(a.Kind, a.IP, a.Host)
	switch a.PortMode {
	case PortFixed:
		return host + ":" + strconv.Itoa(a.Port)
	case PortOffset:
		if a.Offset < 0 {
			return host + ":" + strconv.Itoa(a.Offset)
		}
		return host + ":+" + strconv.Itoa(a.Offset)
	}
	if strings.HasSuffix(host, "]") {
		return host
	}
	return host + ":" // the trailing colon keeps "::1" from reading as host ":" port 1
}

// hostString renders the host part of an IP address in a form the parser
// reads back unambiguously.
func hostString(k Kind, ip netip.Addr, host string) string {
	if ip.IsValid() {
		if ip.Is6() {
			return "[" + ip.String() + "]"
		}
		return ip.String()
	}
	switch k {
	case KindIPv4:
		return "ipv4@" + host
	case KindIPv6:
		return "ipv6@" + host
	}
	return host
}

func nonIPString(k Kind, path string, fd int) string {
	switch k {
	case KindUnix:
		if strings.HasPrefix(path, "/") {
			return path
		}
		return "unix@" + path
	case KindABNS:
		return "abns@" + path
	case KindFD:
		return "fd@" + strconv.Itoa(fd)
	case KindSockPair:
		return "sockpair@" + strconv.Itoa(fd)
	}
	return k.String() + "@?"
}

// ABNSName returns the Go socket name ("@" form, for net.Dial("unix", ...)
// or syscall.SockaddrUnix) of the abstract socket written abns@name.
// HAProxy binds and connects abstract sockets with the whole sun_path
// (name padded with NUL bytes to 107 bytes), so a name with a tight length,
// as socat or Go use by default, is a different socket; padding keeps
// Sluice interoperable with HAProxy processes and their clients.
func ABNSName(name string) string {
	const sunPath = sunPathMax + 1 // sizeof(sun_path)
	if len(name)+1 >= sunPath {
		return "@" + name
	}
	return "@" + name + strings.Repeat("\x00", sunPath-1-len(name))
}
