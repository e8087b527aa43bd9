package peertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// site is a set of real nginx servers in one nginx process: app servers
// that name themselves and echo what they saw of the request, an "api"
// server of the same kind, and a "static" server that serves files from
// its root and stores PUT uploads there (nginx's WebDAV module).
type site struct {
	ng     *nginx
	apps   []string // app server addresses: app1, app2, ...
	api    string
	static string
	www    string // the static server's root directory
}

// echoLocation answers every request with one line naming the server and
// what it saw: method, URI, protocol, Host, the Cookie header, and the
// server connection's serial number and request count on it (which show
// whether the proxy reused its connection to this server).
func echoLocation(name string) string {
	return fmt.Sprintf(`        location / {
            default_type text/plain;
            add_header X-Server %[1]s always;
            add_header Set-Cookie "app=%[1]s-session; Path=/" always;
            return 200 "server=%[1]s method=$request_method uri=$request_uri proto=$server_protocol host=$http_host cookie=[$http_cookie] conn=$connection req=$connection_requests\n";
        }
`, name)
}

// startSite runs nginx with apps app servers, the api server and the
// static server.
func startSite(t *testing.T, apps int) *site {
	t.Helper()
	s := &site{api: freeAddr(t), static: freeAddr(t)}
	var servers strings.Builder
	for i := range apps {
		a := freeAddr(t)
		s.apps = append(s.apps, a)
		fmt.Fprintf(&servers, "    server {\n        listen %s;\n%s    }\n", a, echoLocation(fmt.Sprintf("app%d", i+1)))
	}
	fmt.Fprintf(&servers, "    server {\n        listen %s;\n%s    }\n", s.api, echoLocation("api"))
	fmt.Fprintf(&servers, `    server {
        listen %s;
        root {{DIR}}/www;
        client_max_body_size 0;
        location / {
            add_header X-Server static always;
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }
    }
`, s.static)
	listens := append([]string{s.api, s.static}, s.apps...)
	// nginx does not need its root at start; it is made once the prefix is.
	s.ng = startNginx(t, servers.String(), listens...)
	s.www = filepath.Join(s.ng.dir, "www")
	if err := os.MkdirAll(filepath.Join(s.www, "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	return s
}

// writeStatic writes a file under the static server's root.
func (s *site) writeStatic(t *testing.T, rel, content string) {
	t.Helper()
	p := filepath.Join(s.www, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// echoLine is one parsed answer of an echo server.
type echoLine map[string]string

// parseEcho splits an echo server's line into its key=value fields.
func parseEcho(t *testing.T, body string) echoLine {
	t.Helper()
	m := echoLine{}
	line := strings.TrimSpace(body)
	if !strings.HasPrefix(line, "server=") {
		t.Fatalf("not an echo server's answer: %q", body)
	}
	// cookie=[...] may hold spaces: take it out first.
	if i := strings.Index(line, " cookie=["); i >= 0 {
		j := strings.Index(line[i:], "] ")
		if j < 0 {
			t.Fatalf("unterminated cookie in %q", body)
		}
		m["cookie"] = line[i+len(" cookie=[") : i+j]
		line = line[:i] + line[i+j+1:]
	}
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		m[k] = v
	}
	return m
}
