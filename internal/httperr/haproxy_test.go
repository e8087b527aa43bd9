package httperr

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// haproxyBin returns the reference binary or skips (fails under CI).
func haproxyBin(t *testing.T) string {
	t.Helper()
	p := testkit.HAProxyPath()
	if p == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("haproxy not found and CI is set")
		}
		t.Skip("haproxy not found")
	}
	return p
}

// startHAProxy runs haproxy -db on cfg (with %ADDR% replaced by a free
// loopback address) and returns that address once it accepts.
func startHAProxy(t *testing.T, cfg string) string {
	t.Helper()
	bin := haproxyBin(t)
	addr := testkit.FreeAddr(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "h.cfg")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(cfg, "%ADDR%", addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-db", "-f", path)
	var out testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not listen on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exchange sends req and reads one response: the head, then Content-Length
// bytes or everything until the peer closes. closed reports whether the
// peer closed right after the response.
func exchange(t *testing.T, addr, req string) (resp []byte, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var head []byte
	cl := -1
	for {
		line, err := br.ReadBytes('\n')
		head = append(head, line...)
		if err != nil {
			return head, true
		}
		if string(line) == "\r\n" {
			break
		}
		if n, v, ok := strings.Cut(strings.TrimSpace(string(line)), ":"); ok && strings.EqualFold(n, "content-length") {
			cl, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if cl < 0 {
		rest, _ := io.ReadAll(br)
		return append(head, rest...), true
	}
	body := make([]byte, cl)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatalf("body: %v (head %q)", err, head)
	}
	// Closed or kept open: a short read tells, HAProxy closes at once.
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err = br.ReadByte()
	ne, timeout := err.(net.Error)
	return append(head, body...), !(timeout && ne.Timeout())
}

const hxDefaults = `
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
`

// TestDefaultsMatchHAProxy compares every built-in page, as a stream sends
// it, with haproxy's bytes, for keep-alive, HTTP/1.0 and close requests.
func TestDefaultsMatchHAProxy(t *testing.T) {
	var cfg strings.Builder
	cfg.WriteString(hxDefaults + "frontend fe\n    bind %ADDR%\n")
	for _, c := range Codes {
		fmt.Fprintf(&cfg, "    http-request deny deny_status %d if { path /%d }\n", c, c)
	}
	addr := startHAProxy(t, cfg.String())
	reqs := []struct {
		name, req string
		cs        ConnState
	}{
		{"keep-alive", "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", ConnState{}},
		{"http10", "GET /%d HTTP/1.0\r\n\r\n", ConnState{ReqHTTP10: true, ClientClose: true}},
		{"http10-ka", "GET /%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", ConnState{ReqHTTP10: true}},
		{"close", "GET /%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", ConnState{ClientClose: true}},
		{"head", "HEAD /%d HTTP/1.1\r\nHost: x\r\n\r\n", ConnState{Head: true}},
	}
	for _, code := range Codes {
		for _, r := range reqs {
			if r.name == "head" {
				continue // HEAD: haproxy keeps Content-Length and sends no body; checked below
			}
			got, closed := exchange(t, addr, fmt.Sprintf(r.req, code))
			want, wantClose := Default(code).AppendWire(nil, r.cs)
			if !bytes.Equal(got, want) || closed != wantClose {
				t.Errorf("%d %s:\nhaproxy %q closed=%v\nsluice  %q closed=%v", code, r.name, got, closed, want, wantClose)
			}
		}
	}
	// HEAD: the head only.
	c, _ := net.Dial("tcp", addr)
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, "HEAD /503 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	got, _ := io.ReadAll(c)
	want, _ := Default(503).AppendWire(nil, ConnState{Head: true, ClientClose: true})
	if !bytes.Equal(got, want) {
		t.Errorf("HEAD:\nhaproxy %q\nsluice  %q", got, want)
	}
}

// TestBuiltinMatchesHAProxy checks the H1 multiplexer's raw 400.
func TestBuiltinMatchesHAProxy(t *testing.T) {
	addr := startHAProxy(t, hxDefaults+"frontend fe\n    bind %ADDR%\n    http-request deny\n")
	got, closed := exchange(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
	if !bytes.Equal(got, Builtin(400)) || !closed {
		t.Errorf("400:\nhaproxy %q\nsluice  %q", got, Builtin(400))
	}
}

// customFiles writes errorfiles exercising framing and connection rules.
func customFiles(t *testing.T) map[string]string {
	dir := t.TempDir()
	files := map[string]string{
		"debian503": "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n",
		"cl":        "HTTP/1.1 502 Custom Down\r\nContent-Length: 5\r\nX-Custom:   spaced  value  \r\nConnection: close\r\nContent-Type: text/plain\r\n\r\ndown\n",
		"nocl":      "HTTP/1.1 404 Nope\r\nCONTENT-TYPE: text/plain\r\nConnection: keep-alive, X-Foo\r\n\r\nno length body\n",
		"empty":     "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
		"ka10":      "HTTP/1.0 401 Who\r\nContent-Length: 3\r\nConnection: keep-alive\r\nX-A: 1,\r\n  folded\r\n\r\nwho",
		"lf":        "\r\nHTTP/1.2 405 Bare LF\nContent-Length: 2, 2\nx-dup: a\n\nok",
		"body":      "<p>from file</p>\n",
	}
	out := map[string]string{}
	for n, c := range files {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		out[n] = p
	}
	return out
}

// TestCustomPagesMatchHAProxy compares errorfile, errorloc and http-error
// pages with haproxy's bytes.
func TestCustomPagesMatchHAProxy(t *testing.T) {
	f := customFiles(t)
	directives := []string{
		"errorfile 503 " + f["debian503"],
		"errorfile 502 " + f["cl"],
		"errorfile 404 " + f["nocl"],
		"errorfile 403 " + f["empty"],
		"errorfile 401 " + f["ka10"],
		"errorfile 405 " + f["lf"],
		"errorloc 500 http://example.com/err?x=1",
		"errorloc303 504 /oops",
		`http-error status 429 content-type text/plain string "slow down\n" hdr X-Foo "  a   b  " hdr Empty ""x hdr content-length 12`,
		"http-error status 410",
		"http-error status 413 content-type text/html file " + f["body"] + " hdr Connection close",
		"http-error status 421 errorfile " + f["cl"],
		"http-error status 422 default-errorfiles",
		"http-error status 425 errorfiles he",
		"errorfiles he 407",
	}
	var cfg strings.Builder
	cfg.WriteString(hxDefaults + "http-errors he\n    errorfile 425 " + f["cl"] + "\n    errorfile 407 " + f["empty"] + "\n")
	cfg.WriteString("frontend fe\n    bind %ADDR%\n")
	for _, d := range directives {
		cfg.WriteString("    " + d + "\n")
	}
	codes := []int{503, 502, 404, 403, 401, 405, 500, 504, 429, 410, 413, 421, 422, 425, 407}
	for _, c := range codes {
		fmt.Fprintf(&cfg, "    http-request deny deny_status %d if { path /%d }\n", c, c)
	}
	addr := startHAProxy(t, cfg.String())

	l := &Loader{}
	sections := map[string]*Section{"he": {Name: "he", Pages: map[int]*Page{}}}
	for code, name := range map[int]string{425: "cl", 407: "empty"} {
		p, err := l.Errorfile(code, f[name])
		if err != nil {
			t.Fatal(err)
		}
		sections["he"].Pages[code] = p
	}
	var decls []Decl
	for _, d := range directives {
		w := strings.Fields(d)
		var decl Decl
		switch w[0] {
		case "errorfile":
			p, err := l.Errorfile(atol(w[1]), w[2])
			if err != nil {
				t.Fatal(err)
			}
			decl = Decl{Code: atol(w[1]), Page: p}
		case "errorloc", "errorloc303":
			loc := 302
			if w[0] == "errorloc303" {
				loc = 303
			}
			p, err := l.Errorloc(loc, atol(w[1]), w[2])
			if err != nil {
				t.Fatal(err)
			}
			decl = Decl{Code: atol(w[1]), Page: p}
		case "errorfiles":
			decl, _ = ErrorfilesDecl("x", 1, w[1], []int{atol(w[2])})
		case "http-error":
			args := w[1:]
			if strings.Contains(d, "slow down") {
				args = []string{"status", "429", "content-type", "text/plain", "string", "slow down\n", "hdr", "X-Foo", "  a   b  ", "hdr", "Empty", "x", "hdr", "content-length", "12"}
			}
			r, err := l.HTTPError(args)
			if err != nil {
				t.Fatal(err)
			}
			decl = ReplyDecl("x", 1, r)
		}
		decls = append(decls, decl)
	}
	set, alerts, _ := Build("fe", decls, sections)
	if len(alerts) > 0 {
		t.Fatal(alerts)
	}
	reqs := []struct {
		name, req string
		cs        ConnState
	}{
		{"keep-alive", "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", ConnState{}},
		{"http10", "GET /%d HTTP/1.0\r\n\r\n", ConnState{ReqHTTP10: true, ClientClose: true}},
		{"http10-ka", "GET /%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", ConnState{ReqHTTP10: true}},
		{"pending-body", "POST /%d HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab", ConnState{ReqPending: true}},
	}
	for _, code := range codes {
		for _, r := range reqs {
			got, closed := exchange(t, addr, fmt.Sprintf(r.req, code))
			want, wantClose := Lookup(set, set, code).AppendWire(nil, r.cs)
			if !bytes.Equal(got, want) || closed != wantClose {
				t.Errorf("%d %s:\nhaproxy %q closed=%v\nsluice  %q closed=%v", code, r.name, got, closed, want, wantClose)
			}
		}
	}
}
