package engine

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"
)

// refServer is one application server of the reference's production
// example, on its own loopback address.
type refServer struct {
	name string
	addr string
	mu   sync.Mutex
	seen []*http.Request
}

func startRefServer(t *testing.T, name, ip string) *refServer {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("loopback address %s unavailable: %v", ip, err)
	}
	rs := &refServer{name: name, addr: ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" || r.URL.Path == "/api/health" {
			if r.Host != "sw-infrarunbook-01" {
				w.WriteHeader(400)
			}
			return
		}
		rs.mu.Lock()
		rs.seen = append(rs.seen, r)
		rs.mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/cacheable") {
			w.Header().Set("Cache-Control", "max-age=60")
		}
		fmt.Fprintf(w, "%s", name)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rs
}

func (rs *refServer) last() *http.Request {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.seen) == 0 {
		return nil
	}
	return rs.seen[len(rs.seen)-1]
}

// TestReferenceProductionL7 runs the reference's production Layer 7
// example with its addresses moved to loopback: three pools chosen by
// path, HTTP checks, cookie persistence, forwardfor, http-server-close,
// and its TLS bind with the redirect of clear text to https. (Its
// errorfile has tests of its own.)
func TestReferenceProductionL7(t *testing.T) {
	f := newTLSFixture(t)
	srv := map[string]*refServer{}
	for name, ip := range map[string]string{"app-01": "127.0.0.31", "app-02": "127.0.0.32", "app-03": "127.0.0.33",
		"api-01": "127.0.0.41", "api-02": "127.0.0.42", "static-01": "127.0.0.51", "static-02": "127.0.0.52"} {
		srv[name] = startRefServer(t, name, ip)
	}
	plainAddr, tlsAddr := freeAddr(t), freeAddr(t)
	cfg := `global
    tune.ssl.default-dh-param 2048

defaults
    mode http
    option httplog
    option dontlognull
    option forwardfor
    option http-server-close
    timeout connect 5s
    timeout client  60s
    timeout server  60s
    timeout http-request 15s
    timeout http-keep-alive 5s

frontend https_frontend
    bind ` + plainAddr + `
    bind ` + tlsAddr + ` ssl crt ` + f.www + ` alpn h2,http/1.1
    http-request redirect scheme https unless { ssl_fc }

    acl is_api    path_beg /api/
    acl is_static path_beg /static/ /assets/
    use_backend api_backend    if is_api
    use_backend static_backend if is_static
    default_backend app_backend

backend app_backend
    balance roundrobin
    option httpchk
    http-check send meth GET uri /health ver HTTP/1.1 hdr Host sw-infrarunbook-01
    http-check expect status 200
    cookie SRVID insert indirect nocache
    server app-01 ` + srv["app-01"].addr + ` check inter 5s rise 2 fall 3 cookie app01
    server app-02 ` + srv["app-02"].addr + ` check inter 5s rise 2 fall 3 cookie app02
    server app-03 ` + srv["app-03"].addr + ` check inter 5s rise 2 fall 3 cookie app03

backend api_backend
    balance leastconn
    option httpchk
    http-check send meth GET uri /api/health ver HTTP/1.1 hdr Host sw-infrarunbook-01
    http-check expect status 200
    http-request set-header X-Backend-Pool api
    server api-01 ` + srv["api-01"].addr + ` check inter 5s rise 2 fall 3
    server api-02 ` + srv["api-02"].addr + ` check inter 5s rise 2 fall 3

backend static_backend
    balance roundrobin
    option httpchk
    http-check send meth GET uri /health ver HTTP/1.1 hdr Host sw-infrarunbook-01
    http-check expect status 200
    server static-01 ` + srv["static-01"].addr + ` check inter 10s rise 2 fall 3
    server static-02 ` + srv["static-02"].addr + ` check inter 10s rise 2 fall 3
`
	startCfg(t, cfg)
	// Clear text is sent to https.
	if out := rawHTTP(t, plainAddr, "GET /page?x=1 HTTP/1.1\r\nHost: www.solvethenetwork.com\r\nConnection: close\r\n\r\n"); !strings.HasPrefix(out, "HTTP/1.1 302 Found\r\n") ||
		!strings.Contains(out, "\r\nlocation: https://www.solvethenetwork.com/page?x=1\r\n") {
		t.Errorf("clear text request: %q, want a 302 to https://www.solvethenetwork.com/page?x=1", out)
	}
	tr := &http.Transport{TLSClientConfig: f.client("www.example.test"), ForceAttemptHTTP2: false}
	defer tr.CloseIdleConnections()
	get := func(c *http.Client, path string) (string, *http.Response) {
		t.Helper()
		resp, err := c.Get("https://" + tlsAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b), resp
	}
	plain := &http.Client{Timeout: 5 * time.Second, Transport: tr}
	// Path routing.
	for path, pool := range map[string]string{"/api/users": "api-", "/static/a.css": "static-", "/assets/x.png": "static-", "/": "app-"} {
		if body, _ := get(plain, path); !strings.HasPrefix(body, pool) {
			t.Errorf("%s went to %q, want the %s pool", path, body, pool)
		}
	}
	if r := lastOf(srv, "api-01", "api-02"); r == nil || r.Header.Get("X-Backend-Pool") != "api" || r.Header.Get("X-Forwarded-For") != "127.0.0.1" {
		t.Errorf("api request headers: %v", r)
	}
	// Cookie persistence: the first response inserts SRVID, later requests
	// stick to that server and never show it the cookie.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 5 * time.Second, Transport: tr}
	first, resp := get(browser, "/page")
	sc := resp.Header.Get("Set-Cookie")
	want := "SRVID=" + strings.ReplaceAll(first, "-", "") + "; path=/"
	// nocache marks private only what a shared cache could keep (this
	// response has no freshness information), as HAProxy does.
	if sc != want || resp.Header.Get("Cache-Control") != "" {
		t.Fatalf("first response: Set-Cookie %q (want %q), Cache-Control %q (want none)", sc, want, resp.Header.Get("Cache-Control"))
	}
	for i := 0; i < 5; i++ {
		body, resp := get(browser, fmt.Sprintf("/page/%d", i))
		if body != first {
			t.Errorf("request %d went to %s, not %s", i, body, first)
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("request %d: cookie set again: %q", i, resp.Header.Get("Set-Cookie"))
		}
		if r := srv[first].last(); r == nil || r.Header.Get("Cookie") != "" {
			t.Errorf("server %s saw the persistence cookie: %v", first, r.Header)
		}
	}
	// Another client without the cookie is balanced, and gets its own;
	// this response could be cached, so nocache makes it private.
	other, resp := get(plain, "/page/cacheable")
	if other == first || !strings.HasPrefix(resp.Header.Get("Set-Cookie"), "SRVID=") {
		t.Errorf("a new client: server %s (first was %s), Set-Cookie %q", other, first, resp.Header.Get("Set-Cookie"))
	}
	if cc := strings.Join(resp.Header.Values("Cache-Control"), ", "); cc != "max-age=60, private" {
		t.Errorf("a cacheable response with a cookie inserted: Cache-Control %q, want \"max-age=60, private\"", cc)
	}
}

func lastOf(srv map[string]*refServer, names ...string) *http.Request {
	for _, n := range names {
		if r := srv[n].last(); r != nil {
			return r
		}
	}
	return nil
}
