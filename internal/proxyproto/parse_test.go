package proxyproto

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

const sigHex = "0d0a0d0a000d0a515549540a"

// unixAddrs is a v2 AF_UNIX address block: "/a" and "/b", 108 bytes each.
var unixAddrs = "2f61" + strings.Repeat("00", 106) + "2f62" + strings.Repeat("00", 106)

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Header
	}{
		{"v1 tcp4", []byte("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
			Header{Version: 1, Command: Proxy, Family: FamTCP4, Src: ap("192.168.0.1:56324"), Dst: ap("192.168.0.11:443")}},
		{"v1 tcp4 extremes", []byte("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"),
			Header{Version: 1, Command: Proxy, Family: FamTCP4, Src: ap("0.0.0.0:0"), Dst: ap("255.255.255.255:65535")}},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::1 ::1 1234 80\r\n"),
			Header{Version: 1, Command: Proxy, Family: FamTCP6, Src: ap("[2001:db8::1]:1234"), Dst: ap("[::1]:80")}},
		{"v1 tcp6 upper and full", []byte("PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0001 :: 1 2\r\n"),
			Header{Version: 1, Command: Proxy, Family: FamTCP6, Src: ap("[2001:db8::1]:1"), Dst: ap("[::]:2")}},
		// inet_pton takes a dotted quad tail; a mapped address stays IPv6.
		{"v1 tcp6 mapped", []byte("PROXY TCP6 ::ffff:1.2.3.4 2001:db8::2 1111 80\r\n"),
			Header{Version: 1, Command: Proxy, Family: FamTCP6, Src: ap("[::ffff:1.2.3.4]:1111"), Dst: ap("[2001:db8::2]:80")}},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\n"),
			Header{Version: 1, Command: Proxy, Family: FamUnspec, Unknown: true}},
		// §2.1: the receiver ignores what follows UNKNOWN before CRLF.
		{"v1 unknown with addresses", []byte("PROXY UNKNOWN ffff:f::f ffff:f::f 65535 65535\r\n"),
			Header{Version: 1, Command: Proxy, Family: FamUnspec, Unknown: true}},
		{"v2 tcp4", unhex(t, sigHex+"21 11 000c 01020304 05060708 0457 0050"),
			Header{Version: 2, Command: Proxy, Family: FamTCP4, Src: ap("1.2.3.4:1111"), Dst: ap("5.6.7.8:80")}},
		{"v2 tcp6", unhex(t, sigHex+"21 21 0024 20010db8000000000000000000000001 00000000000000000000ffff01020304 0001 01bb"),
			Header{Version: 2, Command: Proxy, Family: FamTCP6, Src: ap("[2001:db8::1]:1"), Dst: ap("[::ffff:1.2.3.4]:443")}},
		{"v2 local", unhex(t, sigHex+"20 00 0000"),
			Header{Version: 2, Command: Local, Family: FamUnspec, Unknown: true}},
		// §2.2: receivers skip len bytes even for LOCAL and ignore the
		// family; HAProxy does not read the block at all.
		{"v2 local with block", unhex(t, sigHex+"20 11 000f 01020304 05060708 0457 0050 01ffff"),
			Header{Version: 2, Command: Local, Family: FamTCP4, Unknown: true}},
		{"v2 local odd family", unhex(t, sigHex+"20 ff 0001 00"),
			Header{Version: 2, Command: Local, Family: 0xff, Unknown: true}},
		{"v2 proxy unspec", unhex(t, sigHex+"21 00 0000"),
			Header{Version: 2, Command: Proxy, Family: FamUnspec, Unknown: true}},
		{"v2 proxy unspec with block", unhex(t, sigHex+"21 00 0003 ffffff"),
			Header{Version: 2, Command: Proxy, Family: FamUnspec, Unknown: true}},
		{"v2 udp4", unhex(t, sigHex+"21 12 000c 01020304 05060708 0457 0050"),
			Header{Version: 2, Command: Proxy, Family: FamUDP4, Unknown: true}},
		{"v2 udp6", unhex(t, sigHex+"21 22 0024"+strings.Repeat("00", 36)),
			Header{Version: 2, Command: Proxy, Family: FamUDP6, Unknown: true}},
		{"v2 unix stream", unhex(t, sigHex+"21 31 00d8"+unixAddrs),
			Header{Version: 2, Command: Proxy, Family: FamUnixStream, Unknown: true}},
		{"v2 unix dgram with tlv", unhex(t, sigHex+"21 32 00db"+unixAddrs+"04 0000"),
			Header{Version: 2, Command: Proxy, Family: FamUnixDgram, Unknown: true, TLVs: []TLV{{TypeNOOP, []byte{}}}}},
		{"v2 tlvs", unhex(t, sigHex+"21 11 001a 01020304 05060708 0001 0002 01 0002 6832 04 0000 e0 0003 010203"),
			Header{Version: 2, Command: Proxy, Family: FamTCP4, Src: ap("1.2.3.4:1"), Dst: ap("5.6.7.8:2"),
				TLVs: []TLV{{TypeALPN, []byte("h2")}, {TypeNOOP, []byte{}}, {0xe0, []byte{1, 2, 3}}}}},
		{"v2 authority 255", unhex(t, sigHex+"21 11 010e 01020304 05060708 0001 0002 02 00ff"+strings.Repeat("61", 255)),
			Header{Version: 2, Command: Proxy, Family: FamTCP4, Src: ap("1.2.3.4:1"), Dst: ap("5.6.7.8:2"),
				TLVs: []TLV{{TypeAuthority, bytes.Repeat([]byte("a"), 255)}}}},
		{"v2 unique id 128", unhex(t, sigHex+"21 11 008f 01020304 05060708 0001 0002 05 0080"+strings.Repeat("61", 128)),
			Header{Version: 2, Command: Proxy, Family: FamTCP4, Src: ap("1.2.3.4:1"), Dst: ap("5.6.7.8:2"),
				TLVs: []TLV{{TypeUniqueID, bytes.Repeat([]byte("a"), 128)}}}},
		{"v2 crc32c", AppendV2(nil, Proxy, ap("1.2.3.4:1"), ap("5.6.7.8:2"), TLV{Type: TypeCRC32C}),
			Header{Version: 2, Command: Proxy, Family: FamTCP4, Src: ap("1.2.3.4:1"), Dst: ap("5.6.7.8:2"),
				TLVs: []TLV{{TypeCRC32C, unhex(t, crcOf(t, sigHex+"21 11 0013 01020304 05060708 0001 0002 03 0004 00000000"))}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := []byte("GET / HTTP/1.0\r\n\r\n")
			in := append(append([]byte(nil), tt.in...), payload...)
			h, n, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if n != len(tt.in) {
				t.Errorf("n = %d, want %d", n, len(tt.in))
			}
			if !reflect.DeepEqual(h, tt.want) {
				t.Errorf("Parse =\n %+v\nwant\n %+v", h, tt.want)
			}
			// Every strict prefix is a valid start: ErrShort, never a
			// rejection, so a reader keeps waiting.
			for i := range len(tt.in) {
				if _, _, err := Parse(tt.in[:i]); err != ErrShort {
					t.Fatalf("Parse(first %d bytes) = %v, want ErrShort", i, err)
				}
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	long := "PROXY UNKNOWN " + strings.Repeat("f", MaxV1Len-14)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"http request", []byte("GET / HTTP/1.1\r\n"), ErrNotProxy},
		{"lower case", []byte("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), ErrNotProxy},
		{"PROXY without space", []byte("PROXYTCP4"), ErrNotProxy},
		{"bad signature", unhex(t, "0d0a0d0a000d0a515549540b 21 11 000c"), ErrNotProxy},
		{"signature prefix then junk", []byte("\r\n\r\nGET"), ErrNotProxy},
		// HAProxy reports a wrong version nibble as not a header at all.
		{"v2 version 1", unhex(t, sigHex+"11 11 000c"), ErrNotProxy},
		{"v2 version 3", unhex(t, sigHex+"31 11 000c"), ErrNotProxy},
		{"v2 command 2", unhex(t, sigHex+"22 11 000c"), ErrInvalid},
		{"v2 command f", unhex(t, sigHex+"2f 00 0000"), ErrInvalid},
		{"v2 family 4", unhex(t, sigHex+"21 41 000c"), ErrInvalid},
		{"v2 transport 3", unhex(t, sigHex+"21 13 000c"), ErrInvalid},
		{"v2 family inet unspec transport", unhex(t, sigHex+"21 10 000c"), ErrInvalid},
		{"v2 unspec with stream", unhex(t, sigHex+"21 01 0000"), ErrInvalid},
		{"v2 tcp4 len 11", unhex(t, sigHex+"21 11 000b 01020304 05060708 0457 00"), ErrInvalid},
		{"v2 tcp4 len 0", unhex(t, sigHex+"21 11 0000"), ErrInvalid},
		{"v2 tcp6 len 12", unhex(t, sigHex+"21 21 000c 01020304 05060708 0457 0050"), ErrInvalid},
		{"v2 unix len 36", unhex(t, sigHex+"21 31 0024"+strings.Repeat("00", 36)), ErrInvalid},
		{"v2 tlv header cut", unhex(t, sigHex+"21 11 000e 01020304 05060708 0001 0002 0400"), ErrInvalid},
		{"v2 tlv value overlong", unhex(t, sigHex+"21 11 0011 01020304 05060708 0001 0002 04 0005 6162"), ErrInvalid},
		{"v2 crc32c mismatch", unhex(t, sigHex+"21 11 0013 01020304 05060708 0001 0002 03 0004 61626364"), ErrInvalid},
		{"v2 crc32c 3 bytes", unhex(t, sigHex+"21 11 0012 01020304 05060708 0001 0002 03 0003 616263"), ErrInvalid},
		{"v2 crc32c twice", AppendV2(nil, Proxy, ap("1.2.3.4:1"), ap("5.6.7.8:2"), TLV{Type: TypeCRC32C}, TLV{Type: TypeCRC32C}), ErrInvalid},
		{"v2 authority 256", unhex(t, sigHex+"21 11 010f 01020304 05060708 0001 0002 02 0100"+strings.Repeat("61", 256)), ErrInvalid},
		{"v2 unique id 129", unhex(t, sigHex+"21 11 0090 01020304 05060708 0001 0002 05 0081"+strings.Repeat("61", 129)), ErrInvalid},
		{"v2 unix tlv cut", unhex(t, sigHex+"21 31 00da"+unixAddrs+"0400"), ErrInvalid},
		{"v1 LF only", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\n"), ErrInvalid},
		{"v1 CR only", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\rX"), ErrInvalid},
		{"v1 NUL", []byte("PROXY TCP4 1.2.3.4\x00"), ErrInvalid},
		{"v1 high byte", []byte("PROXY UNKNOWN \xff"), ErrInvalid},
		{"v1 no CRLF in 107", []byte(long), ErrTooLong},
		{"v1 CRLF at 108", []byte(long[:MaxV1Len-1] + "\r\n"), ErrTooLong},
		{"v1 bad protocol", []byte("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), ErrBadProtocol},
		{"v1 bad protocol early", []byte("PROXY X"), ErrBadProtocol},
		{"v1 two spaces", []byte("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), ErrBadProtocol},
		{"v1 protocol without fields", []byte("PROXY TCP4\r\n"), ErrBadProtocol},
		{"v1 unknownx", []byte("PROXY UNKNOWNX\r\n"), ErrInvalid},
		{"v1 tcp4 no fields", []byte("PROXY TCP4 \r\n"), ErrInvalid},
		{"v1 three fields", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), ErrInvalid},
		{"v1 five fields", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), ErrInvalid},
		{"v1 double space", []byte("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), ErrInvalid},
		{"v1 trailing space", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"), ErrInvalid},
		{"v1 empty port", []byte("PROXY TCP4 1.2.3.4 5.6.7.8  80\r\n"), ErrInvalid},
		{"v1 port 65536", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 65536 80\r\n"), ErrInvalid},
		{"v1 port 99999", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n"), ErrInvalid},
		{"v1 port 6 digits", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 000001 80\r\n"), ErrInvalid},
		{"v1 port leading zero", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 01111 80\r\n"), ErrInvalid},
		{"v1 port sign", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 +1 80\r\n"), ErrInvalid},
		{"v1 addr leading zero", []byte("PROXY TCP4 01.2.3.4 5.6.7.8 1 80\r\n"), ErrInvalid},
		{"v1 addr 256", []byte("PROXY TCP4 1.2.3.256 5.6.7.8 1 80\r\n"), ErrInvalid},
		{"v1 addr 3 parts", []byte("PROXY TCP4 1.2.3 5.6.7.8 1 80\r\n"), ErrInvalid},
		{"v1 addr 5 parts", []byte("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 80\r\n"), ErrInvalid},
		{"v1 tcp4 with ipv6", []byte("PROXY TCP4 ::1 5.6.7.8 1 80\r\n"), ErrInvalid},
		{"v1 tcp6 with ipv4", []byte("PROXY TCP6 1.2.3.4 ::1 1 80\r\n"), ErrInvalid},
		{"v1 tcp6 zone", []byte("PROXY TCP6 fe80::1%eth0 ::1 1 80\r\n"), ErrInvalid},
		{"v1 tcp6 two ellipses", []byte("PROXY TCP6 1::2::3 ::1 1 80\r\n"), ErrInvalid},
		{"v1 tcp6 five hex digits", []byte("PROXY TCP6 12345:: ::1 1 80\r\n"), ErrInvalid},
		{"v1 tcp6 too short", []byte("PROXY TCP6 1:2:3:4:5:6:7 ::1 1 80\r\n"), ErrInvalid},
		{"v1 tcp6 brackets", []byte("PROXY TCP6 [::1] ::1 1 80\r\n"), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := Parse(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%q) = %+v, %d, %v; want %v", tt.in, h, n, err, tt.want)
			}
			if n != 0 || !reflect.DeepEqual(h, Header{}) {
				t.Errorf("Parse returned %+v, %d with an error", h, n)
			}
		})
	}
}

func TestParseShort(t *testing.T) {
	for _, in := range []string{"", "P", "PROXY", "PROXY ", "PROXY T", "PROXY TCP4 1.2.3.4", "PROXY UNKNOWN", "PROXY UNKNOWN junk", "PROXY TCP6 ::1 ::1 1 2\r", "\r", "\r\n\r\n\x00"} {
		if _, _, err := Parse([]byte(in)); err != ErrShort {
			t.Errorf("Parse(%q) = %v, want ErrShort", in, err)
		}
	}
	// A v2 header whose length runs past the bytes given.
	b := unhex(t, sigHex+"21 11 0010 01020304 05060708 0001 0002")
	if _, _, err := Parse(b); err != ErrShort {
		t.Errorf("Parse(v2 with 4 bytes missing) = %v, want ErrShort", err)
	}
}

func TestRoundTrip(t *testing.T) {
	pairs := [][2]netip.AddrPort{
		{ap("1.2.3.4:1"), ap("5.6.7.8:65535")},
		{ap("[2001:db8::1]:0"), ap("[::1]:443")},
		{ap("192.0.2.1:1000"), ap("[2001:db8::2]:443")},
		{ap("[::ffff:1.2.3.4]:1"), ap("[::ffff:5.6.7.8]:2")},
		{ap("[::1.2.3.4]:1"), ap("[::]:2")},
		{ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), ap("[1:0:1:0:1:0:1:0]:65535")},
		{{}, {}},
	}
	for _, p := range pairs {
		src, dst := p[0], p[1]
		if src.IsValid() && (src.Addr().Is4() != dst.Addr().Is4()) {
			// Mixed families come back both IPv6.
			src = netip.AddrPortFrom(netip.AddrFrom16(src.Addr().As16()), src.Port())
			dst = netip.AddrPortFrom(netip.AddrFrom16(dst.Addr().As16()), dst.Port())
		}
		for v, b := range map[int][]byte{
			1: AppendV1(nil, p[0], p[1]),
			2: AppendV2(nil, Proxy, p[0], p[1], TLV{TypeCRC32C, nil}, TLV{TypeAuthority, []byte("example.com")}),
		} {
			h, n, err := Parse(b)
			if err != nil || n != len(b) {
				t.Fatalf("Parse(%q) = %v, %d, %v", b, h, n, err)
			}
			if h.Version != v || h.Src != src || h.Dst != dst || h.Unknown != !src.IsValid() {
				t.Errorf("v%d %v -> %v: got %+v", v, p[0], p[1], h)
			}
			want := b
			if v == 2 && !src.IsValid() {
				// LOCAL's block, TLVs included, is skipped unread.
				want = AppendV2(nil, Local, src, dst)
			}
			if again := h.Append(nil); !bytes.Equal(again, want) {
				t.Errorf("re-encoding changed the bytes:\n %q\n %q", want, again)
			}
		}
	}
}

// TestParseIPv6MatchesNetip compares the text parser with the standard
// library's on tricky inputs; the fuzz target does the same on random ones.
func TestParseIPv6MatchesNetip(t *testing.T) {
	for _, s := range []string{
		"::", "::1", "1::", "1::2", ":1", "1:", ":::", "1:::2", "::1:2:3:4:5:6:7", "1:2:3:4:5:6:7::",
		"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8", "::ffff:1.2.3.4", "::1.2.3.4",
		"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:01.2.3.4", "::ffff:1.2.3", "1.2.3.4",
		"::1.2.3.4:5", "0000:0000:0000:0000:0000:0000:0000:0000", "00000::", "g::", "::FFFF:A", "1::2:",
		"::ffff:256.1.1.1", "fe80::1%eth0", "", ":", "1:2:3:4:5:6:7:8:", "::1.2.3.4.5", "a:b:c:d:e:f:1.2.3.4",
	} {
		got, ok := parseIPv6([]byte(s))
		want, err := netip.ParseAddr(s)
		wantOK := err == nil && want.Is6() && want.Zone() == ""
		if ok != wantOK || (ok && got != want) {
			t.Errorf("parseIPv6(%q) = %v, %v; netip says %v, %v", s, got, ok, want, err)
		}
	}
}

func TestParseNoAllocs(t *testing.T) {
	for _, in := range [][]byte{
		[]byte("PROXY TCP6 2001:db8::1 ::ffff:1.2.3.4 1234 80\r\n"),
		AppendV2(nil, Proxy, ap("1.2.3.4:1"), ap("5.6.7.8:2")),
		AppendV2(nil, Local, netip.AddrPort{}, netip.AddrPort{}),
		[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n"),
		[]byte("PROXY TCP"),
	} {
		if n := testing.AllocsPerRun(100, func() { Parse(in) }); n != 0 {
			t.Errorf("Parse(%q): %v allocations, want 0", in, n)
		}
	}
}

func TestReason(t *testing.T) {
	_, _, err := Parse([]byte("GET / HTTP/1.1\r\n"))
	if got := Reason(err); got != "Received something which does not look like a PROXY protocol header" {
		t.Errorf("Reason(%v) = %q", err, got)
	}
	_, _, err = Parse([]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n"))
	if got := Reason(err); got != "Received an invalid PROXY protocol header" {
		t.Errorf("Reason(%v) = %q", err, got)
	}
	_, _, err = Parse([]byte("PROXY UDP4 "))
	if got := Reason(err); got != "Received an unhandled protocol in the PROXY protocol header" {
		t.Errorf("Reason(%v) = %q", err, got)
	}
}

func BenchmarkParseV1(b *testing.B) {
	in := []byte("PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n")
	b.ReportAllocs()
	for b.Loop() {
		Parse(in)
	}
}

func BenchmarkParseV2(b *testing.B) {
	in := AppendV2(nil, Proxy, ap("192.168.0.1:56324"), ap("192.168.0.11:443"))
	b.ReportAllocs()
	for b.Loop() {
		Parse(in)
	}
}
