// Package proxyproto reads and writes the PROXY protocol headers HAProxy
// sends with send-proxy / send-proxy-v2 and accepts with accept-proxy
// (doc/proxy-protocol.txt, versions 1 and 2). Encoding appends into a
// caller's buffer without allocating; decoding works on bytes peeked from
// a socket, so a header is consumed exactly and nothing after it is read.
package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
)

// Command is a version 2 command.
type Command uint8

// Commands (spec section 2.2, the low nibble of byte 13).
const (
	// Local: the connection was made by the proxy itself (health checks);
	// the receiver uses the real connection's addresses.
	Local Command = 0
	// Proxy: the connection was relayed for the client named in the header.
	Proxy Command = 1
)

// Header is a decoded PROXY header.
type Header struct {
	Version int
	Command Command
	// Src and Dst are the client's address and the address it connected
	// to. They are zero when Unknown is set.
	Src, Dst netip.AddrPort
	// Unknown is set for v1 "UNKNOWN", a v2 LOCAL command, or a v2 family
	// that carries no TCP addresses (AF_UNSPEC, AF_UNIX): the receiver
	// keeps the connection's own addresses.
	Unknown bool
	// TLVs is the raw TLV area of a v2 header (it aliases the input).
	TLVs []byte
}

// Decoding errors. ErrShort is not final: more bytes may complete the
// header.
var (
	ErrShort    = errors.New("proxyproto: incomplete header")
	ErrNotProxy = errors.New("proxyproto: not a PROXY protocol header")
	ErrInvalid  = errors.New("proxyproto: invalid PROXY protocol header")
)

// sigV2 is the version 2 signature (spec section 2.2).
var sigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")

// MaxV1 is the longest valid version 1 line, CRLF included (section 2.1).
const MaxV1 = 107

// MaxV2 is the longest version 2 header: 16 bytes and a 16-bit length.
const MaxV2 = 16 + 65535

// AppendV1 appends a version 1 line for a client src that connected to
// dst. Mixed families are sent as IPv6 with the IPv4 one mapped, and an
// invalid address gives "PROXY UNKNOWN", as HAProxy's make_proxy_line_v1.
func AppendV1(b []byte, src, dst netip.AddrPort) []byte {
	if !src.IsValid() || !dst.IsValid() {
		return append(b, "PROXY UNKNOWN\r\n"...)
	}
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	proto := "TCP4 "
	if !s.Is4() || !d.Is4() {
		proto = "TCP6 "
		s, d = as6(s), as6(d)
	}
	b = append(b, "PROXY "...)
	b = append(b, proto...)
	b = s.AppendTo(b)
	b = append(b, ' ')
	b = d.AppendTo(b)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(src.Port()), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(dst.Port()), 10)
	return append(b, "\r\n"...)
}

func as6(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.AddrFrom16(a.As16())
	}
	return a
}

// AppendV2 appends a version 2 header. LOCAL (health checks) carries no
// address, as HAProxy sends it; PROXY carries TCP over IPv4 when both
// addresses are IPv4, else TCP over IPv6 with IPv4 mapped. tlvs is
// appended verbatim after the addresses.
func AppendV2(b []byte, cmd Command, src, dst netip.AddrPort, tlvs []byte) []byte {
	b = append(b, sigV2...)
	if cmd == Local || !src.IsValid() || !dst.IsValid() {
		b = append(b, 0x20, 0x00)
		return binary.BigEndian.AppendUint16(b, uint16(len(tlvs)))
	}
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	if s.Is4() && d.Is4() {
		b = append(b, 0x21, 0x11)
		b = binary.BigEndian.AppendUint16(b, uint16(12+len(tlvs)))
		s4, d4 := s.As4(), d.As4()
		b = append(b, s4[:]...)
		b = append(b, d4[:]...)
	} else {
		b = append(b, 0x21, 0x21)
		b = binary.BigEndian.AppendUint16(b, uint16(36+len(tlvs)))
		s16, d16 := s.As16(), d.As16()
		b = append(b, s16[:]...)
		b = append(b, d16[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	return append(b, tlvs...)
}

// Parse decodes the header at the start of b and returns its length.
// ErrShort means b holds a prefix of what may still be a valid header.
func Parse(b []byte) (Header, int, error) {
	switch {
	case len(b) == 0:
		return Header{}, 0, ErrShort
	case b[0] == '\r':
		n := min(len(b), len(sigV2))
		if !bytes.Equal(b[:n], sigV2[:n]) {
			return Header{}, 0, ErrNotProxy
		}
		return parseV2(b)
	case b[0] == 'P':
		n := min(len(b), 6)
		if !bytes.Equal(b[:n], []byte("PROXY ")[:n]) {
			return Header{}, 0, ErrNotProxy
		}
		return parseV1(b)
	}
	return Header{}, 0, ErrNotProxy
}

// parseV1 reads "PROXY TCP4|TCP6|UNKNOWN ...\r\n" (section 2.1): single
// spaces, addresses of the stated family, ports without leading zeros.
func parseV1(b []byte) (Header, int, error) {
	end := bytes.IndexByte(b[:min(len(b), MaxV1)], '\n')
	if end < 0 {
		if len(b) >= MaxV1 {
			return Header{}, 0, ErrInvalid
		}
		return Header{}, 0, ErrShort
	}
	if end == 0 || b[end-1] != '\r' {
		return Header{}, 0, ErrInvalid
	}
	line := string(b[6 : end-1])
	h := Header{Version: 1, Command: Proxy}
	if line == "UNKNOWN" || len(line) > 7 && line[:8] == "UNKNOWN " {
		h.Unknown = true
		return h, end + 1, nil
	}
	f := splitSpaces(line)
	if len(f) != 5 || (f[0] != "TCP4" && f[0] != "TCP6") {
		return Header{}, 0, ErrInvalid
	}
	src, err1 := netip.ParseAddr(f[1])
	dst, err2 := netip.ParseAddr(f[2])
	sp, ok1 := parsePort(f[3])
	dp, ok2 := parsePort(f[4])
	four := f[0] == "TCP4"
	if err1 != nil || err2 != nil || !ok1 || !ok2 || src.Is4() != four || dst.Is4() != four || src.Zone() != "" || dst.Zone() != "" {
		return Header{}, 0, ErrInvalid
	}
	h.Src, h.Dst = netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp)
	return h, end + 1, nil
}

// splitSpaces splits on single spaces; an empty field (two spaces in a
// row) makes the header invalid, so it is kept to fail the count.
func splitSpaces(s string) []string {
	var out []string
	for {
		i := bytes.IndexByte([]byte(s), ' ')
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
}

func parsePort(s string) (uint16, bool) {
	if s == "" || len(s) > 5 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 16)
	return uint16(n), err == nil
}

// parseV2 reads the binary header (section 2.2).
func parseV2(b []byte) (Header, int, error) {
	if len(b) < 16 {
		return Header{}, 0, ErrShort
	}
	if b[12]>>4 != 2 {
		return Header{}, 0, ErrInvalid
	}
	h := Header{Version: 2, Command: Command(b[12] & 0xf)}
	if h.Command > Proxy {
		return Header{}, 0, ErrInvalid
	}
	n := 16 + int(binary.BigEndian.Uint16(b[14:16]))
	if len(b) < n {
		return Header{}, 0, ErrShort
	}
	body := b[16:n]
	var alen int
	switch b[13] {
	case 0x00:
		h.Unknown = true
	case 0x11, 0x12:
		alen = 12
	case 0x21, 0x22:
		alen = 36
	case 0x31, 0x32:
		alen = 216
		h.Unknown = true
	default:
		return Header{}, 0, ErrInvalid
	}
	if len(body) < alen {
		return Header{}, 0, ErrInvalid
	}
	if h.Command == Local {
		// LOCAL: the addresses, if any, are to be ignored.
		h.Unknown = true
		return h, n, nil
	}
	switch alen {
	case 12:
		h.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[0:4])), binary.BigEndian.Uint16(body[8:10]))
		h.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[4:8])), binary.BigEndian.Uint16(body[10:12]))
	case 36:
		h.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(body[0:16])).Unmap(), binary.BigEndian.Uint16(body[32:34]))
		h.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(body[16:32])).Unmap(), binary.BigEndian.Uint16(body[34:36]))
	}
	h.TLVs = body[alen:]
	if !validTLVs(h.TLVs) {
		return Header{}, 0, ErrInvalid
	}
	return h, n, nil
}

// validTLVs checks that TLVs exactly fill their area.
func validTLVs(t []byte) bool {
	for len(t) > 0 {
		if len(t) < 3 {
			return false
		}
		n := 3 + int(binary.BigEndian.Uint16(t[1:3]))
		if n > len(t) {
			return false
		}
		t = t[n:]
	}
	return true
}
