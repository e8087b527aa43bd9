package peertest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// curl sends requests by path and by Host; each reaches the nginx server
// its rule names, and the Host rule, listed first, wins over the path.
func TestCurlRoutesByPathAndHost(t *testing.T) {
	s := startSite(t, 1)
	s.writeStatic(t, "static/hello.txt", "hello from the static server\n")
	addr := freeAddr(t)
	startProxy(t, httpDefaults+fmt.Sprintf(`
frontend fe
    bind %s
    acl is_static path_beg /static/
    acl host_api hdr_dom(host) -i api.example
    use_backend api if host_api
    use_backend static if is_static
    default_backend app
backend app
    server app1 %s
backend api
    server api %s
backend static
    server static %s
`, addr, s.apps[0], s.api, s.static), addr)
	port := portOf(addr)
	resolve := func(host string) string { return fmt.Sprintf("%s:%s:127.0.0.1", host, port) }
	for _, c := range []struct {
		name, host, path, server string
	}{
		{"path to static", "", "/static/hello.txt", "static"},
		{"default to app", "", "/index", "app1"},
		{"host to api", "api.example", "/v1/users?id=7", "api"},
		{"host beats path", "api.example", "/static/hello.txt", "api"},
		{"subdomain of the host", "eu.api.example", "/v1", "api"},
		{"a different host with the same ending", "notapi.example", "/v1", "app1"},
		{"a different host, static path", "www.example", "/static/hello.txt", "static"},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := "http://" + addr + c.path
			args := []string{"--dump-header", "/dev/stderr"}
			if c.host != "" {
				url = "http://" + c.host + ":" + port + c.path
				args = append(args, "--resolve", resolve(c.host))
			}
			r := mustCurl(t, append(args, url)...)
			if !regexp.MustCompile(`(?im)^x-server: ` + c.server + `\r?$`).MatchString(r.stderr) {
				t.Fatalf("%s: want server %s, got headers:\n%s\nbody %q", url, c.server, r.stderr, r.stdout)
			}
			if c.server == "static" {
				if r.stdout != "hello from the static server\n" {
					t.Errorf("static file: %q", r.stdout)
				}
				return
			}
			e := parseEcho(t, r.stdout)
			wantHost := addr
			if c.host != "" {
				wantHost = c.host + ":" + port
			}
			if e["uri"] != c.path || e["host"] != wantHost || e["method"] != "GET" {
				t.Errorf("%s: the server saw %v", url, e)
			}
		})
	}
}

// A curl session with a cookie jar sticks to the server that
// `cookie SRVID insert indirect nocache` named in its first response; the
// server never sees SRVID, but does see its own cookie; a client without
// the jar is balanced elsewhere and gets a cookie of its own.
func TestCurlCookiePersistence(t *testing.T) {
	s := startSite(t, 3)
	addr := freeAddr(t)
	startProxy(t, httpDefaults+fmt.Sprintf(`
frontend fe
    bind %s
    default_backend app
backend app
    balance roundrobin
    cookie SRVID insert indirect nocache
    server app1 %s cookie a1
    server app2 %s cookie a2
    server app3 %s cookie a3
`, addr, s.apps[0], s.apps[1], s.apps[2]), addr)
	jar := filepath.Join(t.TempDir(), "cookies.txt")
	url := "http://" + addr + "/cart"
	// -D - puts the response head before the body on stdout.
	first := mustCurl(t, "-c", jar, "-b", jar, "-D", "-", url)
	head, body, _ := strings.Cut(first.stdout, "\r\n\r\n")
	e := parseEcho(t, body)
	srv := e["server"]
	wantCookie := "SRVID=a" + strings.TrimPrefix(srv, "app") + "; path=/"
	if !regexp.MustCompile(`(?im)^set-cookie: ` + regexp.QuoteMeta(wantCookie) + `\r?$`).MatchString(head) {
		t.Fatalf("first response from %s: want Set-Cookie %q, head:\n%s", srv, wantCookie, head)
	}
	jarText, _ := os.ReadFile(jar)
	if !strings.Contains(string(jarText), "SRVID\ta"+strings.TrimPrefix(srv, "app")) {
		t.Fatalf("curl's jar did not keep SRVID:\n%s", jarText)
	}
	for i := range 6 {
		r := mustCurl(t, "-c", jar, "-b", jar, "-D", "-", fmt.Sprintf("%s/%d", url, i))
		head, body, _ := strings.Cut(r.stdout, "\r\n\r\n")
		e := parseEcho(t, body)
		if e["server"] != srv {
			t.Fatalf("request %d of the session went to %s, not %s", i, e["server"], srv)
		}
		// indirect: SRVID is taken out of the request; the server's own
		// cookie stays.
		if want := "app=" + srv + "-session"; e["cookie"] != want {
			t.Errorf("request %d: the server saw cookie [%s], want [%s]", i, e["cookie"], want)
		}
		if regexp.MustCompile(`(?im)^set-cookie: SRVID`).MatchString(head) {
			t.Errorf("request %d: SRVID set again though the client sent it:\n%s", i, head)
		}
	}
	// A client without the jar is balanced to the next server.
	other := mustCurl(t, "-D", "-", url)
	head, body, _ = strings.Cut(other.stdout, "\r\n\r\n")
	if e := parseEcho(t, body); e["server"] == srv || !strings.Contains(strings.ToLower(head), "set-cookie: srvid=a") {
		t.Errorf("a client without the cookie went to %s (the session's is %s), head:\n%s", e["server"], srv, head)
	}
}

// curl -L follows the redirects of `http-request redirect`: a location
// chain, a prefix, a 303 that turns a POST into a GET and a 307 that keeps
// it, landing on the nginx server each time.
func TestCurlFollowsRedirects(t *testing.T) {
	s := startSite(t, 1)
	addr := freeAddr(t)
	startProxy(t, httpDefaults+fmt.Sprintf(`
frontend fe
    bind %s
    http-request redirect location /step2 code 301 if { path /step1 }
    http-request redirect location /final code 302 if { path /step2 }
    http-request redirect prefix /v2 if { path_beg /v1/ }
    http-request redirect location /thanks code 303 if { path /form }
    http-request redirect location /submit2 code 307 if { path /submit }
    default_backend app
backend app
    server app1 %s
`, addr, s.apps[0]), addr)
	base := "http://" + addr
	const w = "\n%{num_redirects} %{http_code} %{url_effective}"
	for _, c := range []struct {
		name      string
		args      []string
		redirects int
		method    string
		uri       string
	}{
		{"301 then 302", []string{base + "/step1"}, 2, "GET", "/final"},
		{"prefix keeps the path and query", []string{base + "/v1/items?page=2"}, 1, "GET", "/v2/v1/items?page=2"},
		{"303 turns a POST into a GET", []string{"--data", "a=1", base + "/form"}, 1, "GET", "/thanks"},
		{"307 keeps the POST", []string{"--data", "a=1", base + "/submit"}, 1, "POST", "/submit2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mustCurl(t, append([]string{"-L", "-w", w}, c.args...)...)
			body, trailer, _ := strings.Cut(r.stdout, "\n\n")
			e := parseEcho(t, body)
			want := fmt.Sprintf("%d 200 %s%s", c.redirects, base, c.uri)
			if trailer != want || e["method"] != c.method || e["uri"] != c.uri {
				t.Errorf("curl -L: %q (want %q), the server saw %s %s", trailer, want, e["method"], e["uri"])
			}
		})
	}
	// Without -L the redirect itself is what the client gets.
	r := mustCurl(t, "-D", "-", "-o", "/dev/null", base+"/step1")
	if !regexp.MustCompile(`^HTTP/1.1 301 Moved Permanently\r\n`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?im)^location: /step2\r?$`).MatchString(r.stdout) {
		t.Errorf("the 301 itself:\n%s", r.stdout)
	}
}

// nocache marks a response that inserts the persistence cookie
// `Cache-Control: private` only when a cache could have stored it: a GET
// of a file nginx serves with Last-Modified and ETag. HAProxy 2.6 leaves
// responses without a validator or an expiry alone (they are not
// cacheable to begin with), and responses to other methods too.
func TestCurlCookieNocache(t *testing.T) {
	s := startSite(t, 1)
	s.writeStatic(t, "static/page.html", "<p>cacheable</p>\n")
	addr := freeAddr(t)
	startProxy(t, httpDefaults+fmt.Sprintf(`
frontend fe
    bind %s
    use_backend static if { path_beg /static/ }
    default_backend app
backend app
    cookie SRVID insert indirect nocache
    server app1 %s cookie a1
backend static
    cookie SRVID insert indirect nocache
    server static %s cookie st
`, addr, s.apps[0], s.static), addr)
	private := regexp.MustCompile(`(?im)^cache-control: private\r?$`)
	for _, c := range []struct {
		name    string
		args    []string
		private bool
	}{
		{"GET of a file with validators", []string{"http://" + addr + "/static/page.html"}, true},
		{"PUT of a file", []string{"-T", "/dev/null", "http://" + addr + "/static/empty.bin"}, false},
		{"GET of a reply without validators", []string{"http://" + addr + "/echo"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mustCurl(t, append([]string{"-D", "-", "-o", "/dev/null"}, c.args...)...)
			if !strings.Contains(strings.ToLower(r.stdout), "set-cookie: srvid=") {
				t.Fatalf("no SRVID inserted:\n%s", r.stdout)
			}
			if got := private.MatchString(r.stdout); got != c.private {
				t.Errorf("Cache-Control: private added: %v, want %v:\n%s", got, c.private, r.stdout)
			}
		})
	}
}

// curl shows, in its verbose trace, what Sluice does with connections: an
// HTTP/1.0 client without keep-alive gets `connection: close` and a new
// connection for each request; one that asks for keep-alive, and any
// HTTP/1.1 client, keeps its connection. The nginx server's connection
// counters show the server side: reused under the default keep-alive
// mode, new for each request under `option http-server-close`.
func TestCurlHTTP10AndKeepAlive(t *testing.T) {
	s := startSite(t, 2)
	ka, sc := freeAddr(t), freeAddr(t)
	startProxy(t, httpDefaults+fmt.Sprintf(`
frontend keepalive
    bind %s
    default_backend app1
frontend serverclose
    bind %s
    option http-server-close
    default_backend app2
backend app1
    server app1 %s
backend app2
    server app2 %s
`, ka, sc, s.apps[0], s.apps[1]), sc)
	type run struct {
		connects, reuses int
		bodies           []echoLine
		trace            string
	}
	session := func(t *testing.T, addr string, args ...string) run {
		t.Helper()
		urls := []string{"http://" + addr + "/a", "http://" + addr + "/b", "http://" + addr + "/c"}
		r := mustCurl(t, append(append([]string{"-v"}, args...), urls...)...)
		var out run
		out.trace = r.stderr
		out.connects = len(regexp.MustCompile(`(?m)^\* Connected to `).FindAllString(r.stderr, -1))
		out.reuses = len(regexp.MustCompile(`(?m)^\* Re-using existing connection`).FindAllString(r.stderr, -1))
		for _, line := range strings.SplitAfter(strings.TrimSpace(r.stdout), "\n") {
			out.bodies = append(out.bodies, parseEcho(t, line))
		}
		if len(out.bodies) != len(urls) {
			t.Fatalf("%d answers to %d requests: %q", len(out.bodies), len(urls), r.stdout)
		}
		return out
	}
	statusAndConn := regexp.MustCompile(`(?m)^< HTTP/1\.1 200 OK\r?\n(?:< [^\r\n]*\r?\n)*?< connection: (close|keep-alive)\r?$`)
	t.Run("HTTP/1.0 closes", func(t *testing.T) {
		r := session(t, ka, "--http1.0")
		if r.connects != 3 || r.reuses != 0 {
			t.Errorf("curl connected %d times and reused %d times, want 3 and 0:\n%s", r.connects, r.reuses, r.trace)
		}
		m := statusAndConn.FindAllStringSubmatch(r.trace, -1)
		if len(m) != 3 || m[0][1] != "close" {
			t.Errorf("each answer to HTTP/1.0 must be HTTP/1.1 200 with connection: close:\n%s", r.trace)
		}
		for _, e := range r.bodies {
			if e["proto"] != "HTTP/1.0" {
				t.Errorf("the server saw %s, want the client's HTTP/1.0", e["proto"])
			}
		}
	})
	t.Run("HTTP/1.0 with keep-alive", func(t *testing.T) {
		r := session(t, ka, "--http1.0", "-H", "Connection: keep-alive")
		if r.connects != 1 || r.reuses != 2 {
			t.Errorf("curl connected %d times and reused %d times, want 1 and 2:\n%s", r.connects, r.reuses, r.trace)
		}
		m := statusAndConn.FindAllStringSubmatch(r.trace, -1)
		if len(m) != 3 || m[0][1] != "keep-alive" || m[2][1] != "keep-alive" {
			t.Errorf("each answer must say connection: keep-alive to an HTTP/1.0 client that asked for it:\n%s", r.trace)
		}
	})
	t.Run("HTTP/1.1 keep-alive on both sides", func(t *testing.T) {
		r := session(t, ka)
		if r.connects != 1 || r.reuses != 2 {
			t.Errorf("curl connected %d times and reused %d times, want 1 and 2:\n%s", r.connects, r.reuses, r.trace)
		}
		// Some request after the first rides a server connection that
		// already carried one (which one is the pool's choice).
		reused := false
		for _, e := range r.bodies[1:] {
			reused = reused || e["req"] != "1"
		}
		if !reused {
			t.Errorf("every request opened a new server connection: %v", r.bodies)
		}
	})
	t.Run("http-server-close", func(t *testing.T) {
		r := session(t, sc)
		if r.connects != 1 || r.reuses != 2 {
			t.Errorf("the client side must stay open: curl connected %d times, reused %d times:\n%s", r.connects, r.reuses, r.trace)
		}
		seen := map[string]bool{}
		for _, e := range r.bodies {
			if e["req"] != "1" || seen[e["conn"]] {
				t.Errorf("a server connection carried a second request under http-server-close: %v", r.bodies)
			}
			seen[e["conn"]] = true
		}
	})
}

// Large bodies cross Sluice intact both ways: curl uploads a file to
// nginx (WebDAV PUT), with a Content-Length and chunked, and downloads it
// again; SHA-256 sums compare what nginx stored and what curl received
// with what was sent.
func TestCurlLargeUploadAndDownload(t *testing.T) {
	s := startSite(t, 1)
	addr := proxyTo(t, s.static)
	const size = 24<<20 + 12345 // not a multiple of any buffer size
	dir := t.TempDir()
	src := filepath.Join(dir, "src.bin")
	sum := writeRandomFile(t, src, size, "peertest")
	base := "http://" + addr + "/files/"
	for _, c := range []struct {
		name string
		args []string
	}{
		{"content-length", []string{"-T", src, base + "cl.bin"}},
		{"chunked", []string{"-T", "-", base + "chunked.bin"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// No Expect: 100-continue here (TestCurlExpect100Continue
			// has its own test): the body goes at once.
			args := append([]string{"-v", "-H", "Expect:", "-w", "%{http_code} %{size_upload}"}, c.args...)
			var r curlResult
			if c.name == "chunked" {
				r = curlStdin(t, src, args...)
			} else {
				r = mustCurl(t, args...)
			}
			// curl counts the chunks' framing in what it uploaded.
			want := fmt.Sprintf("201 %d", size)
			if c.name == "chunked" {
				want = "201 "
			}
			if !strings.HasPrefix(r.stdout, want) {
				t.Fatalf("upload: %q, want %q\n%s", r.stdout, want, r.stderr)
			}
			if c.name == "chunked" && !strings.Contains(r.stderr, "> Transfer-Encoding: chunked") {
				t.Errorf("curl did not send chunked:\n%s", r.stderr)
			}
			stored := filepath.Join(s.www, "files", filepath.Base(c.args[len(c.args)-1]))
			if got := fileSHA256(t, stored); got != sum {
				t.Fatalf("nginx stored a file with SHA-256 %s, sent %s", got, sum)
			}
			out := filepath.Join(dir, "down-"+c.name)
			d := mustCurl(t, "-o", out, "-w", "%{http_code} %{size_download}", base+filepath.Base(stored))
			if want := fmt.Sprintf("200 %d", size); d.stdout != want {
				t.Fatalf("download: %q, want %q", d.stdout, want)
			}
			if got := fileSHA256(t, out); got != sum {
				t.Fatalf("downloaded SHA-256 %s, sent %s", got, sum)
			}
		})
	}
}

// A client that sends Expect: 100-continue gets the server's 100 Continue
// while it holds its body back, as through HAProxy: curl sends the body
// on the 100, not after giving up waiting for it (1s).
func TestCurlExpect100Continue(t *testing.T) {
	s := startSite(t, 1)
	addr := proxyTo(t, s.static)
	src := filepath.Join(t.TempDir(), "src.bin")
	sum := writeRandomFile(t, src, 2<<20, "expect")
	r := mustCurl(t, "-v", "-H", "Expect: 100-continue", "-T", src, "-w", "%{http_code}", "http://"+addr+"/files/e.bin")
	if !strings.Contains(r.stderr, "> Expect: 100-continue") || !strings.Contains(r.stderr, "< HTTP/1.1 100 Continue") {
		t.Fatalf("no 100-continue exchange:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "Done waiting for 100-continue") {
		t.Errorf("curl gave up waiting for the 100 Continue and sent its body without it:\n%s", r.stderr)
	}
	if r.stdout != "201" {
		t.Errorf("upload answered %q", r.stdout)
	}
	if got := fileSHA256(t, filepath.Join(s.www, "files", "e.bin")); got != sum {
		t.Errorf("nginx stored SHA-256 %s, sent %s", got, sum)
	}
}

// A server that refuses an upload without reading it (nginx's 413 for a
// body over client_max_body_size) has its answer reach curl, which is
// still sending 8 MiB.
func TestCurlUploadRefusedEarly(t *testing.T) {
	up := freeAddr(t)
	startNginx(t, fmt.Sprintf(`    server {
        listen %s;
        client_max_body_size 1k;
        location / { return 200 "accepted\n"; }
    }
`, up), up)
	addr := proxyTo(t, up)
	src := filepath.Join(t.TempDir(), "big.bin")
	writeRandomFile(t, src, 8<<20, "early")
	r := mustCurl(t, "-H", "Expect:", "-T", src, "-o", "/dev/null", "-w", "%{http_code}", "http://"+addr+"/up")
	if r.stdout != "413" {
		t.Errorf("the upload got %q, want nginx's 413", r.stdout)
	}
}
