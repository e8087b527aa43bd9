package sample

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oracleExprs are evaluated by haproxy (in an lf-string) and by Sluice on
// the same requests. Each is "fetch(args),converters" as written in a
// sample expression.
var oracleExprs = []string{
	"path", "pathq", "query", "url", "base", "baseq", "method", "req.ver", "req_ver",
	"capture.req.method", "capture.req.uri", "capture.req.ver", "http_first_req", "req.proto_http",
	"hdr(x)", "hdr(X,1)", "hdr(x,2)", "hdr(x,-2)", "hdr(x,-10)", "hdr(x,3)", "req.hdr(host)",
	"req.fhdr(x)", "req.fhdr(x,1)", "req.fhdr(x,-2)", "hdr_cnt(x)", "req.hdr_cnt(x)",
	"req.fhdr_cnt(x)", "hdr_cnt", "req.hdr_names", "req.hdr_names(;)",
	"hdr_val(n)", "req.hdr_val(n,1)", "hdr_ip(ip)", "hdr_ip(ip,1)", "req.hdr_ip(ip,2)",
	"req.cook(a)", "cook(b)", "req.cook(c)", "req.cook", "cook_cnt(a)", "req.cook_cnt",
	"req.cook_val(n)", "cook(\"q\")",
	"url_param(b)", "urlp(c)", "url_param", "url_param(b,;)", "urlp(x=y)", "urlp_val(n)",
	"hdr(x),lower", "hdr(x),upper", "req.hdr(host),lower,map(@DIR@/host.map)",
	"req.hdr(host),lower,map(@DIR@/host.map,nomatch)", "path,map_beg(@DIR@/beg.map,none)",
	"path,map_sub(@DIR@/sub.map,none)", "path,map_dir(@DIR@/dir.map,none)",
	"req.hdr(host),map_dom(@DIR@/dom.map,none)", "path,map_end(@DIR@/end.map,none)",
	"path,map_reg(@DIR@/reg.map,none)", "hdr_val(n),map_int(@DIR@/int.map,none)",
	"hdr_ip(ip),map_ip(@DIR@/ip.map,none)", "path,map_str_int(@DIR@/strint.map,-1)",
	"path,field(2,/)", "path,field(-1,/)", "path,field(2,/,2)", "path,field(2,/,0)", "path,field(9,/)",
	"path,word(1,/)", "path,word(-1,/)", "path,word(2,/,2)", "path,word(9,/)",
	"path,regsub(/,_)", "path,regsub(/,_,g)", "path,regsub(^/,@,g)", "path,regsub(A,x,gi)",
	"path,regsub(x*,-,g)", "path,regsub('([a-z])([0-9])','\\2\\1',g)",
	"req.ver,map_str_ip(@DIR@/strip.map,0.0.0.0)",
}

var oracleRequests = []string{
	"GET /a/b/c?x=1&b=2&b=3 HTTP/1.1\r\nHost: www.Example.com\r\nX: a, b\r\nx: \"c,d\" , e\r\nCookie: a=1; b=\"q,v\"; a=2\r\nCookie: n=42x\r\nN: 12 \r\nIP: 10.0.0.1:80\r\nIP: ::1\r\n\r\n",
	"GET http://Example.com:8080/p/Q9a?b=x=y&n=-7 HTTP/1.1\r\nhost: Example.com:8080\r\n\r\n",
	"GET /? HTTP/1.1\r\nHost: h\r\nX:\r\nX: ,\r\nCookie: a=\r\nCookie: a=;b= 2 ;c\r\n\r\n",
	"GET /p?b HTTP/1.0\r\nCookie:  a = 1 ;b=2,c=3\r\nN: -12a\r\nIP: 1.2.3\r\nIP: 1.2.3.4x\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	"get /x HTTP/1.1\r\nHost: a.b.example.org\r\nx: 1\r\nX: 2\r\nx: 3\r\nx: 4\r\nx: 5\r\nx: 6\r\nx: 7\r\nx: 8\r\nx: 9\r\nx: 10\r\nx: 11\r\n\r\n",
	"POST /a;b=1?b=2;c=3&c=4 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nCookie: $Version=1; q=1; c=\r\n\r\n",
	"GET /p?x&y=1&b=&b=5 HTTP/1.1\r\nHost:\r\nCookie: q\r\nIP: 2001:db8::1\r\nN: 4294967297\r\n\r\n",
	"GET http://h HTTP/1.1\r\nHost: h\r\n\r\n",
	"PURGE /static/img/x.png HTTP/1.1\r\nHost: api.example.com\r\nN: 7\r\nIP: 192.168.1.9\r\n\r\n",
	"GET /api/v1/users/42 HTTP/1.1\r\nHost: h\r\nN: 15\r\nIP: 10.1.2.3\r\n\r\n",
	"GET /aaa/x1y2 HTTP/1.1\r\nHost: h\r\n\r\n",
}

var oracleMaps = map[string]string{
	"host.map":   "# hosts\nwww.example.com site1\n  api.example.com   site2 with spaces  \nwww.example.com dup\n\n#x y\n",
	"beg.map":    "/api /api\n/api/v1 /api/v1\n/a /a\n/api/v1 dup\n",
	"sub.map":    "img img\nb b\n",
	"dir.map":    "b dir-b\nstatic dir-static\n",
	"dom.map":    "example.com dom-ex\nb dom-b\n",
	"end.map":    ".png png\n/c c\n",
	"reg.map":    "^/api/v[0-9]+/ api\n[0-9]$ digit\n",
	"int.map":    "12 twelve\n10:20 teen\n:0 neg\n",
	"ip.map":     "10.0.0.0/8 ten\n10.1.0.0/16 ten-one\n192.168.1.0/255.255.255.0 home\n::1 v6lo\n2001:db8::/32 doc\n",
	"strint.map": "/x 1\n/a/b/c 3\n",
	"strip.map":  "1.1 10.0.0.11\n1.0 ::10\n",
}

// TestOracleHTTP compares Sluice's Layer 7 fetches and converters with
// haproxy's on the same requests: haproxy evaluates every expression in
// an http-request return lf-string.
func TestOracleHTTP(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil || testing.Short() {
		t.Skip("haproxy not installed")
	}
	dir := t.TempDir()
	for name, body := range oracleMaps {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exprs := make([]string, len(oracleExprs))
	for i, e := range oracleExprs {
		exprs[i] = strings.ReplaceAll(e, "@DIR@", dir)
	}
	addr := freeAddr(t)
	var lf strings.Builder
	for i, e := range exprs {
		fmt.Fprintf(&lf, "%d=<%%[%s]>\\n", i, strings.ReplaceAll(e, `"`, `\"`))
	}
	cfg := fmt.Sprintf("global\n tune.http.maxhdr 101\ndefaults\n mode http\n timeout client 5s\n timeout server 5s\n timeout connect 5s\n"+
		"frontend f\n bind %s\n http-request return status 200 content-type text/plain lf-string \"%s\"\n", addr, lf.String())
	cfgPath := filepath.Join(dir, "h.cfg")
	os.WriteFile(cfgPath, []byte(cfg), 0o644)
	cmd := exec.Command(bin, "-db", "-f", cfgPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitListen(t, addr, &stderr)

	compiled := make([]*Expr, len(exprs))
	for i, e := range exprs {
		compiled[i] = compileText(t, e)
	}
	for ri, raw := range oracleRequests {
		got := haproxyEval(t, addr, raw)
		if os.Getenv("ORACLE_DUMP") != "" {
			for i := range exprs {
				t.Logf("%d %s = %q", ri, oracleExprs[i], got[i])
			}
		}
		c := &Ctx{Req: parseTestMsg(raw), FirstRequest: true, Final: true}
		for i, e := range compiled {
			var v Value
			want := "" // haproxy prints a missing sample as nothing
			if found, _ := e.Eval(c, &v); found {
				want = string(v.AsString(nil))
				if v.Type == Bool && want == "" {
					want = "0"
				}
			}
			if got[i] != want {
				t.Errorf("request %d %q\n  %s: haproxy %q, sluice %q", ri, strings.SplitN(raw, "\r\n", 2)[0], oracleExprs[i], got[i], want)
			}
		}
	}
}

// compileText compiles "fetch(args),conv..." as a config would hand it.
func compileText(t testing.TB, e string) *Expr {
	t.Helper()
	name, rest := e, ""
	if i := strings.IndexAny(e, "(,"); i >= 0 {
		name, rest = e[:i], e[i:]
	}
	args := ""
	if strings.HasPrefix(rest, "(") {
		j := strings.IndexByte(rest, ')')
		args, rest = rest[1:j], rest[j+1:]
	}
	x, err := Compile(name, args, rest)
	if err != nil {
		t.Fatalf("%s: %v", e, err)
	}
	return x
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListen(t *testing.T, addr string, stderr fmt.Stringer) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("haproxy did not listen on %s: %s", addr, stderr)
}

// haproxyEval sends one request and returns each expression's output;
// haproxy prints a missing sample as an empty string.
func haproxyEval(t *testing.T, addr, raw string) map[int]string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, raw)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("haproxy answered %d %q to %q", resp.StatusCode, b, raw)
	}
	out := map[int]string{}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, "=<")
		if !ok {
			continue
		}
		var n int
		fmt.Sscan(k, &n)
		out[n] = strings.TrimSuffix(v, ">")
	}
	return out
}
