package logsink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxLen is HAProxy's default "len": RFC3164 says syslog lines are at
// most 1024 bytes and every server accepts that much.
const DefaultMaxLen = 1024

// SampleRange is one "low-high" range of a "sample" argument; both ends are
// 1-based positions in a cycle of Target.SampleSize lines.
type SampleRange struct {
	Low, High int
}

// Target is one "log" line: where lines go and which ones. Build it with
// ParseTarget or NewTarget: the zero Level is emerg (only emergencies pass),
// which is rarely what a hand-built Target wants.
type Target struct {
	// Addr is "stdout", "stderr", "fd@N", a UDP address ("ip[:port]",
	// "[ipv6][:port]", "ipv6:" or "ipv6:port", optionally prefixed by
	// udp@, udp4@, udp6@, ipv4@ or ipv6@; port 514 by default), or a unix
	// datagram socket ("/abs/path", "unix@path", "uxdg@path", "abns@name").
	Addr string
	// Format is the header format; FormatDefault follows HAProxy's default.
	Format Format
	// MaxLen truncates lines (header included, final LF excluded for
	// sockets, included for fd targets, as HAProxy does); 0 means 1024.
	MaxLen int
	// Facility is the syslog facility number (0..23).
	Facility int
	// Level is the least severe level sent: lines with a higher number are
	// skipped. HAProxy's default is debug (7).
	Level int
	// MinLevel clamps more severe lines to it (their number is raised to
	// MinLevel), so that "emerg" does not reach every terminal. Default 0.
	MinLevel int
	// Sample, when not empty, keeps only the lines whose position in each
	// cycle of SampleSize lines falls in one of the ranges (load-sharing
	// between several servers).
	Sample     []SampleRange
	SampleSize int
}

// NewTarget returns a Target with HAProxy's defaults (format per
// log-send-hostname, len 1024, all levels) for addr and facility.
func NewTarget(addr string, facility int) Target {
	return Target{Addr: addr, Facility: facility, Level: LevelDebug, MaxLen: DefaultMaxLen}
}

// String renders the target back as the words of a "log" line, mainly for
// diagnostics and tests.
func (t Target) String() string {
	var b strings.Builder
	b.WriteString(t.Addr)
	if t.MaxLen != 0 && t.MaxLen != DefaultMaxLen {
		fmt.Fprintf(&b, " len %d", t.MaxLen)
	}
	if t.Format != FormatDefault {
		fmt.Fprintf(&b, " format %s", t.Format)
	}
	if len(t.Sample) > 0 {
		b.WriteString(" sample ")
		for i, r := range t.Sample {
			if i > 0 {
				b.WriteByte(',')
			}
			if r.Low == r.High {
				fmt.Fprintf(&b, "%d", r.Low)
			} else {
				fmt.Fprintf(&b, "%d-%d", r.Low, r.High)
			}
		}
		fmt.Fprintf(&b, ":%d", t.SampleSize)
	}
	fmt.Fprintf(&b, " %s %s %s", FacilityName(t.Facility), LevelName(t.Level), LevelName(t.MinLevel))
	return b.String()
}

// ErrExpectsAddressFacility is returned by ParseTarget when the address or
// the facility is missing. Its text is HAProxy's for the global section
// (double space included); proxy sections, which also accept "log global",
// print "expects <address> and <facility> or global as arguments" instead.
var ErrExpectsAddressFacility = errors.New("expects <address> and <facility>  as arguments")

// ParseTarget parses the words after "log", in HAProxy 2.6's strict order:
//
//	<address> [len <n>] [format <f>] [sample <ranges>:<size>] <facility> [<level> [<minlevel>]]
//
// The address is checked last and host names are resolved now, as HAProxy
// does, so errors come in HAProxy's order and with its texts (without the
// "parsing [file:line] : log : " prefix, which is the caller's). "log global"
// and "no log" are the caller's business.
func ParseTarget(words []string) (Target, error) {
	arg := func(i int) string {
		if i < len(words) {
			return words[i]
		}
		return ""
	}
	if arg(0) == "" || arg(1) == "" {
		return Target{}, ErrExpectsAddressFacility
	}
	t := Target{Addr: words[0], MaxLen: DefaultMaxLen, Level: LevelDebug}
	cur := 1
	if arg(cur) == "len" {
		n := atoi(arg(cur + 1))
		if n < 80 || n > 65535 {
			return Target{}, fmt.Errorf("invalid log length '%s', must be between 80 and 65535", arg(cur+1))
		}
		t.MaxLen = n
		cur += 2
	}
	if arg(cur) == "format" {
		f, err := ParseFormat(arg(cur + 1))
		if err != nil {
			return Target{}, err
		}
		t.Format = f
		cur += 2
	}
	if arg(cur) == "sample" {
		rgs, size, err := parseSample(arg(cur + 1))
		if err != nil {
			return Target{}, err
		}
		t.Sample, t.SampleSize = rgs, size
		cur += 2
	}
	cur, err := parseLevels(&t, arg, cur)
	if err != nil {
		return Target{}, err
	}
	if arg(cur) != "" {
		return Target{}, fmt.Errorf("cannot handle unexpected argument '%s'", arg(cur))
	}
	if _, err := resolveAddr(t.Addr); err != nil {
		return Target{}, err
	}
	return t, nil
}

// parseLevels reads <facility> [<level> [<minlevel>]] from position cur and
// returns the position after them.
func parseLevels(t *Target, arg func(int) string, cur int) (int, error) {
	fac, err := ParseFacility(arg(cur))
	if err != nil {
		return cur, err
	}
	t.Facility = fac
	cur++
	if s := arg(cur); s != "" {
		lvl, err := ParseLevel(s)
		if err != nil {
			return cur, fmt.Errorf("unknown optional log level '%s'", s)
		}
		t.Level = lvl
		cur++
	}
	if s := arg(cur); s != "" {
		lvl, err := ParseLevel(s)
		if err != nil {
			return cur, fmt.Errorf("unknown optional minimum log level '%s'", s)
		}
		t.MinLevel = lvl
		cur++
	}
	return cur, nil
}

// atoi mimics C's atoi(), which HAProxy uses for "len": leading blanks, an
// optional sign, then digits up to the first non-digit ("100x" is 100, "" is 0).
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9' && n < 1<<30; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// readUint mimics HAProxy's read_uint(): the value of the leading digits of
// s and the rest after them.
func readUint(s string) (int, string) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n < 1<<30 {
			n = n*10 + int(s[i]-'0')
		}
	}
	return n, s[i:]
}

// parseSample parses "<ranges>:<size>" like HAProxy's parse_logsrv(),
// including its error texts.
func parseSample(s string) ([]SampleRange, int, error) {
	colon := strings.IndexByte(s, ':')
	if colon < 0 {
		// Capitalised as HAProxy prints it.
		return nil, 0, errors.New("Missing sample size")
	}
	ranges, sizeStr := s[:colon], s[colon+1:]
	var rgs []SampleRange
	maxHigh := 0
	for p := ranges; p != ""; {
		r, rest, err := parseRange(p)
		if err != nil {
			return nil, 0, err
		}
		for _, o := range rgs {
			if (r.Low >= o.Low && r.Low <= o.High) || (r.High >= o.Low && r.High <= o.High) {
				return nil, 0, errors.New("ranges are overlapping")
			}
		}
		rgs = append(rgs, r)
		maxHigh = max(maxHigh, r.High)
		p = rest
	}
	if len(rgs) == 0 {
		return nil, 0, errors.New("no sampling ranges given")
	}
	size, rest := readUint(sizeStr)
	if size == 0 || rest != "" {
		return nil, 0, fmt.Errorf("wrong sample size '%s' for sample range '%s'", sizeStr, ranges)
	}
	if size < maxHigh {
		return nil, 0, fmt.Errorf("sample size %d should be greater or equal to %d the maximum of the high ranges limits", size, maxHigh)
	}
	sort.Slice(rgs, func(i, j int) bool { return rgs[i].Low < rgs[j].Low })
	return rgs, size, nil
}

// parseRange reads the first "low[-high]" of a comma-separated list and
// returns the list after it (get_logsrv_smp_range() in HAProxy).
func parseRange(p string) (SampleRange, string, error) {
	bad := fmt.Errorf("wrong sample range '%s'", p)
	item, rest, _ := strings.Cut(p, ",")
	low, after := readUint(item)
	if low == 0 || (after != "" && after[0] != '-') {
		return SampleRange{}, "", bad
	}
	high := low
	if after != "" {
		var tail string
		high, tail = readUint(after[1:])
		if high == 0 || high <= low || tail != "" {
			return SampleRange{}, "", bad
		}
	}
	return SampleRange{Low: low, High: high}, rest, nil
}

// Kinds of log destinations.
const (
	kindUDP = iota
	kindUnix
	kindFD
)

// destination is a parsed, resolved Target.Addr.
type destination struct {
	kind int
	udp  netip.AddrPort // kindUDP
	path string         // kindUnix; "@name" for the abstract namespace
	fd   int            // kindFD
}

// family constrains which IP versions an address prefix allows.
type family int

const (
	famAny family = iota
	fam4
	fam6
)

// addrPrefixes maps the "proto@" prefixes HAProxy accepts for a datagram
// log target to the IP family they force.
var addrPrefixes = map[string]family{
	"udp@": famAny, "udp4@": fam4, "udp6@": fam6, "ipv4@": fam4, "ipv6@": fam6,
}

// resolveAddr parses and resolves a Target.Addr (str2sa_range() subset).
func resolveAddr(addr string) (destination, error) {
	switch addr {
	case "stdout":
		return destination{kind: kindFD, fd: 1}, nil
	case "stderr":
		return destination{kind: kindFD, fd: 2}, nil
	}
	if rest, ok := strings.CutPrefix(addr, "fd@"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 || rest[0] == '+' {
			return destination{}, fmt.Errorf("file descriptor '%s' is not a valid integer in '%s'", rest, addr)
		}
		return destination{kind: kindFD, fd: n}, nil
	}
	for _, p := range []string{"unix@", "uxdg@"} {
		if rest, ok := strings.CutPrefix(addr, p); ok {
			return destination{kind: kindUnix, path: rest}, nil
		}
	}
	if rest, ok := strings.CutPrefix(addr, "abns@"); ok {
		return destination{kind: kindUnix, path: "@" + rest}, nil
	}
	if strings.HasPrefix(addr, "/") {
		return destination{kind: kindUnix, path: addr}, nil
	}
	for _, p := range []string{"ring@", "tcp@", "tcp4@", "tcp6@", "uxst@"} {
		if strings.HasPrefix(addr, p) {
			return destination{}, fmt.Errorf("'%s': ring buffers and stream log servers are not supported", addr)
		}
	}
	fam, hostport := famAny, addr
	for p, f := range addrPrefixes {
		if rest, ok := strings.CutPrefix(addr, p); ok {
			fam, hostport = f, rest
			break
		}
	}
	return resolveUDP(addr, hostport, fam)
}

// resolveUDP splits host and port the way HAProxy does (the port follows
// the last colon unless the host is bracketed) and resolves the host.
func resolveUDP(addr, hostport string, fam family) (destination, error) {
	host, port, hasPort := splitHostPort(hostport)
	p := 514
	if hasPort {
		n, err := parsePort(addr, port)
		if err != nil {
			return destination{}, err
		}
		if n != 0 {
			p = n
		}
	}
	ip, ok := resolveHost(host, fam)
	if !ok {
		return destination{}, fmt.Errorf("invalid address: '%s' in '%s'", host, addr)
	}
	return destination{kind: kindUDP, udp: netip.AddrPortFrom(ip, uint16(p))}, nil
}

func splitHostPort(s string) (host, port string, hasPort bool) {
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s, ']'); end >= 0 {
			if rest := s[end+1:]; strings.HasPrefix(rest, ":") {
				return s[:end+1], rest[1:], true
			}
			return s, "", false
		}
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// parsePort validates a port like HAProxy: no offsets, no ranges, at most
// 65535; trailing garbage after the digits is ignored as HAProxy does.
func parsePort(addr, port string) (int, error) {
	if port == "" {
		return 0, nil
	}
	if port[0] == '+' || port[0] == '-' {
		return 0, fmt.Errorf("port offset not permitted here in '%s'", addr)
	}
	if port[0] < '0' || port[0] > '9' {
		return 0, fmt.Errorf("invalid character '%c' in port number '%s' in '%s'", port[0], port, addr)
	}
	n, rest := readUint(port)
	if strings.HasPrefix(rest, "-") {
		return 0, fmt.Errorf("port range not permitted here in '%s'", addr)
	}
	if n > 65535 {
		return 0, fmt.Errorf("invalid port '%s'", port)
	}
	return n, nil
}

// resolveHost accepts an IP literal (IPv6 possibly in brackets) or resolves
// a host name, honouring the family forced by the prefix.
func resolveHost(host string, fam family) (netip.Addr, bool) {
	lit := host
	if strings.HasPrefix(lit, "[") && strings.HasSuffix(lit, "]") {
		lit = lit[1 : len(lit)-1]
		if fam == fam4 {
			return netip.Addr{}, false
		}
	}
	if ip, err := netip.ParseAddr(lit); err == nil {
		ip = ip.Unmap()
		ok := ip.Zone() == "" && (fam == famAny || (fam == fam4) == ip.Is4())
		return ip, ok
	}
	if lit != host || host == "" {
		return netip.Addr{}, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, false
	}
	// Prefer IPv4 when both families are allowed, as getaddrinfo usually does.
	for _, want := range []bool{true, false} {
		for _, ip := range ips {
			ip = ip.Unmap()
			if ip.Is4() == want && (fam == famAny || (fam == fam4) == want) {
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}
