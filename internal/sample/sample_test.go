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
		{"int", "42", ",hex", "3432"}, // an integer cast to text first
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
	if _, err := Compile("path", "", ""); !errors.Is(err, ErrNotSupported) {
		t.Errorf("path: %v", err)
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
