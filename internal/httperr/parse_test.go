package httperr

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Messages observed from `haproxy -c` (2.6.12) for each errorfile content.
func TestParseErrorfileErrors(t *testing.T) {
	cases := []struct{ name, raw, want string }{
		{"payload shorter than content-length", "HTTP/1.1 503 x\r\nContent-Length: 5\r\n\r\nabc", "payload size does not match the announced content-length (3 != 5)"},
		{"no end of headers", "HTTP/1.1 503 x\r\nFoo: bar\r\n", "unable to parse headers (error offset: -2)"},
		{"garbage", "garbage\r\n\r\n", "unable to parse headers (error offset: 0)"},
		{"space in a header name", "HTTP/1.1 503 x\r\nBad Header\r\n\r\n", "unable to parse headers (error offset: 19)"},
		{"chunked", "HTTP/1.1 503 x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "chunk-encoded payload not supported"},
		{"204 with a body", "HTTP/1.1 204 x\r\n\r\nbody", "message payload not expected"},
		{"HTTP/2", "HTTP/2 503 x\r\n\r\n", "invalid http version (HTTP/2)"},
		{"two content-lengths", "HTTP/1.1 503 x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\na", "unable to parse headers (error offset: 51)"},
		{"content-length 0 with a body", "HTTP/1.1 503 x\r\nContent-Length: 0\r\n\r\nabc", "message payload not expected"},
		{"100 continue", "HTTP/1.1 100 Continue\r\n\r\n", "invalid http status code for an error message (100)"},
		{"too big for HTX", "HTTP/1.1 503 x\r\n\r\n" + strings.Repeat("a", 16300), "unable to add payload into the HTX message"},
		{"empty header name", "HTTP/1.1 503 x\r\n: v\r\n\r\n", "unable to parse headers (error offset: 16)"},
	}
	for _, c := range cases {
		_, err := ParseErrorfile([]byte(c.raw))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func TestParseErrorfileAccepts(t *testing.T) {
	cases := []struct{ name, raw, wantHead string }{
		{"101 is allowed", "HTTP/1.1 101 x\r\n\r\n", "HTTP/1.1 101 x\r\n"},
		{"bare LF", "HTTP/1.1 200 x\nfoo: bar\n\nhey", "HTTP/1.1 200 x\r\nfoo: bar\r\n"},
		{"HTTP/1.0 kept", "HTTP/1.0 503 Down\r\nCache-Control: no-cache\r\n\r\n", "HTTP/1.0 503 Down\r\ncache-control: no-cache\r\n"},
		{"later version says 1.1", "HTTP/1.9 503 Down\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 503 Down\r\ncontent-length: 0\r\n"},
		{"no reason", "HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 503 \r\ncontent-length: 0\r\n"},
		{"connection cleaned", "HTTP/1.1 503 x\r\nConnection: A, close , B\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 503 x\r\nconnection: A,B\r\ncontent-length: 0\r\n"},
		{"identical content-lengths", "HTTP/1.1 503 x\r\nContent-Length: 2, 2\r\ncontent-length: 2\r\n\r\nok", "HTTP/1.1 503 x\r\ncontent-length: 2\r\n"},
		{"folded value", "HTTP/1.1 503 x\r\nA: 1\r\n\t2\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 503 x\r\na: 1  \t2\r\ncontent-length: 0\r\n"},
	}
	for _, c := range cases {
		p, err := ParseErrorfile([]byte(c.raw))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if string(p.Head()) != c.wantHead {
			t.Errorf("%s: head %q, want %q", c.name, p.Head(), c.wantHead)
		}
	}
}

func TestDefaultPages(t *testing.T) {
	p := Default(503)
	want := "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
	if string(p.Raw) != want || p.Status != 503 || !p.Ver11 || !p.KnownLength || p.ConnClose {
		t.Errorf("503: %+v", p)
	}
	if !Default(400).ConnClose || !Default(408).ConnClose {
		t.Error("400 and 408 pages must close")
	}
	if Default(418) != nil || Handled(418) {
		t.Error("418 is not HAProxy's")
	}
	for _, c := range Codes {
		if Default(c) == nil || Default(c).Code != c || Default(c).Status != c {
			t.Errorf("%d: %+v", c, Default(c))
		}
	}
}

func TestConnHeader(t *testing.T) {
	ka, _ := ParseErrorfile([]byte("HTTP/1.0 503 x\r\nContent-Length: 0\r\n\r\n"))
	cases := []struct {
		p         *Page
		cs        ConnState
		v         string
		wantClose bool
	}{
		{Default(503), ConnState{}, "", false},
		{Default(503), ConnState{ClientClose: true}, "close", true},
		{Default(503), ConnState{ReqHTTP10: true}, "keep-alive", false},
		{Default(503), ConnState{ReqPending: true}, "close", true},
		{Default(503), ConnState{HTTPClose: true}, "close", true},
		{Default(400), ConnState{}, "close", true},
		{ka, ConnState{}, "keep-alive", false},
		{ka, ConnState{ClientClose: true}, "", true},
	}
	for i, c := range cases {
		v, cl := c.p.ConnHeader(c.cs)
		if v != c.v || cl != c.wantClose {
			t.Errorf("%d: got %q,%v want %q,%v", i, v, cl, c.v, c.wantClose)
		}
	}
}

func TestLoaderMessages(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.http")
	os.WriteFile(big, append([]byte("HTTP/1.1 503 x\r\nContent-Length: 20000\r\n\r\n"), bytes.Repeat([]byte("a"), 20000)...), 0o644)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	l := &Loader{}
	cases := []struct {
		code int
		path string
		want string
	}{
		{418, empty, "status code '418' not handled."},
		{503, "/nonexistent", "error opening file '/nonexistent'."},
		{503, dir, "error reading file '" + dir + "'."},
		{503, big, "'" + big + "': payload size does not match the announced content-length (16343 != 20000)"},
	}
	for _, c := range cases {
		_, err := l.Errorfile(c.code, c.path)
		if err == nil || err.Error() != c.want {
			t.Errorf("%d %s: got %v, want %q", c.code, c.path, err, c.want)
		}
	}
	if len(l.Warnings) != 1 || l.Warnings[0] != "custom error message file '"+big+"' larger than 16384 bytes. Truncating." {
		t.Errorf("warnings %q", l.Warnings)
	}
	p, err := l.Errorfile(408, empty)
	if err != nil || !p.Empty || p.Code != 408 {
		t.Errorf("empty: %+v %v", p, err)
	}
	if w, cl := p.AppendWire(nil, ConnState{}); len(w) != 0 || !cl {
		t.Errorf("empty page sends %q", w)
	}
}

func TestHTTPErrorMessages(t *testing.T) {
	cases := []struct {
		args string
		want string
	}{
		{"status 418", "http-error: status code '418' not handled."},
		{"status 100", "http-error : Unexpected status code '100'"},
		{"status", "http-error : 'status' expects <status_code> as argument"},
		{"content-type text/plain", "http-error : expects at least a <status> as arguments."},
		{"status 503 string x", "http-error : a content type must be defined when non-empty payload is configured"},
		{"status 503 string a string b", "http-error : unexpected 'string' argument, 'string' already defined"},
		{"status 418 errorfiles x", "http-error : status code '418' not handled by default with 'errorfiles' argument."},
		{"status 503 foo", "http-error : unknown keyword 'foo'."},
		{"status 503 lf-string x", "http-error : a content type must be defined with a log-format payload"},
		{"status 418 lf-string x content-type a/b", "http-error: status code '418' not handled."},
	}
	for _, c := range cases {
		_, err := (&Loader{}).HTTPError(strings.Fields(c.args))
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: got %v, want %q", c.args, err, c.want)
		}
	}
	// Log-format replies are left to the engine to render.
	for _, args := range []string{"status 503 lf-string x content-type a/b", "status 503 hdr X %[src]"} {
		r, err := (&Loader{}).HTTPError(strings.Fields(args))
		if err != nil || r.Page == nil || r.Page.Reply == nil || len(r.Page.Raw) != 0 || r.Page.Code != 503 {
			t.Errorf("%q: %+v %v", args, r, err)
		}
	}
	if r, _ := (&Loader{}).HTTPError(strings.Fields("status 503 hdr X y")); r.Page.Reply != nil {
		t.Errorf("a static http-error reply left to the engine")
	}
	r, err := (&Loader{}).HTTPError(strings.Fields("status 503 content-type text/plain"))
	if err != nil || len(r.Warnings) != 1 || string(r.Page.Raw) != "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n" {
		t.Errorf("empty reply: %+v %v", r, err)
	}
}

func TestLookupOrder(t *testing.T) {
	l := &Loader{}
	a, _ := l.Errorloc(302, 503, "/a")
	b, _ := l.Errorloc(303, 503, "/b")
	fe, _, _ := Build("fe", []Decl{{Code: 503, Page: a}}, nil)
	be, _, _ := Build("be", []Decl{{Code: 503, Page: b}, {Code: 503}}, nil) // default-errorfiles resets
	if Lookup(be, fe, 503) != fe.Own(503) {
		t.Error("backend without a page must fall back to the frontend's")
	}
	be2, _, _ := Build("be", []Decl{{Code: 503, Page: b}}, nil)
	if Lookup(be2, fe, 503) != be2.Own(503) || Lookup(nil, nil, 503) != Default(503) {
		t.Error("lookup order")
	}
	_, alerts, _ := Build("fe", []Decl{{File: "f", Line: 3, Section: "nope"}}, nil)
	if len(alerts) != 1 || alerts[0] != "proxy 'fe': unknown http-errors section 'nope' (at f:3)." {
		t.Errorf("alerts %q", alerts)
	}
	d, _ := ErrorfilesDecl("f", 4, "s", []int{404})
	_, _, warns := Build("fe", []Decl{d}, map[string]*Section{"s": {Name: "s"}})
	if len(warns) != 1 || warns[0] != "config: proxy 'fe' : status '404' not declared in http-errors section 's' (at f:4)." {
		t.Errorf("warnings %q", warns)
	}
}

func FuzzParseErrorfile(f *testing.F) {
	for _, c := range Codes {
		f.Add(Builtin(c))
	}
	f.Add([]byte("HTTP/1.0 503 x\r\nConnection: close\r\n\r\nbody"))
	f.Add([]byte("\r\nHTTP/1.1 200 x\nA: 1\n 2\nContent-Length: 1, 1\n\nx"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := ParseErrorfile(raw)
		if err != nil {
			return
		}
		if p.Empty {
			return
		}
		if p.HeadLen+2 > len(p.Raw) || string(p.Raw[p.HeadLen:p.HeadLen+2]) != "\r\n" {
			t.Fatalf("bad split %q at %d", p.Raw, p.HeadLen)
		}
		// The page HAProxy sends must itself parse, to the same page.
		q, err := ParseErrorfile(p.Raw)
		if err != nil {
			t.Fatalf("reparse %q: %v", p.Raw, err)
		}
		if !bytes.Equal(q.Raw, p.Raw) && !p.ConnClose && !p.ConnKeepAlive {
			t.Fatalf("not stable:\n%q\n%q", p.Raw, q.Raw)
		}
	})
}
