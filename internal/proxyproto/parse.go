package proxyproto

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"net/netip"
)

// Errors with details. They are values so that no path of Parse allocates.
var (
	errNotV1       = &detailError{ErrNotProxy, `does not start with "PROXY "`}
	errNotV2       = &detailError{ErrNotProxy, "does not start with the v2 signature"}
	errVersion     = &detailError{ErrNotProxy, "v2 signature with a version other than 2"}
	errV1Proto     = &detailError{ErrBadProtocol, "v1 protocol is not TCP4, TCP6 or UNKNOWN"}
	errV1Long      = &detailError{ErrTooLong, "no CRLF in the first 107 bytes"}
	errV1LoneCR    = invalid("CR not followed by LF")
	errV1LoneLF    = invalid("LF without CR")
	errV1Char      = invalid("byte outside US-ASCII printable in the v1 line")
	errV1Fields    = invalid("v1 line needs exactly 4 fields after the protocol, one space apart")
	errV1Addr4     = invalid("v1 TCP4 address is not a dotted quad without leading zeros")
	errV1Addr6     = invalid("v1 TCP6 address is not IPv6 text")
	errV1Port      = invalid("v1 port is not a decimal 0..65535 without leading zeros")
	errV1Unknown   = invalid("v1 UNKNOWN not followed by a space or CRLF")
	errV2Command   = invalid("v2 command is neither LOCAL nor PROXY")
	errV2Family    = invalid("v2 address family or transport is not one the spec defines")
	errV2AddrLen   = invalid("v2 length is too small for the address family")
	errV2TLVHead   = invalid("v2 TLV header runs past the header length")
	errV2TLVLen    = invalid("v2 TLV value runs past the header length")
	errV2CRCLen    = invalid("v2 CRC32C TLV is not 4 bytes long")
	errV2CRCTwice  = invalid("v2 header has more than one CRC32C TLV")
	errV2CRC       = &detailError{ErrInvalid, "v2 CRC32C checksum mismatch"}
	errV2Authority = invalid("v2 AUTHORITY TLV longer than 255 bytes")
	errV2UniqueID  = invalid("v2 UNIQUE_ID TLV longer than 128 bytes")
)

// Parse decodes the PROXY protocol header at the start of b and returns it
// with its length n; b[n:] is payload. The version is told by the first
// bytes (spec §2.2): "PROXY " for version 1, the 12-byte signature for
// version 2. When b holds a valid prefix of a header Parse returns ErrShort
// (read more and call again); it rejects as soon as the bytes seen cannot
// start a valid header. Errors unwrap to ErrShort, ErrNotProxy, ErrInvalid,
// ErrBadProtocol or ErrTooLong.
//
// TLV values in h alias b. Parse allocates only the TLV slice, and only when
// the header has TLVs.
func Parse(b []byte) (h Header, n int, err error) {
	if len(b) == 0 {
		return h, 0, ErrShort
	}
	switch b[0] {
	case 'P':
		return parseV1(b)
	case '\r':
		return parseV2(b)
	}
	return h, 0, errNotV1
}

// parseV1 decodes a text header (spec §2.1).
func parseV1(b []byte) (h Header, n int, err error) {
	const prefix = "PROXY "
	if !hasPrefixSoFar(b, prefix) {
		return h, 0, errNotV1
	}
	if len(b) < len(prefix) {
		return h, 0, ErrShort
	}
	// Reject an unknown protocol word as soon as it is visible: the spec
	// asks receivers to abort early so senders notice (§2.1).
	rest := b[len(prefix):]
	if !hasPrefixSoFar(rest, "TCP4 ") && !hasPrefixSoFar(rest, "TCP6 ") && !hasPrefixSoFar(rest, "UNKNOWN") {
		return h, 0, errV1Proto
	}
	// Find CRLF within MaxV1Len bytes before reading any field: the line
	// must not be parsed before it is complete, and a lone CR or LF never
	// ends it (§2.1).
	end := -1
	for i := len(prefix); i < len(b) && i < MaxV1Len; i++ {
		c := b[i]
		if c == '\r' {
			if i+1 == MaxV1Len {
				return h, 0, errV1Long // the LF would be byte 108
			}
			if i+1 == len(b) {
				return h, 0, ErrShort
			}
			if b[i+1] != '\n' {
				return h, 0, errV1LoneCR
			}
			end = i
			break
		}
		if c == '\n' {
			return h, 0, errV1LoneLF
		}
		if c < 0x20 || c > 0x7e {
			return h, 0, errV1Char
		}
	}
	if end < 0 {
		if len(b) >= MaxV1Len {
			return h, 0, errV1Long
		}
		return h, 0, ErrShort
	}
	n = end + 2
	line := b[len(prefix):end]
	h.Version = 1
	h.Command = Proxy
	switch {
	case bytes.HasPrefix(line, []byte("UNKNOWN")):
		// The spec lets the sender add anything before CRLF and tells the
		// receiver to ignore it (§2.1). HAProxy 2.6 only accepts the bare
		// form; accepting more cannot spoof anything since the real
		// endpoints are kept.
		if len(line) > 7 && line[7] != ' ' {
			return Header{}, 0, errV1Unknown
		}
		h.Family = FamUnspec
		h.Unknown = true
		return h, n, nil
	case bytes.HasPrefix(line, []byte("TCP4 ")):
		h.Family = FamTCP4
	case bytes.HasPrefix(line, []byte("TCP6 ")):
		h.Family = FamTCP6
	default:
		return Header{}, 0, errV1Proto
	}
	if err := parseV1Fields(line[5:], &h); err != nil {
		return Header{}, 0, err
	}
	return h, n, nil
}

// parseV1Fields reads "src dst sport dport", exactly one space apart.
func parseV1Fields(line []byte, h *Header) error {
	var f [4][]byte
	for i := range f {
		j := bytes.IndexByte(line, ' ')
		if i == 3 {
			j = len(line)
		} else if j < 0 {
			return errV1Fields
		}
		f[i], line = line[:j], line[min(j+1, len(line)):]
		if len(f[i]) == 0 {
			return errV1Fields
		}
	}
	if bytes.IndexByte(f[3], ' ') >= 0 {
		return errV1Fields
	}
	var src, dst netip.Addr
	var ok1, ok2 bool
	if h.Family == FamTCP4 {
		src, ok1 = parseIPv4(f[0])
		dst, ok2 = parseIPv4(f[1])
		if !ok1 || !ok2 {
			return errV1Addr4
		}
	} else {
		src, ok1 = parseIPv6(f[0])
		dst, ok2 = parseIPv6(f[1])
		if !ok1 || !ok2 {
			return errV1Addr6
		}
	}
	sp, ok1 := parsePort(f[2])
	dp, ok2 := parsePort(f[3])
	if !ok1 || !ok2 {
		return errV1Port
	}
	h.Src = netip.AddrPortFrom(src, sp)
	h.Dst = netip.AddrPortFrom(dst, dp)
	return nil
}

// parseV2 decodes a binary header (spec §2.2).
func parseV2(b []byte) (h Header, n int, err error) {
	if !hasPrefixSoFar(b, signature) {
		return h, 0, errNotV2
	}
	if len(b) <= len(signature) {
		return h, 0, ErrShort
	}
	// HAProxy classes a wrong version with a wrong signature: not a header.
	if b[12]>>4 != 2 {
		return h, 0, errVersion
	}
	cmd := Command(b[12] & 0xf)
	if cmd != Local && cmd != Proxy {
		return h, 0, errV2Command // §2.2: receivers must drop other commands
	}
	if len(b) < V2HeaderLen {
		return h, 0, ErrShort
	}
	fam := b[13]
	length := int(binary.BigEndian.Uint16(b[14:16]))
	addrLen := 0
	if cmd == Proxy {
		switch fam {
		case FamUnspec:
		case FamTCP4, FamUDP4:
			addrLen = 12
		case FamTCP6, FamUDP6:
			addrLen = 36
		case FamUnixStream, FamUnixDgram:
			addrLen = 216
		default:
			return h, 0, errV2Family // §2.2: other values must be rejected
		}
		if length < addrLen {
			return h, 0, errV2AddrLen
		}
	}
	n = V2HeaderLen + length
	if len(b) < n {
		return h, 0, ErrShort
	}
	h = Header{Version: 2, Command: cmd, Family: fam, Unknown: true}
	// LOCAL: "discard the protocol block including the family" (§2.2);
	// like HAProxy, its content is skipped unread. AF_UNSPEC: the address
	// block has no defined size, so TLVs cannot be found either.
	if cmd == Local || fam == FamUnspec {
		return h, n, nil
	}
	a := b[V2HeaderLen:]
	switch fam {
	case FamTCP4:
		h.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[0:4])), binary.BigEndian.Uint16(a[8:]))
		h.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[4:8])), binary.BigEndian.Uint16(a[10:]))
		h.Unknown = false
	case FamTCP6:
		h.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[0:16])), binary.BigEndian.Uint16(a[32:]))
		h.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[16:32])), binary.BigEndian.Uint16(a[34:]))
		h.Unknown = false
	}
	// Other families (UDP, UNIX) fall back to UNSPEC, as §2.2 lets a
	// receiver do, but their TLVs are still read and checked. HAProxy 2.6
	// rejects them instead (its TLV walk then starts at offset 0).
	tlvs, err := parseTLVs(b[:n], V2HeaderLen+addrLen)
	if err != nil {
		return Header{}, 0, err
	}
	h.TLVs = tlvs
	return h, n, nil
}

// parseTLVs checks and collects the TLVs of hdr, a whole v2 header, from
// offset off. The checks are HAProxy's (conn_recv_proxy): every TLV lies
// within the header, CRC32C is 4 bytes and matches (§2.2.3), AUTHORITY and
// UNIQUE_ID respect their bounds.
func parseTLVs(hdr []byte, off int) ([]TLV, error) {
	count := 0
	crcAt := -1
	for i := off; i < len(hdr); {
		if len(hdr)-i < 3 {
			return nil, errV2TLVHead
		}
		typ := hdr[i]
		l := int(binary.BigEndian.Uint16(hdr[i+1:]))
		if len(hdr)-i-3 < l {
			return nil, errV2TLVLen
		}
		switch typ {
		case TypeCRC32C:
			if l != 4 {
				return nil, errV2CRCLen
			}
			if crcAt >= 0 {
				return nil, errV2CRCTwice
			}
			crcAt = i + 3
		case TypeAuthority:
			if l > MaxAuthorityLen {
				return nil, errV2Authority
			}
		case TypeUniqueID:
			if l > MaxUniqueIDLen {
				return nil, errV2UniqueID
			}
		}
		count++
		i += 3 + l
	}
	if crcAt >= 0 {
		// Checksum of the header with the CRC field zeroed (§2.2.3),
		// computed in pieces so that the input is never written.
		sum := crc32.Update(0, castagnoli, hdr[:crcAt])
		sum = crc32.Update(sum, castagnoli, zero4[:])
		sum = crc32.Update(sum, castagnoli, hdr[crcAt+4:])
		if sum != binary.BigEndian.Uint32(hdr[crcAt:]) {
			return nil, errV2CRC
		}
	}
	if count == 0 {
		return nil, nil
	}
	tlvs := make([]TLV, 0, count)
	for i := off; i < len(hdr); {
		l := int(binary.BigEndian.Uint16(hdr[i+1:]))
		tlvs = append(tlvs, TLV{Type: hdr[i], Value: hdr[i+3 : i+3+l : i+3+l]})
		i += 3 + l
	}
	return tlvs, nil
}

// hasPrefixSoFar reports whether b and prefix agree on their common length:
// b may still grow into prefix, or already holds it.
func hasPrefixSoFar(b []byte, prefix string) bool {
	m := min(len(b), len(prefix))
	return string(b[:m]) == prefix[:m]
}
