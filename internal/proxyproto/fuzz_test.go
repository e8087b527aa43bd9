package proxyproto

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, that what it accepts is
// consistent (same result on exactly the header's bytes, ErrShort on every
// shorter prefix), and that re-encoding an accepted header gives one Parse
// accepts with the same addresses. testdata/fuzz/FuzzParse holds seeds and
// any input that once failed.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n",
		"PROXY TCP6 2001:db8::1 ::ffff:1.2.3.4 1 65535\r\n",
		"PROXY UNKNOWN\r\n",
		"PROXY UNKNOWN ffff:f::f ffff:f::f 65535 65535\r\n",
		"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
		"GET / HTTP/1.1\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Add(AppendV2(nil, Proxy, ap("127.0.0.1:36226"), ap("127.0.0.1:38180")))
	f.Add(AppendV2(nil, Local, netip.AddrPort{}, netip.AddrPort{}))
	f.Add(AppendV2(nil, Proxy, ap("[2001:db8::1]:1"), ap("[::1]:443"),
		TLV{Type: TypeCRC32C}, TLV{TypeALPN, []byte("h2")}, TLV{TypeSSL, []byte{1, 0, 0, 0, 0, 0x21, 0, 3, 'T', 'L', 'S'}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := Parse(b)
		if err != nil {
			if n != 0 || !reflect.DeepEqual(h, Header{}) {
				t.Fatalf("error %v with %+v, %d", err, h, n)
			}
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("n = %d for %d bytes", n, len(b))
		}
		if h2, n2, err2 := Parse(b[:n]); err2 != nil || n2 != n || !reflect.DeepEqual(h2, h) {
			t.Fatalf("Parse(b[:n]) = %+v, %d, %v; Parse(b) = %+v, %d", h2, n2, err2, h, n)
		}
		if n <= 300 {
			for i := range n {
				if _, _, err := Parse(b[:i]); err != ErrShort {
					t.Fatalf("Parse of %d-byte prefix of a %d-byte header = %v, want ErrShort", i, n, err)
				}
			}
		}
		checkHeader(t, h)

		e := h.Append(nil)
		h2, n2, err := Parse(e)
		if err != nil || n2 != len(e) {
			t.Fatalf("re-encoded %q: Parse = %v, %d of %d", e, err, n2, len(e))
		}
		if h2.Version != h.Version || h2.Unknown != h.Unknown || h2.Src != h.Src || h2.Dst != h.Dst {
			t.Fatalf("re-encoded %q parses as %+v, was %+v", e, h2, h)
		}
		// Headers with addresses have one encoding, except v1 TCP6 whose
		// IPv6 text may be written many ways.
		if !h.Unknown && (h.Version == 2 || h.Family == FamTCP4) {
			if !bytes.Equal(e, b[:n]) {
				t.Fatalf("re-encoding changed bytes:\n %q\n %q", b[:n], e)
			}
		}
	})
}

// checkHeader asserts the invariants documented on Header.
func checkHeader(t *testing.T, h Header) {
	t.Helper()
	if h.Version != 1 && h.Version != 2 {
		t.Fatalf("version %d", h.Version)
	}
	if h.Unknown {
		if h.Src.IsValid() || h.Dst.IsValid() {
			t.Fatalf("unknown header with addresses: %+v", h)
		}
		return
	}
	if h.Command != Proxy {
		t.Fatalf("LOCAL header with addresses: %+v", h)
	}
	s, d := h.Src.Addr(), h.Dst.Addr()
	switch h.Family {
	case FamTCP4:
		if !s.Is4() || !d.Is4() {
			t.Fatalf("TCP4 with %v %v", s, d)
		}
	case FamTCP6:
		if !s.Is6() || !d.Is6() || s.Zone() != "" || d.Zone() != "" {
			t.Fatalf("TCP6 with %v %v", s, d)
		}
	default:
		t.Fatalf("addresses with family %#x", h.Family)
	}
}

// FuzzIPText compares the v1 address parsers with netip and checks that
// what the encoder prints parses back.
func FuzzIPText(f *testing.F) {
	for _, s := range []string{"::", "::1", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "1::2::3", "1.2.3.4", "01.2.3.4", "fe80::1%eth0", "::1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got6, ok6 := parseIPv6([]byte(s))
		got4, ok4 := parseIPv4([]byte(s))
		want, err := netip.ParseAddr(s)
		want6 := err == nil && want.Is6() && want.Zone() == ""
		want4 := err == nil && want.Is4()
		if ok6 != want6 || (ok6 && got6 != want) {
			t.Fatalf("parseIPv6(%q) = %v, %v; netip: %v, %v", s, got6, ok6, want, err)
		}
		if ok4 != want4 || (ok4 && got4 != want) {
			t.Fatalf("parseIPv4(%q) = %v, %v; netip: %v, %v", s, got4, ok4, want, err)
		}
		if ok6 {
			text := appendIPv6(nil, got6.As16())
			if back, ok := parseIPv6(text); !ok || back != got6 {
				t.Fatalf("%v prints as %q which parses as %v, %v", got6, text, back, ok)
			}
		}
	})
}
