package acl

import (
	"bytes"
	"strings"
	"testing"

	"sluice/internal/sample"
)

// reqMsg is a parsed request for tests.
type reqMsg struct {
	method, uri, version []byte
	names, values        [][]byte
}

func (m *reqMsg) Method() []byte               { return m.method }
func (m *reqMsg) URI() []byte                  { return m.uri }
func (m *reqMsg) Version() []byte              { return m.version }
func (m *reqMsg) Status() int                  { return 0 }
func (m *reqMsg) NumFields() int               { return len(m.names) }
func (m *reqMsg) Field(i int) ([]byte, []byte) { return m.names[i], m.values[i] }

func parseReq(raw string) *reqMsg {
	lines := strings.Split(strings.TrimSuffix(raw, "\r\n\r\n"), "\r\n")
	sl := strings.SplitN(lines[0], " ", 3)
	m := &reqMsg{method: []byte(sl[0]), uri: []byte(sl[1]), version: []byte(sl[2])}
	for _, l := range lines[1:] {
		n, v, _ := strings.Cut(l, ":")
		m.names = append(m.names, []byte(n))
		m.values = append(m.values, bytes.TrimSpace([]byte(v)))
	}
	return m
}

func httpCtx(raw string) *sample.Ctx {
	c := ctx()
	c.Req = parseReq(raw)
	return c
}

const aclReq = "GET /api/v1/users?id=42&tag=a&tag=b HTTP/1.1\r\nHost: WWW.Example.com:8080\r\n" +
	"X-Forwarded-For: 10.0.0.1, 192.168.1.5\r\nX-Forwarded-For: 172.16.0.9\r\nCookie: theme=dark; sid=abc\r\n" +
	"Cookie: sid=xyz\r\nContent-Length: 12\r\n\r\n"

func TestHTTPACLs(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Test
	}{
		{"path /api/v1/users", Pass},
		{"path_beg /api/ /v2/", Pass},
		{"path_end users", Pass},
		{"path_sub v1", Pass},
		{"path_dir v1", Pass},
		{"path_dir v", Fail},
		{"path_reg ^/api/v[0-9]+/", Pass},
		{"path_len 13", Pass},
		{"path_len gt 20", Fail},
		{"url_beg /api", Pass},
		{"url_sub tag=b", Pass},
		{"urlp(tag) b", Pass}, // every value of a repeated parameter is tried
		{"urlp(tag) c", Fail},
		{"url_param(id) -m int 42", Pass},
		{"urlp_val(id) 40:50", Pass},
		{"urlp_beg(tag) a", Pass},
		{"hdr(host) -i www.example.com:8080", Pass},
		{"hdr_beg(host) -i www.", Pass},
		{"hdr_dom(host) -i example", Pass},
		{"hdr_end(host) :8080", Pass},
		{"hdr(x-forwarded-for) 192.168.1.5", Pass}, // any comma-separated value
		{"hdr(x-forwarded-for,1) 192.168.1.5", Fail},
		{"hdr(x-forwarded-for,-1) -m ip 172.16.0.0/12", Pass},
		{"hdr_ip(x-forwarded-for) 192.168.0.0/16", Pass},
		{"hdr_cnt(x-forwarded-for) 3", Pass},
		{"req.fhdr_cnt(x-forwarded-for) 2", Pass},
		{"hdr_len(host) 20", Pass},
		{"hdr_val(content-length) gt 10", Pass},
		{"hdr_sub(cookie) -i THEME", Pass},
		{"req.hdr(x-missing) -m found", Fail},
		{"cook(sid) xyz", Pass}, // the second sid cookie matches too
		{"cook(sid) abc", Pass},
		{"cook_beg(theme) da", Pass},
		{"cook_cnt(sid) 2", Pass},
		{"req.cook(nope) -m found", Fail},
		{"base_beg www.example.com", Fail},
		{"base_beg -i www.example.com:8080/api", Pass},
		{"method GET", Pass},
		{"method get", Fail},
		{"method -i get", Fail}, // a well-known method only matches itself exactly
		{"method POST PUT", Fail},
		{"method -m str GET", Pass},
		{"req.ver 1.1", Pass},
		{"req_ver 1.0", Fail},
		{"query -m found", Pass},
		{"req.hdr(host),lower,field(1,:) www.example.com", Pass},
	} {
		e, err := Compile(spec(tc.line), Options{NoResolve: true})
		if err != nil {
			t.Errorf("%s: %v", tc.line, err)
			continue
		}
		if got := e.Eval(httpCtx(aclReq)); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.line, got, tc.want)
		}
	}
}

func TestHTTPMethodACL(t *testing.T) {
	for _, tc := range []struct {
		method, line string
		want         Test
	}{
		{"PURGE", "method PURGE", Pass},
		{"purge", "method -i PURGE", Pass},
		{"purge", "method PURGE", Fail},
		{"HEAD", "method GET HEAD", Pass},
	} {
		e := mustCompile(t, tc.line)
		if got := e.Eval(httpCtx(tc.method + " / HTTP/1.1\r\n\r\n")); got != tc.want {
			t.Errorf("%s against %s: got %d, want %d", tc.method, tc.line, got, tc.want)
		}
	}
}

func TestHTTPPredefined(t *testing.T) {
	for _, tc := range []struct {
		name, req string
		want      Test
	}{
		{"METH_GET", "HEAD / HTTP/1.1", Pass},
		{"METH_GET", "POST / HTTP/1.1", Fail},
		{"METH_POST", "POST / HTTP/1.1", Pass},
		{"HTTP", "GET / HTTP/1.1", Pass},
		{"HTTP_1.1", "GET / HTTP/1.1", Pass},
		{"HTTP_1.0", "GET / HTTP/1.1", Fail},
		{"HTTP_URL_ABS", "GET http://h/ HTTP/1.1", Pass},
		{"HTTP_URL_ABS", "GET /x HTTP/1.1", Fail},
		{"HTTP_URL_SLASH", "GET /x HTTP/1.1", Pass},
		{"HTTP_URL_STAR", "OPTIONS * HTTP/1.1", Pass},
		{"HTTP_CONTENT", "POST / HTTP/1.1\r\nContent-Length: 3", Pass},
		{"HTTP_CONTENT", "POST / HTTP/1.1\r\nContent-Length: 0", Fail},
	} {
		a, err := Predefined(tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := a.Eval(httpCtx(tc.req + "\r\n\r\n")); got != tc.want {
			t.Errorf("%s on %q: got %d, want %d", tc.name, tc.req, got, tc.want)
		}
	}
	// Without an HTTP message (mode tcp) Layer 7 ACLs find nothing.
	a, _ := Predefined("METH_GET")
	if a.Eval(ctx()) != Fail {
		t.Error("METH_GET without a request should fail")
	}
}

// Layer 7 conditions allocate nothing either.
func TestHTTPEvalAllocs(t *testing.T) {
	c := httpCtx(aclReq)
	get, _ := Predefined("METH_GET")
	cond := &Cond{Suites: [][]Term{{
		{ACL: get},
		{ACL: &ACL{Exprs: []*Expr{mustCompile(t, "path_beg /api/ /v2/")}}},
		{ACL: &ACL{Exprs: []*Expr{mustCompile(t, "hdr(x-forwarded-for) 172.16.0.9")}}},
		{ACL: &ACL{Exprs: []*Expr{mustCompile(t, "cook(sid) xyz")}}},
		{ACL: &ACL{Exprs: []*Expr{mustCompile(t, "hdr_dom(host) -i example")}}},
		{ACL: &ACL{Exprs: []*Expr{mustCompile(t, "urlp(tag) b")}}},
	}}}
	if m, _ := cond.Match(c); !m {
		t.Fatal("condition should match")
	}
	if n := testing.AllocsPerRun(200, func() { cond.Match(c) }); n != 0 {
		t.Fatalf("%v allocations per evaluation", n)
	}
}
