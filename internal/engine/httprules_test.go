package engine

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// startEchoBackend answers every request with its method, URI and headers,
// one per line, and sets a Server header the rules can remove.
func startEchoBackend(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var lines []string
		for k, vs := range r.Header {
			lines = append(lines, strings.ToLower(k)+": "+strings.Join(vs, "|"))
		}
		sort.Strings(lines)
		w.Header().Set("Server", "echo")
		w.Header().Set("X-Trace", "a, b")
		fmt.Fprintf(w, "%s %s\n%s\n", r.Method, r.RequestURI, strings.Join(lines, "\n"))
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func TestHTTPRules(t *testing.T) {
	echo := startEchoBackend(t)
	_, addr := startEngine(t, httpDefaults+`frontend fe
 bind %s
 option forwardfor
 http-request deny deny_status 429 if { req.hdr(x-deny) -m found }
 http-request return status 200 content-type text/plain string "pong" hdr X-Local yes if { req.hdr(x-ping) -m found }
 http-request redirect scheme https code 301 if { req.hdr(x-scheme) -m found }
 http-request redirect prefix /new drop-query if { req.hdr(x-prefix) -m found }
 http-request redirect location /elsewhere if { req.hdr(x-location) -m found }
 http-request set-header X-Client %%[src]
 http-request add-header X-Multi one
 http-request add-header X-Multi two
 http-request del-header User-Agent
 http-request set-path /rewritten if { req.hdr(x-setpath) -m found }
 http-request set-query a=1 if { req.hdr(x-setquery) -m found }
 http-request replace-path /old/(.*) /new/\1
 http-request set-method PUT if { req.hdr(x-put) -m found }
 http-request replace-value X-List ^b$ B
 http-response set-header X-Resp %%[src]
 http-response del-header Server
 http-response replace-value X-Trace ^a$ A
 http-response set-status 418 reason "Short And Stout" if { res.hdr(x-never) -m found }
 default_backend be
backend be
 http-request set-var(txn.deny) req.hdr(x-resp-deny)
 http-response deny if { var(txn.deny) -m found }
 server s1 `+echo+"\n")
	cases := []struct {
		req, want string
		not       []string
	}{
		{req: "GET /old/x?q=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: ua\r\nX-List: a, b, c\r\nConnection: close\r\n\r\n",
			want: "HTTP/1.1 200 OK\r\n|x-resp: 127.0.0.1\r\n|x-trace: A, b\r\n|GET /new/x?q=1\n|x-client: 127.0.0.1\n|x-forwarded-for: 127.0.0.1\n|x-multi: one|two\n|x-list: a, B, c\n",
			not:  []string{"user-agent", "server: echo"}},
		{req: "GET /p?x=1 HTTP/1.1\r\nHost: h\r\nX-Setpath: 1\r\nConnection: close\r\n\r\n", want: "GET /rewritten?x=1\n"},
		{req: "GET /p?x=1 HTTP/1.1\r\nHost: h\r\nX-Setquery: 1\r\nConnection: close\r\n\r\n", want: "GET /p?a=1\n"},
		{req: "POST /p HTTP/1.1\r\nHost: h\r\nX-Put: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", want: "PUT /p\n"},
		{req: "GET / HTTP/1.1\r\nHost: h\r\nX-Deny: 1\r\n\r\n", want: "HTTP/1.1 429 Too Many Requests\r\n"},
		{req: "GET / HTTP/1.1\r\nHost: h\r\nX-Ping: 1\r\nConnection: close\r\n\r\n",
			want: "HTTP/1.1 200 OK\r\nx-local: yes\r\ncontent-length: 4\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\npong"},
		{req: "GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nX-Scheme: 1\r\nConnection: close\r\n\r\n",
			want: "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: https://example.com/a/b?c=d\r\n"},
		{req: "GET /a/b?c=d HTTP/1.1\r\nHost: h\r\nX-Prefix: 1\r\nConnection: close\r\n\r\n",
			want: "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new/a/b\r\n"},
		{req: "GET /a HTTP/1.1\r\nHost: h\r\nX-Location: 1\r\nConnection: close\r\n\r\n", want: "location: /elsewhere\r\n"},
		{req: "GET /a HTTP/1.1\r\nHost: h\r\nX-Resp-Deny: 1\r\n\r\n", want: "HTTP/1.1 502 Bad Gateway\r\n", not: []string{"echo"}},
	}
	for _, c := range cases {
		out := rawHTTP(t, addr, c.req)
		for _, w := range strings.Split(c.want, "|") {
			if !strings.Contains(out, w) {
				t.Errorf("%q:\nmissing %q in\n%s", c.req, w, out)
			}
		}
		for _, n := range c.not {
			if strings.Contains(strings.ToLower(out), n) {
				t.Errorf("%q: %q should be gone:\n%s", c.req, n, out)
			}
		}
	}
}

// A return or redirect keeps the client's connection for its next request.
func TestHTTPReturnKeepsAlive(t *testing.T) {
	echo := startEchoBackend(t)
	_, addr := startEngine(t, httpDefaults+`frontend fe
 bind %s
 http-request return status 204 if { req.hdr(x-local) -m found }
 default_backend be
backend be
 server s1 `+echo+"\n")
	out := rawHTTP(t, addr, "GET /1 HTTP/1.1\r\nHost: h\r\nX-Local: 1\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	r := bufio.NewReader(strings.NewReader(out))
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("first: %v %v in %q", resp, err, out)
	}
	resp, err = http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("second: %v in %q", err, out)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.HasPrefix(string(b), "GET /2\n") {
		t.Errorf("second response: %q", b)
	}
}

// use_backend with a log-format name picks the backend per request: a
// host map names it, a name that is no backend falls back to the default
// backend (not to the next rule), and a tcp backend reached this way from
// an http frontend closes the connection without a response, as in
// HAProxy.
func TestDynamicUseBackend(t *testing.T) {
	a, b, d := startHTTPBackend(t, "a"), startHTTPBackend(t, "b"), startHTTPBackend(t, "d")
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts.map")
	if err := os.WriteFile(hosts, []byte("www.a.test a\nwww.b.test b\nraw.test tcp\nlost.test nowhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := freeAddr(t)
	startCfg(t, httpDefaults+fmt.Sprintf(`frontend fe
 bind %s
 use_backend be_%%[req.hdr(host),lower,map(%s)] if { req.hdr(host) -m found }
 use_backend be_b
 default_backend be_d
backend be_a
 server s1 %s
backend be_b
 server s1 %s
backend be_d
 server s1 %s
backend be_tcp
 mode tcp
 server s1 %s
`, p, hosts, a.hostPort(), b.hostPort(), d.hostPort(), a.hostPort()))
	for host, want := range map[string]string{"WWW.A.TEST": "a GET /", "www.b.test": "b GET /", "lost.test": "d GET /", "unmapped.test": "d GET /"} {
		out := rawHTTP(t, p, "GET / HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
		if !strings.HasSuffix(out, "\r\n\r\n"+want) {
			t.Errorf("Host %s: %q, want the reply %q", host, out, want)
		}
	}
	if out := rawHTTP(t, p, "GET / HTTP/1.0\r\n\r\n"); !strings.HasSuffix(out, "\r\n\r\nb GET /") {
		t.Errorf("no Host: %q, want the next rule's backend b", out)
	}
	if out := rawHTTP(t, p, "GET / HTTP/1.1\r\nHost: raw.test\r\n\r\n"); out != "" {
		t.Errorf("http frontend to a tcp backend: %q, want the connection closed without a byte", out)
	}
}

// Reason phrases as HAProxy 2.6 writes them (observed with haproxy): a
// return takes http_get_reason's ("302 Moved Temporarily", "299 Success"),
// a redirect its own ("302 Found").
func TestReplyReasonPhrases(t *testing.T) {
	p := freeAddr(t)
	startCfg(t, httpDefaults+fmt.Sprintf(`frontend fe
 bind %s
 http-request return status 302 hdr Location /x if { path /r }
 http-request redirect location /y code 302 if { path /l }
 http-request return status 418 if { path /t }
 http-request return status 299 if { path /n }
 http-request return status 502 if { path /b }
`, p))
	for path, want := range map[string]string{"/r": "302 Moved Temporarily", "/l": "302 Found", "/t": "418 I'm a teapot", "/n": "299 Success", "/b": "502 Bad Gateway or Proxy Error"} {
		out := rawHTTP(t, p, "GET "+path+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(out, "HTTP/1.1 "+want+"\r\n") {
			t.Errorf("%s: %q, want the status line %q", path, out, want)
		}
	}
}

// http-after-response rules apply to the responses Sluice makes itself
// too (a return, a redirect, a deny, a 503 without a server), as in
// HAProxy, but not to a malformed request's 400, which HAProxy's HTTP/1
// layer sends before any rule.
func TestAfterResponseOnGeneratedResponses(t *testing.T) {
	p := freeAddr(t)
	startCfg(t, httpDefaults+fmt.Sprintf(`frontend fe
 bind %s
 http-request return status 200 content-type text/plain string hi if { path /ret }
 http-request redirect location /elsewhere if { path /redir }
 http-request deny if { path /deny }
 http-after-response set-header X-After yes
 http-after-response set-status 299 if { status 503 }
 default_backend be
backend be
 server s1 127.0.0.1:1
`, p))
	for path, want := range map[string]string{"/ret": "HTTP/1.1 200 OK\r\n", "/redir": "HTTP/1.1 302 Found\r\n", "/deny": "HTTP/1.1 403 Forbidden\r\n", "/down": "HTTP/1.1 299 Success\r\n"} {
		out := rawHTTP(t, p, "GET "+path+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(out, want) || !strings.Contains(out, "\r\nx-after: yes\r\n") {
			t.Errorf("%s: %q, want %q with x-after: yes", path, out, want)
		}
	}
	if out := rawHTTP(t, p, "GET /a b HTTP/1.1\r\n\r\n"); !strings.HasPrefix(out, "HTTP/1.1 400 Bad request\r\n") || strings.Contains(out, "x-after") {
		t.Errorf("malformed request: %q, want the raw 400 without x-after", out)
	}
}
