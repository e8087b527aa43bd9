package sample

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const benchReq = "GET /api/v1/users?id=42&b=x HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: t\r\n" +
	"X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\nCookie: theme=dark; SESSIONID=abc123\r\n\r\n"

// The hot Layer 7 fetches and converters allocate nothing per evaluation.
func TestHTTPEvalAllocs(t *testing.T) {
	dir := t.TempDir()
	mapPath := filepath.Join(dir, "hosts.map")
	os.WriteFile(mapPath, []byte("www.example.com site1\n"), 0o644)
	c := &Ctx{Req: parseTestMsg(benchReq), Final: true}
	for _, e := range []string{"path", "hdr(x-forwarded-for)", "hdr(host,1)", "req.fhdr(user-agent)",
		"req.cook(SESSIONID)", "method", "url_param(id)", "query", "req.ver", "hdr_cnt(x-forwarded-for)",
		"req.hdr(host),lower", "req.hdr(host),map(" + mapPath + ")", "base", "path,field(2,/)", "path,word(-1,/)"} {
		x := compileText(t, e)
		var v Value
		if found, _ := x.Eval(c, &v); !found {
			t.Fatalf("%s: no sample", e)
		}
		if n := testing.AllocsPerRun(200, func() { x.Eval(c, &v) }); n != 0 {
			t.Errorf("%s: %v allocations per evaluation", e, n)
		}
		if n := testing.AllocsPerRun(200, func() {
			for more, next := true, false; more; next = true {
				_, _, more = x.Iterate(c, &v, next)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations per iteration", e, n)
		}
	}
}

func TestHTTPIterate(t *testing.T) {
	c := &Ctx{Req: parseTestMsg("GET /?b=1&b=2&c=3 HTTP/1.1\r\nX: a, b\r\nX: c\r\nCookie: a=1; a=2\r\nCookie: a=3\r\n\r\n")}
	for _, tc := range []struct{ expr, want string }{
		{"hdr(x)", "a b c"}, {"hdr(x,1)", "a"}, {"req.fhdr(x)", "a, b c"},
		{"req.cook(a)", "1 2 3"}, {"url_param(b)", "1 2"}, {"url_param", "1 2 3"},
		{"hdr_val(x)", "0 0 0"}, {"path", "/"},
	} {
		x := compileText(t, tc.expr)
		var got []string
		var v Value
		for next := false; ; next = true {
			found, _, more := x.Iterate(c, &v, next)
			if found {
				got = append(got, string(v.AsString(nil)))
			}
			if !found || !more {
				break
			}
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("%s iterates %q, want %q", tc.expr, s, tc.want)
		}
	}
}

// Responses: res.* read Ctx.Res; hdr and cookie follow the rule's side.
func TestHTTPResponse(t *testing.T) {
	c := &Ctx{Req: parseTestMsg("GET / HTTP/1.1\r\nX: req\r\nCookie: s=c\r\n\r\n"),
		Res: parseTestMsg("HTTP/1.0 503 Busy\r\nX: res\r\nSet-Cookie: s=1; Path=/, t=2\r\nSet-Cookie: u=3\r\n\r\n")}
	check := func(expr, want string) {
		t.Helper()
		var v Value
		found, _ := compileText(t, expr).Eval(c, &v)
		if got := string(v.AsString(nil)); !found && want != "<none>" || found && got != want {
			t.Errorf("InResponse=%v %s = %q (found %v), want %q", c.InResponse, expr, got, found, want)
		}
	}
	check("status", "503")
	check("res.ver", "1.0")
	check("capture.res.ver", "HTTP/1.0")
	check("res.hdr(x)", "res")
	check("hdr(x)", "req")
	check("res.cook(s)", "1")
	check("scook_cnt", "4") // comma-split Set-Cookie elements; attributes count, as in HAProxy
	c.InResponse = true
	check("hdr(x)", "res")
	check("cookie(s)", "1")
	// The request is gone once it was forwarded: a fetch of its headers
	// finds nothing in an http-response rule, as in HAProxy.
	check("req.cook(s)", "<none>")
	check("path", "<none>")
	check("method", "GET")
	check("res.cook_cnt(t)", "1")
	c.Res = nil
	check("status", "<none>")
}

func TestMapFileErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.map")
	os.WriteFile(p, []byte("# c\na 1\nb x\n"), 0o644)
	for _, tc := range []struct{ conv, want string }{
		{",map(" + dir + "/nope.map)", "invalid args in converter 'map' : failed to open pattern file <" + dir + "/nope.map>"},
		{",map_str_int(" + p + ")", "invalid args in converter 'map_str_int' : unable to parse 'x' at line 3 of file '" + p + "'"},
		{",map_int(" + p + ")", "'a' is not a number at line 2 of file '" + p + "'"},
		{",map_ip(" + p + ")", "'a' is not a valid IPv4 or IPv6 address at line 2"},
		{",map_str_ip(" + p + ",zz)", "unable to parse '1' at line 2"},
		{",field(0,:)", "Unexpected value 0 for index"},
		{",field(1,)", "Empty separators list"},
		{",regsub(a,b,x)", "invalid regex flag 'x', only 'i' and 'g' are supported"},
		{",regsub((?=a),b)", "RE2"},
	} {
		_, err := Compile("str", "x", tc.conv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.conv, err, tc.want)
		}
	}
}

// FuzzCookie: the cookie walker never panics or loops, whatever the
// header holds, and values stay inside it.
func FuzzCookie(f *testing.F) {
	f.Add("a=1; b=\"q,v\"; a=2", "a", true)
	f.Add(" a = 1 ;b=2,c=3", "b", false)
	f.Add("$Version=1; q=\"\\\"", "", true)
	f.Fuzz(func(t *testing.T, hdr, name string, list bool) {
		b := []byte(hdr)
		for pos, n := 0, 0; n <= len(b)+1; n++ {
			val, next, ok := extractCookie(b, pos, name, list)
			if !ok {
				break
			}
			if len(val) > len(b) || next <= pos {
				t.Fatalf("bad step: pos %d next %d", pos, next)
			}
			pos = next
		}
		c := &Ctx{Req: parseTestMsg("GET / HTTP/1.1\r\nCookie: " + strings.ReplaceAll(hdr, "\r\n", "") + "\r\n\r\n")}
		var v Value
		fetchCookie(c, dirReq, []Arg{{Str: name}}, &v)
		fetchCookieCnt(c, dirReq, []Arg{{Str: name}}, &v)
	})
}

// FuzzURLParam: query parameter lookup never panics and returns values
// inside the URI.
func FuzzURLParam(f *testing.F) {
	f.Add("/p?a=1&b=2;c=3", "b", "?")
	f.Add("/p?x&y=1&b=&b=5", "", "?")
	f.Add("/a;b=1?b=2", "b", ";")
	f.Fuzz(func(t *testing.T, uri, name, delim string) {
		if strings.ContainsAny(uri, " \r\n") || len(uri) == 0 {
			return
		}
		c := &Ctx{Req: parseTestMsg("GET " + uri + " HTTP/1.1\r\n\r\n")}
		a := []Arg{{Str: name}, {Str: delim}}
		var v Value
		fetchURLParam(c, a, &v)
		c.iterate = true
		c.cur = cursor{}
		for n := 0; n <= len(uri)+1; n++ {
			c.more = false
			if !fetchURLParam(c, a, &v) || !c.more {
				break
			}
			if len(v.Bytes) > len(uri) {
				t.Fatal("value longer than the URI")
			}
		}
	})
}

func BenchmarkHTTPFetches(b *testing.B) {
	c := &Ctx{Req: parseTestMsg(benchReq), Final: true}
	var xs []*Expr
	for _, e := range []string{"path", "hdr(x-forwarded-for)", "req.cook(SESSIONID)", "method", "url_param(id)", "req.hdr(host),lower"} {
		xs = append(xs, compileText(b, e))
	}
	var v Value
	b.ReportAllocs()
	for b.Loop() {
		for _, x := range xs {
			x.Eval(c, &v)
		}
	}
}
