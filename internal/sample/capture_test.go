package sample

import "testing"

func TestCaptureSlots(t *testing.T) {
	var c Ctx
	c.Caps.Reset(2, 1)
	Store(c.Caps.Req, 0, []byte("abcdef"), 3)
	Store(c.Caps.Req, 1, []byte("a\x00b"), 10)
	Store(c.Caps.Req, 5, []byte("ignored"), 10)
	for _, tc := range []struct {
		fetch, arg, want string
		found            bool
	}{
		{"capture.req.hdr", "0", "abc", true},
		{"capture.req.hdr", "1", "a", true}, // a slot ends at its first NUL, as HAProxy's C strings
		{"capture.req.hdr", "2", "", false},
		{"capture.req.hdr", "-1", "", false},
		{"capture.res.hdr", "0", "", false},
	} {
		v, found, _ := evalExpr(t, &c, tc.fetch, tc.arg, "")
		if found != tc.found || (found && string(v.Bytes) != tc.want) {
			t.Errorf("%s(%s) = %q, %v; want %q, %v", tc.fetch, tc.arg, v.Bytes, found, tc.want, tc.found)
		}
	}
	// A new transaction empties the slots but keeps their buffers.
	c.Caps.Reset(2, 1)
	if c.Caps.Req[0].Set || len(c.Caps.Req[0].Val) != 0 || cap(c.Caps.Req[0].Val) == 0 {
		t.Errorf("reset slot: %+v", c.Caps.Req[0])
	}
	Store(c.Caps.Res, 0, nil, 4)
	if v, found, _ := evalExpr(t, &c, "capture.res.hdr", "0", ""); !found || len(v.Bytes) != 0 {
		t.Errorf("an empty capture is found and empty: %q %v", v.Bytes, found)
	}
	if a := testing.AllocsPerRun(100, func() {
		c.Caps.Reset(2, 1)
		Store(c.Caps.Req, 0, []byte("abc"), 3)
	}); a != 0 {
		t.Errorf("capturing allocates %v times", a)
	}
}

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		fetch    string
		response bool
		want     string
	}{
		{"req.hdr", true, "HTTP request headers"},
		{"path", true, "HTTP request headers"},
		{"method", true, ""},
		{"hdr", true, ""},
		{"res.hdr", false, "HTTP response headers"},
		{"status", false, "HTTP response"},
		{"capture.res.hdr", false, "HTTP response"},
		{"capture.req.hdr", true, ""},
		{"src", false, ""},
	} {
		if got := Unavailable(tc.fetch, tc.response); got != tc.want {
			t.Errorf("Unavailable(%s, %v) = %q, want %q", tc.fetch, tc.response, got, tc.want)
		}
	}
}
