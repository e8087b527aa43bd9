// Package proxyproto encodes and decodes PROXY protocol headers, versions 1
// and 2, as HAProxy 2.6 sends and accepts them (doc/proxy-protocol.txt,
// "the spec" below; src/connection.c conn_recv_proxy, make_proxy_line_v1,
// make_proxy_line_v2).
//
// The package works on raw bytes so that the engine never wraps a
// connection: senders append a header into a pooled buffer and write it
// before the payload; receivers parse the bytes at the start of a buffer, or
// let ReadFrom peek the header off a socket without consuming anything past
// it, so the rest of the stream can still be spliced.
//
// Addresses are netip.AddrPort values and keep the family they carry: an
// IPv4-mapped IPv6 address (the way an AF_INET6 socket sees an IPv4 peer) is
// IPv6 and is sent as TCP6, exactly as HAProxy sends what the kernel gave it.
// Zones are never sent.
package proxyproto

import (
	"errors"
	"net/netip"
	"os"
)

// Command is the v2 command nibble (spec §2.2). Version 1 headers always
// carry Proxy.
type Command byte

const (
	// Local marks a connection the proxy opened on its own behalf, such as a
	// health check: the receiver must use the real connection endpoints and
	// ignore the address block (spec §2.2, command 0x0).
	Local Command = 0x0
	// Proxy marks a relayed connection whose original endpoints are in the
	// header (spec §2.2, command 0x1).
	Proxy Command = 0x1
)

// String returns "LOCAL" or "PROXY" (other values read "0xN").
func (c Command) String() string {
	switch c {
	case Local:
		return "LOCAL"
	case Proxy:
		return "PROXY"
	}
	return "0x" + string("0123456789abcdef"[c&0xf])
}

// Address family and transport bytes of a v2 header (spec §2.2, the 14th
// byte). Header.Family uses the same values for version 1: TCP4 is FamTCP4,
// TCP6 is FamTCP6 and UNKNOWN is FamUnspec.
const (
	FamUnspec     byte = 0x00 // AF_UNSPEC: no usable address
	FamTCP4       byte = 0x11 // TCP over IPv4, 12 address bytes
	FamUDP4       byte = 0x12 // UDP over IPv4, 12 address bytes
	FamTCP6       byte = 0x21 // TCP over IPv6, 36 address bytes
	FamUDP6       byte = 0x22 // UDP over IPv6, 36 address bytes
	FamUnixStream byte = 0x31 // AF_UNIX stream, 216 address bytes
	FamUnixDgram  byte = 0x32 // AF_UNIX datagram, 216 address bytes
)

// TLV types registered by the spec (§2.2.1 to §2.2.8).
const (
	TypeALPN      byte = 0x01 // application protocol negotiated (TLS ALPN)
	TypeAuthority byte = 0x02 // host name (TLS SNI), at most 255 bytes in HAProxy
	TypeCRC32C    byte = 0x03 // CRC32c of the whole header, 4 bytes
	TypeNOOP      byte = 0x04 // padding, ignored
	TypeUniqueID  byte = 0x05 // opaque connection id, at most 128 bytes
	TypeSSL       byte = 0x20 // TLS details with sub-TLVs 0x21 to 0x25
	TypeNetNS     byte = 0x30 // network namespace name
)

// Size limits of the wire formats.
const (
	// MaxV1Len is the longest version 1 line including CRLF (spec §2.1:
	// "PROXY UNKNOWN" followed by two full IPv6 addresses and ports).
	MaxV1Len = 107
	// V2HeaderLen is the fixed part of a version 2 header: signature,
	// ver/cmd, family and length (spec §2.2).
	V2HeaderLen = 16
	// MaxV2Len is the longest version 2 header: the fixed part plus the
	// largest 16-bit length.
	MaxV2Len = V2HeaderLen + 0xffff
	// MaxAuthorityLen is HAProxy's PP2_AUTHORITY_MAX: a longer AUTHORITY TLV
	// makes the header invalid.
	MaxAuthorityLen = 255
	// MaxUniqueIDLen is the spec's bound on UNIQUE_ID (§2.2.5), enforced by
	// HAProxy (UNIQUEID_LEN).
	MaxUniqueIDLen = 128
)

// Header is one decoded PROXY protocol header.
type Header struct {
	// Version is 1 (text) or 2 (binary).
	Version int
	// Command is Proxy for every version 1 header; Local or Proxy for v2.
	Command Command
	// Family is the v2 family/transport byte (FamTCP4 ...); for version 1,
	// FamTCP4, FamTCP6 or FamUnspec (UNKNOWN).
	Family byte
	// Src and Dst are the original client and the address it connected to.
	// They are valid exactly when Unknown is false.
	Src, Dst netip.AddrPort
	// Unknown reports that the header carries no address the receiver may
	// use, so it keeps the real connection endpoints: v1 UNKNOWN, the v2
	// LOCAL command, and v2 PROXY with a family other than TCP over IPv4 or
	// IPv6 (spec §2.2: a receiver falls back to UNSPEC for the families it
	// does not support).
	Unknown bool
	// TLVs lists the v2 TLVs in wire order, values aliasing the parsed
	// bytes. It is nil for v1, for LOCAL (whose block is skipped unread,
	// spec §2.2) and for PROXY over AF_UNSPEC (whose address block has no
	// defined size, so TLVs cannot be located).
	TLVs []TLV
}

// TLV is one v2 type-length-value vector (spec §2.2). Sub-TLVs of TypeSSL
// stay inside Value.
type TLV struct {
	Type  byte
	Value []byte
}

// The errors Parse and ReadFrom return; compare them with errors.Is. The
// errors returned carry a detail in their text and unwrap to one of these.
var (
	// ErrShort means the bytes are a valid prefix of a header: read more.
	ErrShort = errors.New("proxyproto: incomplete PROXY protocol header")
	// ErrNotProxy means the bytes start with neither "PROXY " nor the v2
	// signature and version (HAProxy: CO_ER_PRX_NOT_HDR).
	ErrNotProxy = errors.New("proxyproto: not a PROXY protocol header")
	// ErrInvalid means a header that breaks the spec (CO_ER_PRX_BAD_HDR).
	ErrInvalid = errors.New("proxyproto: invalid PROXY protocol header")
	// ErrBadProtocol means a v1 line naming a protocol other than TCP4,
	// TCP6 or UNKNOWN (CO_ER_PRX_BAD_PROTO).
	ErrBadProtocol = errors.New("proxyproto: unhandled protocol in PROXY protocol header")
	// ErrTooLong means a v1 line without CRLF in its first 107 bytes
	// (spec §2.1), or, from ReadFrom, a header longer than the buffer.
	ErrTooLong = errors.New("proxyproto: PROXY protocol header too long")
	// ErrEmpty means the peer closed the connection before sending a byte
	// (CO_ER_PRX_EMPTY).
	ErrEmpty = errors.New("proxyproto: connection closed while waiting for PROXY protocol header")
	// ErrTruncated means the peer closed the connection in the middle of a
	// header (CO_ER_PRX_TRUNCATED).
	ErrTruncated = errors.New("proxyproto: truncated PROXY protocol header")
)

// detailError is a sentinel with a detail; package-level values of it keep
// Parse free of allocations on every path.
type detailError struct {
	kind   error
	detail string
}

func (e *detailError) Error() string { return e.kind.Error() + ": " + e.detail }
func (e *detailError) Unwrap() error { return e.kind }

func invalid(detail string) error { return &detailError{ErrInvalid, detail} }

// Reason returns the text HAProxy logs for a connection dropped with err
// (src/connection.c conn_err_code_str), so that Sluice's error log line
// "<frontend>/<listener>: <reason>" reads the same. Errors of other origins
// read as a connection error.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrEmpty):
		return "Connection closed while waiting for PROXY protocol header"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "Timeout while waiting for PROXY protocol header"
	case errors.Is(err, ErrTruncated), errors.Is(err, ErrShort):
		return "Truncated PROXY protocol header received"
	case errors.Is(err, ErrNotProxy):
		return "Received something which does not look like a PROXY protocol header"
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrTooLong):
		return "Received an invalid PROXY protocol header"
	case errors.Is(err, ErrBadProtocol):
		return "Received an unhandled protocol in the PROXY protocol header"
	}
	return "Connection error while waiting for PROXY protocol header"
}
