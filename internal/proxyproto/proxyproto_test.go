package proxyproto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

var (
	c4 = netip.MustParseAddrPort("127.0.0.1:36226")
	f4 = netip.MustParseAddrPort("127.0.0.1:38180")
	c6 = netip.MustParseAddrPort("[2001:db8::1]:1111")
	f6 = netip.MustParseAddrPort("[::1]:80")
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// The bytes haproxy 2.6 sends (reference §4.4, captured on the wire).
func TestEncode(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []byte
		want []byte
	}{
		{"v1 tcp4", AppendV1(nil, c4, f4), []byte("PROXY TCP4 127.0.0.1 127.0.0.1 36226 38180\r\n")},
		{"v1 tcp6", AppendV1(nil, c6, f6), []byte("PROXY TCP6 2001:db8::1 ::1 1111 80\r\n")},
		{"v1 mixed", AppendV1(nil, c4, f6), []byte("PROXY TCP6 ::ffff:127.0.0.1 ::1 36226 80\r\n")},
		{"v1 unknown", AppendV1(nil, netip.AddrPort{}, f4), []byte("PROXY UNKNOWN\r\n")},
		{"v2 tcp4", AppendV2(nil, Proxy, c4, f4, nil), unhex("0d0a0d0a000d0a515549540a" + "21" + "11" + "000c" + "7f000001" + "7f000001" + "8d82" + "9524")},
		{"v2 local", AppendV2(nil, Local, c4, f4, nil), unhex("0d0a0d0a000d0a515549540a" + "20" + "00" + "0000")},
		{"v2 tcp6", AppendV2(nil, Proxy, c6, f6, nil), unhex("0d0a0d0a000d0a515549540a" + "21" + "21" + "0024" +
			"20010db8000000000000000000000001" + "00000000000000000000000000000001" + "0457" + "0050")},
		{"v2 tlv", AppendV2(nil, Proxy, c4, f4, []byte{0x01, 0x00, 0x02, 'h', '2'}), unhex("0d0a0d0a000d0a515549540a" + "21" + "11" + "0011" + "7f000001" + "7f000001" + "8d82" + "9524" + "0100026832")},
	} {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestParseValid(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want Header
	}{
		{"v1 tcp4", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\r\nGET"), Header{Version: 1, Command: Proxy,
			Src: netip.MustParseAddrPort("1.2.3.4:1111"), Dst: netip.MustParseAddrPort("5.6.7.8:80")}},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::1 ::1 1111 80\r\n"), Header{Version: 1, Command: Proxy, Src: c6, Dst: f6}},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\n"), Header{Version: 1, Command: Proxy, Unknown: true}},
		{"v1 unknown with rest", []byte("PROXY UNKNOWN ffff::1 ::1 1 2\r\n"), Header{Version: 1, Command: Proxy, Unknown: true}},
		{"v2 tcp4", AppendV2(nil, Proxy, c4, f4, nil), Header{Version: 2, Command: Proxy, Src: c4, Dst: f4, TLVs: []byte{}}},
		{"v2 local", AppendV2(nil, Local, c4, f4, nil), Header{Version: 2, Command: Local, Unknown: true}},
		{"v2 unspec", unhex("0d0a0d0a000d0a515549540a" + "21" + "00" + "0000"), Header{Version: 2, Command: Proxy, Unknown: true, TLVs: []byte{}}},
	} {
		h, n, err := Parse(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if h.Version != tc.want.Version || h.Command != tc.want.Command || h.Src != tc.want.Src || h.Dst != tc.want.Dst || h.Unknown != tc.want.Unknown {
			t.Errorf("%s: got %+v, want %+v", tc.name, h, tc.want)
		}
		if end := bytes.Index(tc.in, []byte("GET")); end >= 0 && n != end {
			t.Errorf("%s: length %d, want %d", tc.name, n, end)
		}
	}
	// A unix-socket v2 header is accepted and its addresses ignored.
	unix := append(unhex("0d0a0d0a000d0a515549540a"+"21"+"31"+"00d8"), make([]byte, 216)...)
	if h, n, err := Parse(unix); err != nil || !h.Unknown || n != 232 {
		t.Errorf("unix: %+v %d %v", h, n, err)
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"not proxy", "GET / HTTP/1.1\r\n", ErrNotProxy},
		{"lowercase", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", ErrNotProxy},
		{"short v1", "PROXY TCP4 1.2.3.4", ErrShort},
		{"short prefix", "PRO", ErrShort},
		{"lf only", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", ErrInvalid},
		{"double space", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", ErrInvalid},
		{"family mismatch", "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", ErrInvalid},
		{"bad address", "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", ErrInvalid},
		{"leading zero port", "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", ErrInvalid},
		{"port too big", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", ErrInvalid},
		{"bad proto", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", ErrInvalid},
		{"missing field", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", ErrInvalid},
		{"too long", "PROXY UNKNOWN " + string(bytes.Repeat([]byte("x"), 120)) + "\r\n", ErrInvalid},
		{"v2 bad signature", "\r\n\r\n\x00\r\nQUIX\n!\x11\x00\x0c", ErrNotProxy},
		{"v2 short", "\r\n\r\n\x00\r\nQUIT\n!", ErrShort},
		{"v2 version 1", "\r\n\r\n\x00\r\nQUIT\n\x11\x11\x00\x0c" + "\x7f\x00\x00\x01\x7f\x00\x00\x01\x00\x01\x00\x02", ErrInvalid},
		{"v2 bad command", "\r\n\r\n\x00\r\nQUIT\n\x22\x11\x00\x0c" + "\x7f\x00\x00\x01\x7f\x00\x00\x01\x00\x01\x00\x02", ErrInvalid},
		{"v2 bad family", "\r\n\r\n\x00\r\nQUIT\n\x21\x41\x00\x00", ErrInvalid},
		{"v2 length too small", "\r\n\r\n\x00\r\nQUIT\n\x21\x21\x00\x0c" + "\x7f\x00\x00\x01\x7f\x00\x00\x01\x00\x01\x00\x02", ErrInvalid},
		{"v2 truncated body", "\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\x7f", ErrShort},
		{"v2 bad tlv", "\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0e" + "\x7f\x00\x00\x01\x7f\x00\x00\x01\x00\x01\x00\x02\x01\x00", ErrInvalid},
	} {
		_, _, err := Parse([]byte(tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestEncodeAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() {
		buf = AppendV1(buf[:0], c6, f6)
		buf = AppendV2(buf[:0], Proxy, c6, f6, nil)
	}); n != 0 {
		t.Fatalf("%v allocations per encode", n)
	}
}

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// ReadFrom takes a header that arrives a byte at a time and leaves the
// payload after it unread in the socket.
func TestReadFromByteByByte(t *testing.T) {
	for _, hdr := range [][]byte{AppendV1(nil, c4, f4), AppendV2(nil, Proxy, c6, f6, nil)} {
		c, s := pair(t)
		go func() {
			for _, b := range append(append([]byte{}, hdr...), "payload"...) {
				c.Write([]byte{b})
				time.Sleep(time.Millisecond)
			}
		}()
		h, err := ReadFrom(s, time.Now().Add(5*time.Second), make([]byte, 536))
		if err != nil {
			t.Fatal(err)
		}
		if h.Src.Port() != c4.Port() && h.Src.Port() != c6.Port() {
			t.Fatalf("header %+v", h)
		}
		s.SetReadDeadline(time.Now().Add(5 * time.Second))
		rest := make([]byte, 7)
		if _, err := io.ReadFull(s, rest); err != nil || string(rest) != "payload" {
			t.Fatalf("after the header: %q %v", rest, err)
		}
	}
}

func TestReadFromRejects(t *testing.T) {
	c, s := pair(t)
	c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	if _, err := ReadFrom(s, time.Now().Add(5*time.Second), make([]byte, 536)); !errors.Is(err, ErrNotProxy) {
		t.Fatalf("garbage: %v", err)
	}
	c, s = pair(t)
	c.Write([]byte("PROXY TCP4 1.2"))
	c.CloseWrite()
	if _, err := ReadFrom(s, time.Now().Add(5*time.Second), make([]byte, 536)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("closed mid-header: %v", err)
	}
	_, s = pair(t)
	start := time.Now()
	if _, err := ReadFrom(s, time.Now().Add(100*time.Millisecond), make([]byte, 536)); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("silent client: %v after %v", err, time.Since(start))
	}
}

// FuzzParse: Parse never panics, never claims more than it was given, and
// what it accepts re-encodes to a header with the same addresses.
func FuzzParse(f *testing.F) {
	f.Add([]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\r\n"))
	f.Add([]byte("PROXY TCP6 ::1 ::2 1 2\r\nxx"))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add(AppendV2(nil, Proxy, c4, f4, []byte{1, 0, 2, 'h', '2'}))
	f.Add(AppendV2(nil, Proxy, c6, f6, nil))
	f.Add(AppendV2(nil, Local, c4, f4, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := Parse(b)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("length %d of %d", n, len(b))
		}
		if h.Unknown {
			return
		}
		var again []byte
		if h.Version == 1 {
			again = AppendV1(nil, h.Src, h.Dst)
		} else {
			again = AppendV2(nil, h.Command, h.Src, h.Dst, nil)
		}
		h2, _, err := Parse(again)
		if err != nil || h2.Src != h.Src || h2.Dst != h.Dst {
			t.Fatalf("re-encoded %q: %+v %v, want %+v", again, h2, err, h)
		}
	})
}
