package peertest

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromium finds Debian's headless-capable Chromium.
func chromium(t *testing.T) string {
	t.Helper()
	return needProgram(t, "chromium", "chromium", "/usr/bin/chromium")
}

// chromiumArgs are the flags every run uses, with a fresh profile under
// prof, followed by more. The sandbox is off: it needs user namespaces or
// a setuid helper (and refuses root), which test machines need not have;
// it is not what these tests test. The rest keep Chromium from reaching
// for the network on its own.
func chromiumArgs(prof string, more ...string) []string {
	return append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(prof, "profile"),
	}, more...)
}

// dumpDOM loads url in headless Chromium and returns the DOM once the page
// is loaded and its scripts ran: under --virtual-time-budget the page's
// clock stands still while a request is pending, so its fetches run their
// course before the dump. (It does not wait for WebSocket messages: the
// WebSocket test drives Chromium over the DevTools protocol instead.)
func dumpDOM(t *testing.T, url string) string {
	t.Helper()
	bin := chromium(t)
	prof := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, chromiumArgs(prof, "--virtual-time-budget=20000", "--dump-dom", url)...)
	cmd.Env = append(os.Environ(), "HOME="+prof)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	// Chromium's helpers (zygote, renderer, GPU, network) share its
	// process group: end them all, on a timeout and after a normal exit.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("chromium --dump-dom %s: %v\nstdout: %s\nstderr: %s", url, err, out.String(), tail(errb.String(), 4000))
	}
	return out.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// browserResult is what testdata/browser_app.html writes into #result.
type browserResult struct {
	Href         string   `json:"href"`
	CookieAtLoad string   `json:"cookieAtLoad"`
	CookieAfter  string   `json:"cookieAfter"`
	API          []string `json:"api"`
	WS           struct {
		Messages []string `json:"messages"`
		Code     int      `json:"code"`
	} `json:"ws"`
	Error string `json:"error"`
}

// startBrowserSite runs the site the browser tests load through Sluice:
// nginx serves testdata/browser_app.html under /app/, three nginx echo
// servers behind `cookie SRVID insert indirect nocache` answer /api/, the
// Python echo server answers WebSockets under /ws/; / redirects to /app/
// and /live to /app/?ws=1. It returns Sluice's address.
func startBrowserSite(t *testing.T) string {
	t.Helper()
	chromium(t) // fail or skip before starting the servers
	ws := startWSEcho(t)
	s := startSite(t, 3)
	page, err := os.ReadFile("testdata/browser_app.html")
	if err != nil {
		t.Fatal(err)
	}
	s.writeStatic(t, "app/index.html", string(page))
	addr := freeAddr(t)
	startProxy(t, httpDefaults+fmt.Sprintf(`
frontend fe
    bind %s
    option forwardfor
    http-request redirect location /app/ code 302 if { path / }
    http-request redirect location /app/?ws=1 code 302 if { path /live }
    use_backend ws if { path_beg /ws/ } { hdr(upgrade) -i websocket }
    use_backend api if { path_beg /api/ }
    default_backend static
backend static
    server static %s
backend api
    balance roundrobin
    cookie SRVID insert indirect nocache
    server app1 %s cookie a1
    server app2 %s cookie a2
    server app3 %s cookie a3
backend ws
    server echo %s
`, addr, s.static, s.apps[0], s.apps[1], s.apps[2], ws), addr)
	return addr
}

// checkPage checks what the page saw: it ended at wantHref (the redirect's
// target), and its five fetches all reached one API server (wantServer,
// when set), which never saw SRVID, only its own app cookie. It returns
// that server's name.
func checkPage(t *testing.T, r browserResult, wantHref, wantServer string) string {
	t.Helper()
	if r.Error != "" {
		t.Fatalf("the page's script failed: %s\n%+v", r.Error, r)
	}
	if r.Href != wantHref {
		t.Errorf("the browser ended at %q, want %q (the redirect's target)", r.Href, wantHref)
	}
	if len(r.API) != 5 {
		t.Fatalf("fetch answers: %q", r.API)
	}
	srv := parseEcho(t, r.API[0])["server"]
	if wantServer != "" && srv != wantServer {
		t.Errorf("the first fetch went to %s, want %s (the cookie's server)", srv, wantServer)
	}
	for i, a := range r.API {
		e := parseEcho(t, a)
		if e["server"] != srv {
			t.Errorf("fetch %d went to %s, fetch 0 to %s: the cookie did not hold the session", i, e["server"], srv)
		}
		if strings.Contains(e["cookie"], "SRVID") {
			t.Errorf("fetch %d: the server saw the persistence cookie: [%s]", i, e["cookie"])
		}
	}
	wantCookie := "SRVID=a" + strings.TrimPrefix(srv, "app")
	if !strings.Contains(r.CookieAfter, wantCookie) {
		t.Errorf("document.cookie after the fetches: %q, want %s in it", r.CookieAfter, wantCookie)
	}
	return srv
}

// Headless Chromium, as `chromium --headless --dump-dom` runs it, loads
// the site through Sluice: it follows the redirect from / to the page
// nginx serves, and the page's five fetches carry the SRVID cookie that
// the first one got, so all reach one of three servers.
func TestChromiumDumpDOM(t *testing.T) {
	addr := startBrowserSite(t)
	dom := dumpDOM(t, "http://"+addr+"/")
	m := regexp.MustCompile(`(?s)<pre id="result">(.*?)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no #result in the DOM Chromium dumped:\n%s", dom)
	}
	var r browserResult
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &r); err != nil {
		t.Fatalf("#result is not the page's JSON (%v): %q", err, m[1])
	}
	checkPage(t, r, "http://"+addr+"/app/", "")
	if r.CookieAtLoad != "" {
		t.Errorf("a fresh profile had cookies at load: %q", r.CookieAtLoad)
	}
}

// Headless Chromium driven over the DevTools protocol: the page, reached
// through a redirect, runs its fetches and a WebSocket echo through
// Sluice's tunnel (the server's greeting shows the browser's upgrade
// request as Sluice forwarded it; both messages come back; the close is
// clean); loaded again in the same browser, it keeps the persistence
// cookie, so the next five fetches reach the same server.
func TestChromiumDevToolsWebSocketAndSession(t *testing.T) {
	addr := startBrowserSite(t)
	c := startCDP(t)
	var r browserResult
	session := c.openPage("http://" + addr + "/live")
	c.eval(session, "window.peertest", &r)
	srv := checkPage(t, r, "http://"+addr+"/app/?ws=1", "")
	if len(r.WS.Messages) != 3 || r.WS.Code != 1000 {
		t.Fatalf("websocket: %+v", r.WS)
	}
	var g map[string]string
	if err := json.Unmarshal([]byte(r.WS.Messages[0]), &g); err != nil {
		t.Fatalf("greeting %q: %v", r.WS.Messages[0], err)
	}
	if g["path"] != "/ws/browser" || g["x_forwarded_for"] != "127.0.0.1" || g["origin"] != "http://"+addr {
		t.Errorf("the echo server saw the browser's upgrade as %v", g)
	}
	if r.WS.Messages[1] != "from the browser" || r.WS.Messages[2] != "second message" {
		t.Errorf("websocket echoes: %q", r.WS.Messages[1:])
	}
	// The same browser, a second page load: the cookie is there from the
	// start, and every fetch goes back to the same server.
	session2 := c.openPage("http://" + addr + "/")
	var r2 browserResult
	c.eval(session2, "window.peertest", &r2)
	checkPage(t, r2, "http://"+addr+"/app/", srv)
	if !strings.Contains(r2.CookieAtLoad, "SRVID=") {
		t.Errorf("the second load started without the cookie: %q", r2.CookieAtLoad)
	}
	c.close()
}
