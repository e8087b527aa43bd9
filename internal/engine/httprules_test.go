package engine

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
 http-response deny if { req.hdr(x-resp-deny) -m found }
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
