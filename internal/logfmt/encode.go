package logfmt

import (
	"net/netip"
	"strconv"
)

const hexDigits = "0123456789ABCDEF"

// Character classes of HAProxy's escape maps (src/log.c init_log).
const (
	clsRFC5424 uint8 = 1 << iota // '"', '\', ']': backslash-escaped with +E
	clsHdr                       // captured headers: '#XX' for controls, 8-bit, '"#{|}'
	clsURL                       // request line: '#XX' for controls, 8-bit, '"#'
	clsHTTP                      // unique-id samples: '%XX' for controls but HT, and DEL
)

var charClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		if c < 32 || c >= 127 {
			t[c] |= clsHdr | clsURL
		}
		if (c <= 0x08) || (c >= 0x0a && c <= 0x1f) || c == 0x7f {
			t[c] |= clsHTTP
		}
	}
	for _, c := range []byte(`"\]`) {
		t[c] |= clsRFC5424
	}
	for _, c := range []byte(`"#{|}`) {
		t[c] |= clsHdr
	}
	for _, c := range []byte(`"#`) {
		t[c] |= clsURL
	}
	return t
}()

// appendEscaped writes src, backslash-escaping '"', '\' and ']' (the +E
// flag, HAProxy's escape_string with rfc5424_escape_map).
func appendEscaped[T string | []byte](dst []byte, src T) []byte {
	for i := 0; i < len(src); i++ {
		c := src[i]
		if charClass[c]&clsRFC5424 != 0 {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}

// appendEncoded writes src with the bytes of class cls replaced by esc and
// two hex digits; with +E the remaining '"', '\' and ']' are also
// backslash-escaped (HAProxy's lf_encode_string and lf_encode_chunk).
func appendEncoded[T string | []byte](dst []byte, src T, esc byte, cls uint8, fl Flags) []byte {
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case charClass[c]&cls != 0:
			dst = append(dst, esc, hexDigits[c>>4], hexDigits[c&15])
		case fl&FlagEscape != 0 && charClass[c]&clsRFC5424 != 0:
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// appendText is HAProxy's lf_text: the value, quoted with +Q and escaped
// with +E; an empty value is "-" when +M is on and +Q off, and "" with +Q.
func appendText[T string | []byte](dst []byte, s T, fl Flags) []byte {
	if fl&FlagQuote != 0 {
		dst = append(dst, '"')
	}
	switch {
	case len(s) > 0 && fl&FlagEscape != 0:
		dst = appendEscaped(dst, s)
	case len(s) > 0:
		dst = append(dst, s...)
	case fl&FlagMandatory != 0 && fl&FlagQuote == 0:
		dst = append(dst, '-')
	}
	if fl&FlagQuote != 0 {
		dst = append(dst, '"')
	}
	return dst
}

// appendHex writes v in upper-case hexadecimal with at least min digits,
// as printf("%0*X") does.
func appendHex(dst []byte, v uint64, min int) []byte {
	var buf [16]byte
	i := len(buf)
	for v != 0 || len(buf)-i < min {
		i--
		buf[i] = hexDigits[v&15]
		v >>= 4
	}
	return append(dst, buf[i:]...)
}

// appendNum writes v in decimal, or with +X in hexadecimal with at least
// four digits (the "%04X" HAProxy uses for %Ts, %rt, %lc and %pid).
func appendNum(dst []byte, v int64, fl Flags) []byte {
	if fl&FlagHex != 0 {
		return appendHex(dst, uint64(uint32(v)), 4)
	}
	return strconv.AppendInt(dst, v, 10)
}

// appendAddr writes an address as glibc's inet_ntop does: dotted quad,
// RFC 5952 IPv6 without zone, and "::a.b.c.d" for IPv4-compatible
// addresses, which Go would print in hexadecimal.
func appendAddr(dst []byte, a netip.Addr) []byte {
	if a.Is6() && !a.Is4In6() {
		b := a.As16()
		if isV4Compat(b) {
			dst = append(dst, ':', ':')
			return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}).AppendTo(dst)
		}
		a = a.WithZone("")
	}
	return a.AppendTo(dst)
}

// isV4Compat matches inet_ntop's "encapsulated IPv4" test: the longest
// run of zero words starts the address and is exactly six words long.
func isV4Compat(b [16]byte) bool {
	for i := 0; i < 12; i++ {
		if b[i] != 0 {
			return false
		}
	}
	return b[12] != 0 || b[13] != 0
}

// appendIP is HAProxy's lf_ip: the address as text (quoted with +Q), or
// with +X its bytes in hexadecimal.
func appendIP(dst []byte, a netip.Addr, fl Flags) []byte {
	if fl&FlagHex != 0 {
		if a.Is4() {
			b := a.As4()
			return appendHexBytes(dst, b[:])
		}
		b := a.As16()
		return appendHexBytes(dst, b[:])
	}
	if fl&FlagQuote != 0 {
		dst = append(dst, '"')
	}
	dst = appendAddr(dst, a)
	if fl&FlagQuote != 0 {
		dst = append(dst, '"')
	}
	return dst
}

func appendHexBytes(dst []byte, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

// appendPort is HAProxy's lf_port: decimal, or with +X the two bytes in
// network order as four hex digits.
func appendPort(dst []byte, port uint16, fl Flags) []byte {
	if fl&FlagHex != 0 {
		return appendHexBytes(dst, []byte{byte(port >> 8), byte(port)})
	}
	return strconv.AppendUint(dst, uint64(port), 10)
}
