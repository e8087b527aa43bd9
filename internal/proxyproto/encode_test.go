package proxyproto

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// unhex decodes hex with spaces allowed between bytes.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestAppendV1(t *testing.T) {
	tests := []struct {
		name     string
		src, dst netip.AddrPort
		want     string
	}{
		// The spec's example (§2.1).
		{"spec example", ap("192.168.0.1:56324"), ap("192.168.0.11:443"),
			"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"},
		// Observed from HAProxy 2.6.12 send-proxy (reference §4.4).
		{"haproxy observed", ap("127.0.0.1:36212"), ap("127.0.0.1:38180"),
			"PROXY TCP4 127.0.0.1 127.0.0.1 36212 38180\r\n"},
		{"tcp4 longest", ap("255.255.255.255:65535"), ap("255.255.255.255:65535"),
			"PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"},
		{"tcp4 zeros", ap("0.0.0.0:0"), ap("10.0.0.1:0"),
			"PROXY TCP4 0.0.0.0 10.0.0.1 0 0\r\n"},
		{"tcp6", ap("[2001:db8::1]:1234"), ap("[::1]:80"),
			"PROXY TCP6 2001:db8::1 ::1 1234 80\r\n"},
		{"tcp6 longest", ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"),
			"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"},
		// make_proxy_line_v1: one IPv6 side makes TCP6, the IPv4 side goes
		// through v4tov6 (IPv4-mapped).
		{"mixed v4 src", ap("192.0.2.1:1000"), ap("[2001:db8::2]:443"),
			"PROXY TCP6 ::ffff:192.0.2.1 2001:db8::2 1000 443\r\n"},
		{"mixed v4 dst", ap("[2001:db8::2]:1000"), ap("192.0.2.1:443"),
			"PROXY TCP6 2001:db8::2 ::ffff:192.0.2.1 1000 443\r\n"},
		// An AF_INET6 socket's view of an IPv4 peer stays IPv6.
		{"mapped both", ap("[::ffff:127.0.0.1]:5000"), ap("[::ffff:127.0.0.1]:80"),
			"PROXY TCP6 ::ffff:127.0.0.1 ::ffff:127.0.0.1 5000 80\r\n"},
		{"zone dropped", ap("[fe80::1%eth0]:5000"), ap("[fe80::2%eth0]:80"),
			"PROXY TCP6 fe80::1 fe80::2 5000 80\r\n"},
		{"unknown src", netip.AddrPort{}, ap("127.0.0.1:80"), "PROXY UNKNOWN\r\n"},
		{"unknown dst", ap("127.0.0.1:80"), netip.AddrPort{}, "PROXY UNKNOWN\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendV1([]byte("x"), tt.src, tt.dst)
			if string(got) != "x"+tt.want {
				t.Errorf("AppendV1 = %q, want %q", got, "x"+tt.want)
			}
			if len(tt.want) > MaxV1Len {
				t.Errorf("line is %d bytes, over MaxV1Len", len(tt.want))
			}
		})
	}
}

func TestAppendV2(t *testing.T) {
	const sig = "0d0a0d0a000d0a515549540a"
	tests := []struct {
		name     string
		cmd      Command
		src, dst netip.AddrPort
		tlvs     []TLV
		want     string
	}{
		// Observed from HAProxy 2.6.12 send-proxy-v2 (reference §4.4).
		{"haproxy observed", Proxy, ap("127.0.0.1:36226"), ap("127.0.0.1:38180"), nil,
			sig + "21 11 000c 7f000001 7f000001 8d82 9524"},
		// What HAProxy's health checks send to a send-proxy-v2 server.
		{"local", Local, netip.AddrPort{}, netip.AddrPort{}, nil, sig + "20 00 0000"},
		{"local ignores addresses", Local, ap("1.2.3.4:1"), ap("5.6.7.8:2"), nil, sig + "20 00 0000"},
		{"proxy without addresses is local", Proxy, netip.AddrPort{}, ap("5.6.7.8:2"), nil, sig + "20 00 0000"},
		{"tcp6", Proxy, ap("[2001:db8::1]:1"), ap("[::1]:443"), nil,
			sig + "21 21 0024 20010db8000000000000000000000001 00000000000000000000000000000001 0001 01bb"},
		{"mixed maps v4", Proxy, ap("192.0.2.1:1000"), ap("[2001:db8::2]:443"), nil,
			sig + "21 21 0024 00000000000000000000ffffc0000201 20010db8000000000000000000000002 03e8 01bb"},
		{"tlvs in order", Proxy, ap("1.2.3.4:1"), ap("5.6.7.8:2"),
			[]TLV{{TypeALPN, []byte("h2")}, {TypeNOOP, nil}, {0xe0, []byte{1, 2, 3}}},
			sig + "21 11 001a 01020304 05060708 0001 0002 01 0002 6832 04 0000 e0 0003 010203"},
		{"local with tlv", Local, netip.AddrPort{}, netip.AddrPort{}, []TLV{{TypeNOOP, []byte{0}}},
			sig + "20 00 0004 04 0001 00"},
		// CRC32C of the header with the field zeroed (§2.2.3), computed
		// by the independent crcOf below.
		{"crc32c", Proxy, ap("1.2.3.4:1"), ap("5.6.7.8:2"), []TLV{{Type: TypeCRC32C}},
			sig + "21 11 0013 01020304 05060708 0001 0002 03 0004 " + crcOf(t, sig+"21 11 0013 01020304 05060708 0001 0002 03 0004 00000000")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendV2([]byte("x"), tt.cmd, tt.src, tt.dst, tt.tlvs...)
			want := append([]byte("x"), unhex(t, tt.want)...)
			if !bytes.Equal(got, want) {
				t.Errorf("AppendV2 =\n %x\nwant\n %x", got, want)
			}
		})
	}
}

// crcOf is an independent bitwise CRC32c (reflected polynomial 0x82F63B78)
// of a hex header, as 8 hex digits.
func crcOf(t testing.TB, h string) string {
	crc := ^uint32(0)
	for _, c := range unhex(t, h) {
		crc ^= uint32(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x82f63b78
			} else {
				crc >>= 1
			}
		}
	}
	return hex.EncodeToString([]byte{byte(^crc >> 24), byte(^crc >> 16), byte(^crc >> 8), byte(^crc)})
}

func TestCRCOfCheckValue(t *testing.T) {
	// The CRC-32C check value of "123456789" (RFC 3720 B.4 / catalogue).
	if got := crcOf(t, hex.EncodeToString([]byte("123456789"))); got != "e3069283" {
		t.Fatalf("crcOf(123456789) = %s, want e3069283", got)
	}
}

func TestAppendV2Panics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a 65536-byte TLV")
		}
	}()
	AppendV2(nil, Proxy, ap("1.2.3.4:1"), ap("5.6.7.8:2"), TLV{TypeNOOP, make([]byte, 0x10000)})
}

// TestAppendIPv6 checks the text against glibc's inet_ntop (the vectors
// were printed by Python's socket.inet_ntop on Debian 12), which is what
// HAProxy's v1 lines carry.
func TestAppendIPv6(t *testing.T) {
	tests := []struct{ hex, want string }{
		{"00000000000000000000000000000000", "::"},
		{"00000000000000000000000000000001", "::1"},
		{"00000000000000000000000000000002", "::2"},
		{"00000000000000000000000001020304", "::1.2.3.4"},
		{"00000000000000000000ffff01020304", "::ffff:1.2.3.4"},
		{"00000000000000000000ffff00000000", "::ffff:0.0.0.0"},
		{"0000000000000000ffff000001020304", "::ffff:0:102:304"},
		{"00000000000000000000000000000100", "::100"},
		{"00010000000000000000000000000000", "1::"},
		{"20010db8000000000000000000000001", "2001:db8::1"},
		{"20010db8000000000001000000000001", "2001:db8::1:0:0:1"},
		{"20010000000000010000000000000001", "2001:0:0:1::1"},
		{"00010000000100000001000000010000", "1:0:1:0:1:0:1:0"},
		{"00000000000100000000000000000000", "0:0:1::"},
		{"ffffffffffffffffffffffffffffffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"0000000000000000000000000000ffff", "::ffff"},
		{"000000000000000000000000ffff0000", "::255.255.0.0"},
		{"00000000000000000000fffe01020304", "::fffe:102:304"},
		{"0064ff9b000000000000000001020304", "64:ff9b::102:304"},
		{"fe800000000000000000000000000001", "fe80::1"},
		{"00000000000000000000000100000000", "::1:0:0"},
		{"00010002000300040005000600070000", "1:2:3:4:5:6:7:0"},
		{"00000001000200030004000500060007", "0:1:2:3:4:5:6:7"},
		{"00000000000000000000000000010000", "::0.1.0.0"},
		{"000000000000000000000000ffffffff", "::255.255.255.255"},
	}
	for _, tt := range tests {
		a := [16]byte(unhex(t, tt.hex))
		if got := string(appendIPv6(nil, a)); got != tt.want {
			t.Errorf("appendIPv6(%s) = %q, want %q", tt.hex, got, tt.want)
		}
		// And the parser reads it back.
		if p, ok := parseIPv6([]byte(tt.want)); !ok || p.As16() != a {
			t.Errorf("parseIPv6(%q) = %v, %v", tt.want, p, ok)
		}
	}
}

// TestAppendNoAllocs guards the send path: headers are appended into pooled
// buffers for every server connection.
func TestAppendNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 512)
	s4, d4 := ap("192.168.0.1:56324"), ap("192.168.0.11:443")
	s6, d6 := ap("[2001:db8::1]:56324"), ap("[2001:db8::2]:443")
	tlv := []TLV{{TypeCRC32C, nil}, {TypeALPN, []byte("h2")}}
	for name, f := range map[string]func(){
		"v1 tcp4":    func() { buf = AppendV1(buf[:0], s4, d4) },
		"v1 tcp6":    func() { buf = AppendV1(buf[:0], s6, d6) },
		"v1 unknown": func() { buf = AppendV1(buf[:0], netip.AddrPort{}, d4) },
		"v2 tcp4":    func() { buf = AppendV2(buf[:0], Proxy, s4, d4) },
		"v2 tcp6":    func() { buf = AppendV2(buf[:0], Proxy, s6, d6) },
		"v2 local":   func() { buf = AppendV2(buf[:0], Local, netip.AddrPort{}, netip.AddrPort{}) },
		"v2 tlvs":    func() { buf = AppendV2(buf[:0], Proxy, s4, d4, tlv...) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

func BenchmarkAppendV1(b *testing.B) {
	buf := make([]byte, 0, 128)
	s, d := ap("[2001:db8::1]:56324"), ap("[2001:db8::2]:443")
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendV1(buf[:0], s, d)
	}
}

func BenchmarkAppendV2(b *testing.B) {
	buf := make([]byte, 0, 128)
	s, d := ap("192.168.0.1:56324"), ap("192.168.0.11:443")
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendV2(buf[:0], Proxy, s, d)
	}
}
