package netaddr

import (
	"math"
	"net/netip"
	"strings"
)

// This file holds Go versions of the libc number and address readers that
// HAProxy's parser relies on, so that Sluice accepts and rejects exactly the
// same spellings.

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// readLong is the core of strtol(s, &end, 10): optional white space and
// sign, then digits, saturating at the range of a C long. It returns the
// value, the number of bytes consumed and whether any digit was read.
func readLong(s string) (v int64, n int, ok bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for ; i < len(s) && isDigit(s[i]); i++ {
		d := int64(s[i] - '0')
		switch {
		case !neg && v > (math.MaxInt64-d)/10:
			v = math.MaxInt64
		case neg && v < (math.MinInt64+d)/10:
			v = math.MinInt64
		case neg:
			v = v*10 - d
		default:
			v = v*10 + d
		}
	}
	if i == start {
		return 0, 0, false
	}
	return v, i, true
}

// atoi behaves like C's atoi() on glibc: (int)strtol(s, NULL, 10), so
// trailing garbage is ignored, no digits give 0 and the long result is
// truncated to 32 bits.
func atoi(s string) int {
	v, _, _ := readLong(s)
	return int(int32(v))
}

// strtol accepts s only if strtol() consumes all of it, as the fd@ parser
// requires; the result is truncated to a C int like HAProxy's assignment.
func strtol(s string) (int, bool) {
	v, n, ok := readLong(s)
	if !ok || n != len(s) {
		return 0, false
	}
	return int(int32(v)), true
}

// inetAton parses the IPv4 forms accepted by inet_aton() and hence by
// getaddrinfo(): one to four dot-separated numbers in decimal, octal
// (leading 0) or hexadecimal (0x), the last one filling the remaining bytes
// ("127.1" is 127.0.0.1, "0x7f000001" too).
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals [4]uint64
	for i, p := range parts {
		v, ok := atonNumber(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	n := len(parts)
	for i := 0; i < n-1; i++ {
		if vals[i] > 0xff {
			return netip.Addr{}, false
		}
	}
	last := vals[n-1]
	if last >= 1<<(8*(5-n)) {
		return netip.Addr{}, false
	}
	v := last
	for i := 0; i < n-1; i++ {
		v |= vals[i] << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// atonNumber reads one inet_aton() component.
func atonNumber(p string) (uint64, bool) {
	base := uint64(10)
	switch {
	case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	if p == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(p); i++ {
		d, ok := digitValue(p[i])
		if !ok || d >= base {
			return 0, false
		}
		v = v*base + d
		if v > math.MaxUint32 {
			return 0, false
		}
	}
	return v, true
}

func digitValue(c byte) (uint64, bool) {
	switch {
	case isDigit(c):
		return uint64(c - '0'), true
	case c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}

// validHostname is HAProxy's resolv_hostname_validation() (letters, digits,
// '-', '_', labels of at most 63 bytes, 255 in all), plus one rule standing
// in for the failing DNS query glibc would send: a name made only of digits
// and dots that inet_aton() rejected ("256.1.1.1") is not a hostname.
func validHostname(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	numeric := true
	label := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c == '.' {
			label = 0
			continue
		}
		if !(isDigit(c) || c == '-' || c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z')) {
			return false
		}
		if !isDigit(c) {
			numeric = false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return !numeric
}
