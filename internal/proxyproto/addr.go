package proxyproto

import "net/netip"

// The v1 text fields, parsed without allocating (netip.ParseAddr needs a
// string). The grammar is the spec's (§2.1) and glibc inet_pton's.

// parseIPv4 reads a dotted quad: four decimal numbers 0..255, one dot apart,
// no leading zeros ("heading zeroes are not permitted ... to avoid any
// possible confusion with octal numbers", §2.1). HAProxy 2.6 is laxer here
// (it reads "01.2.3.4" and lets "1.2.3.256" overflow into 1.2.4.0); Sluice
// rejects both.
func parseIPv4(s []byte) (netip.Addr, bool) {
	a, ok := parseDottedQuad(s)
	if !ok {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(a), true
}

func parseDottedQuad(s []byte) (a [4]byte, ok bool) {
	for i := range a {
		if i > 0 {
			if len(s) == 0 || s[0] != '.' {
				return a, false
			}
			s = s[1:]
		}
		v, n := 0, 0
		for n < len(s) && n < 4 && '0' <= s[n] && s[n] <= '9' {
			v = v*10 + int(s[n]-'0')
			n++
		}
		if n == 0 || n > 3 || v > 255 || (n > 1 && s[0] == '0') {
			return a, false
		}
		a[i] = byte(v)
		s = s[n:]
	}
	return a, len(s) == 0
}

// parseIPv6 reads IPv6 text as inet_pton(AF_INET6) does, which is what
// HAProxy uses for TCP6: one to four hex digits per group, at most one "::"
// standing for at least one zero group, optionally a dotted quad as the last
// 32 bits, 128 bits in all. Zones are not IPv6 text and are rejected. A
// mapped address (::ffff:a.b.c.d) stays IPv6, as in HAProxy.
func parseIPv6(s []byte) (netip.Addr, bool) {
	var a [16]byte
	i := 0         // bytes of a written
	ellipsis := -1 // where "::" stands, in bytes of a
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis = 0
		s = s[2:]
	}
	for len(s) > 0 {
		if i == 16 {
			return netip.Addr{}, false
		}
		v, n := 0, 0
		for n < len(s) && n < 5 {
			d := hexVal(s[n])
			if d < 0 {
				break
			}
			v = v<<4 | d
			n++
		}
		if n == 0 || n > 4 {
			return netip.Addr{}, false
		}
		if n < len(s) && s[n] == '.' {
			// A dotted quad ends the address and fills its last 32 bits.
			if i > 12 {
				return netip.Addr{}, false
			}
			q, ok := parseDottedQuad(s)
			if !ok {
				return netip.Addr{}, false
			}
			copy(a[i:], q[:])
			i += 4
			s = nil
			break
		}
		a[i], a[i+1] = byte(v>>8), byte(v)
		i += 2
		s = s[n:]
		if len(s) == 0 {
			break
		}
		if s[0] != ':' {
			return netip.Addr{}, false
		}
		s = s[1:]
		if len(s) > 0 && s[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = i
			s = s[1:]
		} else if len(s) == 0 {
			return netip.Addr{}, false // a trailing single colon
		}
	}
	if ellipsis >= 0 {
		if i == 16 {
			return netip.Addr{}, false // "::" must stand for something
		}
		k := 16 - i
		copy(a[ellipsis+k:], a[ellipsis:i])
		clear(a[ellipsis : ellipsis+k])
	} else if i != 16 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom16(a), true
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parsePort reads a decimal 0..65535 without leading zeros (§2.1). HAProxy
// 2.6 reads any digit string and keeps the low 16 bits (99999 becomes
// 34463); Sluice rejects it.
func parsePort(s []byte) (uint16, bool) {
	if len(s) == 0 || len(s) > 5 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	v := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > 0xffff {
		return 0, false
	}
	return uint16(v), true
}
