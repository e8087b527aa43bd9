package proxyproto

import (
	"encoding/binary"
	"hash/crc32"
	"net/netip"
	"strconv"
)

// signature opens every v2 header (spec §2.2). It holds a NUL and a
// "\r\n\r\n" so that no text protocol can mistake it for a request.
const signature = "\r\n\r\n\x00\r\nQUIT\n"

// castagnoli is the CRC32c table of TypeCRC32C (spec §2.2.3, RFC 4960
// appendix B).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// AppendV1 appends the version 1 line HAProxy's make_proxy_line_v1 builds for
// a connection from src to dst and returns the extended buffer:
//
//	PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n
//
// Both IPv4 gives TCP4. Any IPv6 (IPv4-mapped included) gives TCP6, with an
// IPv4 address of the other side written IPv4-mapped (::ffff:a.b.c.d), as
// make_proxy_line_v1's v4tov6 does. An invalid (zero) src or dst stands for
// an address that is not IP, such as a UNIX socket, and gives
// "PROXY UNKNOWN\r\n". IPv6 text is what glibc's inet_ntop prints.
func AppendV1(b []byte, src, dst netip.AddrPort) []byte {
	if !src.IsValid() || !dst.IsValid() {
		return append(b, "PROXY UNKNOWN\r\n"...)
	}
	s, d := src.Addr(), dst.Addr()
	if s.Is4() && d.Is4() {
		b = append(b, "PROXY TCP4 "...)
		b = appendIPv4(b, s.As4())
		b = append(b, ' ')
		b = appendIPv4(b, d.As4())
	} else {
		b = append(b, "PROXY TCP6 "...)
		b = appendIPv6(b, s.As16())
		b = append(b, ' ')
		b = appendIPv6(b, d.As16())
	}
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(src.Port()), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(dst.Port()), 10)
	return append(b, '\r', '\n')
}

// AppendV2 appends the version 2 header HAProxy's make_proxy_line_v2 builds
// and returns the extended buffer.
//
// With cmd Proxy and two valid addresses it writes ver/cmd 0x21 and family
// FamTCP4 (both IPv4, 12 address bytes) or FamTCP6 (36 bytes, an IPv4 side
// IPv4-mapped). With any cmd but Proxy, or when src or dst is invalid (not an IP
// endpoint), it writes what HAProxy sends for its own connections and
// for non-IP clients: ver/cmd 0x20, family FamUnspec, no address. Health
// checks of a "send-proxy-v2" server send exactly that, with no TLV:
// 0d0a0d0a000d0a515549540a 20 00 0000.
//
// TLVs follow in the given order. A TypeCRC32C TLV is always written 4 bytes
// long holding the checksum of the finished header (spec §2.2.3), whatever
// its Value; HAProxy's proxy-v2-options crc32c puts it first. AppendV2
// panics if the TLVs do not fit the 16-bit length field: the caller bounds
// what it sends (HAProxy caps AUTHORITY at 255 and UNIQUE_ID at 128 bytes).
func AppendV2(b []byte, cmd Command, src, dst netip.AddrPort, tlvs ...TLV) []byte {
	start := len(b)
	b = append(b, signature...)
	switch {
	case cmd != Proxy || !src.IsValid() || !dst.IsValid():
		b = append(b, 0x20, FamUnspec, 0, 0)
	case src.Addr().Is4() && dst.Addr().Is4():
		s, d := src.Addr().As4(), dst.Addr().As4()
		b = append(b, 0x21, FamTCP4, 0, 12)
		b = append(b, s[:]...)
		b = append(b, d[:]...)
		b = binary.BigEndian.AppendUint16(b, src.Port())
		b = binary.BigEndian.AppendUint16(b, dst.Port())
	default:
		s, d := src.Addr().As16(), dst.Addr().As16()
		b = append(b, 0x21, FamTCP6, 0, 36)
		b = append(b, s[:]...)
		b = append(b, d[:]...)
		b = binary.BigEndian.AppendUint16(b, src.Port())
		b = binary.BigEndian.AppendUint16(b, dst.Port())
	}
	crcAt := -1
	for _, t := range tlvs {
		v := t.Value
		if t.Type == TypeCRC32C {
			crcAt = len(b) + 3
			v = zero4[:]
		}
		if len(v) > 0xffff {
			panic("proxyproto: TLV value longer than 65535 bytes")
		}
		b = append(b, t.Type, byte(len(v)>>8), byte(len(v)))
		b = append(b, v...)
	}
	n := len(b) - start - V2HeaderLen
	if n > 0xffff {
		panic("proxyproto: v2 header longer than 65551 bytes")
	}
	binary.BigEndian.PutUint16(b[start+14:], uint16(n))
	if crcAt >= 0 {
		sum := crc32.Checksum(b[start:], castagnoli)
		binary.BigEndian.PutUint32(b[crcAt:], sum)
	}
	return b
}

var zero4 [4]byte

// Append appends h encoded again: AppendV1 for version 1, AppendV2 with h's
// TLVs otherwise. Headers with Unknown set encode as "PROXY UNKNOWN\r\n" or
// LOCAL over AF_UNSPEC, which is what a sender says when it has no address.
func (h Header) Append(b []byte) []byte {
	src, dst := h.Src, h.Dst
	if h.Unknown {
		src, dst = netip.AddrPort{}, netip.AddrPort{}
	}
	if h.Version == 1 {
		return AppendV1(b, src, dst)
	}
	return AppendV2(b, h.Command, src, dst, h.TLVs...)
}

// appendIPv4 writes a dotted quad without leading zeros (inet_ntop).
func appendIPv4(b []byte, a [4]byte) []byte {
	for i, x := range a {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(x), 10)
	}
	return b
}

// appendIPv6 writes a as glibc's inet_ntop6 does, which is what HAProxy puts
// on the wire: lower-case hex without leading zeros, the first longest run
// of two or more zero groups as "::", and the last 32 bits as a dotted quad
// for IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d, zero run
// of exactly six groups) addresses. netip's String differs on the latter.
func appendIPv6(b []byte, a [16]byte) []byte {
	var w [8]uint16
	for i := range w {
		w[i] = binary.BigEndian.Uint16(a[2*i:])
	}
	best, bestLen := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
		i = j
	}
	if bestLen < 2 {
		best = -1
	}
	for i := 0; i < 8; i++ {
		if best >= 0 && i >= best && i < best+bestLen {
			if i == best {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && best == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			return appendIPv4(b, [4]byte(a[12:]))
		}
		b = strconv.AppendUint(b, uint64(w[i]), 16)
	}
	if best >= 0 && best+bestLen == 8 {
		b = append(b, ':')
	}
	return b
}
