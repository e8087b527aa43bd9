package sample

import (
	"errors"
	"net/netip"
	"testing"
)

func evalExpr(t *testing.T, c *Ctx, fetch, args, convs string) (Value, bool, bool) {
	t.Helper()
	e, err := Compile(fetch, args, convs)
	if err != nil {
		t.Fatalf("%s(%s)%s: %v", fetch, args, convs, err)
	}
	var v Value
	found, may := e.Eval(c, &v)
	return v, found, may
}

func TestFetchesAndConverters(t *testing.T) {
	c := &Ctx{Src: netip.MustParseAddrPort("10.1.2.3:4000"), Dst: netip.MustParseAddrPort("[::1]:443"),
		FrontendName: "Web", Final: true, Payload: []byte("\x00\x03abcdef")}
	for _, tc := range []struct {
		fetch, args, convs, want string
	}{
		{"src", "", "", "10.1.2.3"},
		{"src", "", ",ipmask(16)", "10.1.0.0"},
		{"src", "", ",ipmask(255.0.0.0)", "10.0.0.0"},
		{"dst", "", "", "::1"},
		{"dst_port", "", "", "443"},
		{"fe_name", "", ",lower", "web"},
		{"fe_name", "", ",upper,length", "3"},
		{"str", "abc", ",hex", "616263"},
		{"int", "42", ",hex", "000000000000002A"}, // 8 bytes, as HAProxy casts to binary
		{"src", "", ",hex", "0A010203"},
		{"always_true", "", ",hex", "0000000000000001"},
		{"req.payload", "2,3", "", "abc"},
		{"req.payload", "2,0", "", "abcdef"},
		{"req.payload_lv", "0,2", "", "abc"},
		{"req.payload_lv", "0,2,+1", "", "bcd"},
		{"req.payload_lv", "0,2,4", "", "cde"},
		{"req.len", "", "", "8"},
		{"str", "abcdef", ",bytes(1,2)", "bc"},
	} {
		v, found, _ := evalExpr(t, c, tc.fetch, tc.args, tc.convs)
		if !found || string(v.AsString(nil)) != tc.want {
			t.Errorf("%s(%s)%s = %q (found %v), want %q", tc.fetch, tc.args, tc.convs, v.AsString(nil), found, tc.want)
		}
	}
}

func TestMayChange(t *testing.T) {
	c := &Ctx{Payload: []byte("ab")}
	if _, found, may := evalExpr(t, c, "req.payload", "0,4", ""); found || !may {
		t.Fatalf("a short payload may still come: found=%v may=%v", found, may)
	}
	c.Final = true
	if _, found, may := evalExpr(t, c, "req.payload", "0,4", ""); found || may {
		t.Fatalf("final: found=%v may=%v", found, may)
	}
	if _, found, _ := evalExpr(t, c, "req.payload", "0,99999", ""); found {
		t.Fatal("a window past the buffer size never matches")
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct{ fetch, args, convs string }{
		{"nosuch", "", ""}, {"src", "x", ""}, {"req.payload", "1", ""}, {"src", "", ",nosuch"},
		{"src", "", ",ipmask(33)"}, {"ipv4", "::1", ""}, {"fc_rtt", "s", ""},
	} {
		if _, err := Compile(tc.fetch, tc.args, tc.convs); err == nil {
			t.Errorf("%s(%s)%s compiled", tc.fetch, tc.args, tc.convs)
		}
	}
	if _, err := Compile("sc0_http_req_rate", "", ""); !errors.Is(err, ErrNotSupported) {
		t.Errorf("sc0_http_req_rate: %v", err)
	}
}

// FuzzClientHello: the ClientHello walker never panics or reads outside
// the buffer, whatever a client sends.
func FuzzClientHello(f *testing.F) {
	f.Add([]byte("\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03"))
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		name, st := clientHelloSNI(b)
		if st == helloFound && len(name) > len(b) {
			t.Fatal("name longer than the input")
		}
		c := &Ctx{Payload: b}
		var v Value
		fetchSSLHelloType(c, nil, &v)
	})
}

// Whatever a client sends, the payload fetches never panic: a length
// field with its top bit set, windows past the buffer, huge offsets.
func TestPayloadHostileInput(t *testing.T) {
	c := &Ctx{Payload: []byte("\x80\x00\x00\x00\x00\x00\x00\x00xyz"), Final: true}
	for _, args := range []string{"0,8", "0,4", "0,1", "3,8,+2", "0,2,9223372036854775806"} {
		evalExpr(t, c, "req.payload_lv", args, "")
	}
	for _, args := range []string{"9223372036854775807,1", "1,9223372036854775807", "16000,1000"} {
		if _, found, _ := evalExpr(t, c, "req.payload", args, ""); found {
			t.Errorf("req.payload(%s) found a sample", args)
		}
	}
}

func TestBytesAndIPMaskSemantics(t *testing.T) {
	c := &Ctx{Src: netip.MustParseAddrPort("[2001:db8::1]:1"), Final: true}
	if _, found, _ := evalExpr(t, c, "src", "", ",ipmask(24)"); found {
		t.Error("ipmask without an IPv6 mask must fail for an IPv6 address, as HAProxy")
	}
	if v, found, _ := evalExpr(t, c, "src", "", ",ipmask(24,ffff:ffff::)"); !found || v.IP.String() != "2001:db8::" {
		t.Errorf("ipmask with an address-form IPv6 mask: %v %v", v.IP, found)
	}
	for _, tc := range []struct{ args, want string }{{"1,10", "bc"}, {"5", ""}, {"0,1", "a"}} {
		if v, found, _ := evalExpr(t, c, "str", "abc", ",bytes("+tc.args+")"); !found || string(v.Bytes) != tc.want {
			t.Errorf("bytes(%s) of abc = %q %v, want %q", tc.args, v.Bytes, found, tc.want)
		}
	}
}

// FuzzPayload: req.payload and req.payload_lv never panic, whatever the
// arguments and the client's bytes.
func FuzzPayload(f *testing.F) {
	f.Add(int64(0), int64(8), int64(3), []byte("\x80\x00\x00\x00\x00\x00\x00\x00xyz"))
	f.Add(int64(2), int64(2), int64(0), []byte("\x00\x03abcdef"))
	f.Fuzz(func(t *testing.T, a, b, o int64, payload []byte) {
		for _, final := range []bool{false, true} {
			c := &Ctx{Payload: payload, Final: final}
			var v Value
			fetchPayload(c, []Arg{{Int: a}, {Int: b}}, &v)
			fetchPayloadLV(c, []Arg{{Int: a}, {Int: b}}, &v)
			fetchPayloadLV(c, []Arg{{Int: a}, {Int: b}, {Int: o, Str: "set"}}, &v)
		}
	})
}

// In an http proxy (a request at hand), req.len is the request's HTX size
// (its head's, and the body buffered) and the payload fetches find nothing, as in HAProxy 2.6, whatever raw
// bytes the context holds.
func TestPayloadFetchesInHTTP(t *testing.T) {
	c := &Ctx{Req: htxMsg{parseTestMsg("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 29}, HTXBody: 10, Payload: []byte("GET /"), Final: true}
	const want = 29 + 10
	if v, found, _ := evalExpr(t, c, "req.len", "", ""); !found || v.Int != want {
		t.Errorf("req.len = %d (found %v), want %d, the head's HTX size and the body", v.Int, found, want)
	}
	for _, tc := range []struct{ fetch, args string }{{"req.payload", "0,3"}, {"req.payload", "0,0"}, {"req.payload_lv", "0,1"}} {
		if _, found, may := evalExpr(t, c, tc.fetch, tc.args, ""); found || may {
			t.Errorf("%s(%s): found=%v may=%v, want nothing", tc.fetch, tc.args, found, may)
		}
	}
}

// htxMsg is a test message that states its HTX size, as h1.Head does.
type htxMsg struct {
	*testMsg
	htx int64
}

func (m htxMsg) HTXSize() int64 { return m.htx }
