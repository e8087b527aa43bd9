package difftest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// cookieDateConfig inserts a persistence cookie with maxidle and maxlife,
// so that it carries its last-seen and first-seen dates, and logs the
// cookie flags of %tsc.
const cookieDateConfig = `global
 log stdout format raw local0 info
defaults
 mode http
 log global
 timeout connect 1s
 timeout client 2s
 timeout server 2s
frontend fe
 bind %BIND
 log-format "%tsc"
 default_backend be
backend be
 cookie SRVID insert indirect nocache maxidle 60s maxlife 600s
 server a %SRV cookie a
`

const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// s30 encodes a date as HAProxy's cookies carry it: seconds since the
// epoch in 4-second steps, 5 base64 characters.
func s30(unix int64) string {
	v := unix >> 2
	var b [5]byte
	for i := range b {
		b[i] = b64[(v>>24)&0x3f]
		v <<= 6
	}
	return string(b[:])
}

func uns30(s string) int64 {
	var v int64
	for _, c := range []byte(s) {
		v = v<<6 | int64(strings.IndexByte(b64, c))
	}
	return v << 2
}

// relDate shows a cookie date against the test's start: "now" for a
// date the proxy took from its clock (the proxies answer a few seconds
// apart at most), else the offset in 4-second steps.
func relDate(d, now int64) string {
	if d-now >= -8 && d-now <= 12 {
		return "now"
	}
	return fmt.Sprintf("now%+d", (d-now)/4)
}

type cookieProxy struct {
	addr string
	out  *testkit.SyncBuffer
}

func startCookieProxy(t *testing.T, name, bin, srv string) *cookieProxy {
	t.Helper()
	p := &cookieProxy{addr: freeAddr(t), out: &testkit.SyncBuffer{}}
	cfg := strings.NewReplacer("%BIND", p.addr, "%SRV", srv).Replace(cookieDateConfig)
	path := filepath.Join(t.TempDir(), name+".cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", p.addr)
		if err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never listened: %v\n%s", name, err, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setCookieRe splits SRVID=a|LAST|FIRST; path=/.
var setCookieRe = regexp.MustCompile(`^SRVID=a\|([A-Za-z0-9+/]{5})\|([A-Za-z0-9+/]{5}); path=/$`)

// TestCookieDatesDifferential sends requests carrying persistence cookies
// with chosen dates through haproxy and Sluice: both must log the same
// cookie flags (valid, expired by maxidle, too old for maxlife, updated,
// inserted), remove the cookie before the server the same way, and set
// cookies whose dates decode to the same moments (within one 4-second
// step, since the two answer a moment apart).
func TestCookieDatesDifferential(t *testing.T) {
	hap := haproxyPath()
	if hap == "" {
		t.Skip("haproxy not installed")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	seen := make(chan string, 16)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Cookie")
		// The query names response headers: ?Cache-Control=max-age%3D60
		for k, v := range r.URL.Query() {
			w.Header()[k] = v
		}
		io.WriteString(w, "ok")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	proxies := []*cookieProxy{startCookieProxy(t, "haproxy", hap, ln.Addr().String()), startCookieProxy(t, "sluice", sluiceBin, ln.Addr().String())}

	now := time.Now().Unix()
	type cookieCase struct{ name, cookie, path, method, reqHdr string }
	cases := []cookieCase{
		{name: "no cookie", cookie: ""},
		{name: "fresh dates", cookie: "SRVID=a|" + s30(now+8) + "|" + s30(now-100)},
		{name: "last seen 30s ago", cookie: "SRVID=a|" + s30(now-30) + "|" + s30(now-100)},
		{name: "idle past maxidle", cookie: "SRVID=a|" + s30(now-200) + "|" + s30(now-300)},
		{name: "older than maxlife", cookie: "SRVID=a|" + s30(now+8) + "|" + s30(now-1000)},
		{name: "date two days ahead", cookie: "SRVID=a|" + s30(now+2*86400) + "|" + s30(now-100)},
		{name: "no dates", cookie: "SRVID=a"},
		{name: "last date only", cookie: "SRVID=a|" + s30(now-30)},
		{name: "undecodable dates", cookie: "SRVID=a|!!!!!|" + s30(now-100)},
		{name: "unknown server, other cookie kept", cookie: "x=1; SRVID=b|" + s30(now+8) + "|" + s30(now-100)},
		// nocache marks an inserting response private only where a
		// shared cache could have kept it.
		{name: "cacheable: max-age", path: "/?Cache-Control=max-age%3D60"},
		{name: "cacheable: Last-Modified", path: "/?Last-Modified=Mon,%2001%20Jan%202024%2000:00:00%20GMT"},
		{name: "cacheable: Expires", path: "/?Expires=Mon,%2001%20Jan%202035%2000:00:00%20GMT"},
		{name: "cacheable: ETag, public", path: "/?Etag=%22x%22&Cache-Control=public"},
		{name: "not cacheable: private", path: "/?Cache-Control=private,%20max-age%3D60"},
		{name: "not cacheable: max-age=0", path: "/?Cache-Control=max-age%3D0"},
		{name: "not cacheable: Pragma", path: "/?Pragma=no-cache&Expires=0"},
		{name: "not cacheable: POST", method: "POST", path: "/?Cache-Control=max-age%3D60"},
		{name: "cacheable: POST, public", method: "POST", path: "/?Cache-Control=public,%20max-age%3D60"},
		{name: "cacheable despite Authorization", path: "/?Cache-Control=max-age%3D60", reqHdr: "Authorization: Basic eDp5"},
		{name: "cacheable despite no-store asked", path: "/?Cache-Control=max-age%3D60", reqHdr: "Cache-Control: no-store"},
		{name: "cacheable, cookie valid: nothing inserted", cookie: "SRVID=a|" + s30(now+8) + "|" + s30(now-100), path: "/?Cache-Control=max-age%3D60"},
	}
	for _, c := range cases {
		var got [2]string
		for i, p := range proxies {
			before := len(p.out.String())
			method, path := c.method, c.path
			if method == "" {
				method = "GET"
			}
			if path == "" {
				path = "/"
			}
			req, _ := http.NewRequest(method, "http://"+p.addr+path, nil)
			if c.cookie != "" {
				req.Header.Set("Cookie", c.cookie)
			}
			if k, v, ok := strings.Cut(c.reqHdr, ": "); ok {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatalf("%s through %d: %v", c.name, i, err)
			}
			res.Body.Close()
			var srvCookie string
			select {
			case srvCookie = <-seen:
			case <-time.After(3 * time.Second):
				t.Fatalf("%s: the server saw no request", c.name)
			}
			time.Sleep(50 * time.Millisecond)
			logged := strings.TrimSpace(p.out.String()[before:])
			sc := res.Header.Get("Set-Cookie")
			if m := setCookieRe.FindStringSubmatch(sc); m != nil {
				// Dates to the nearest step around now, so that both
				// proxies' answers compare.
				sc = "SRVID=a|" + relDate(uns30(m[1]), now) + "|" + relDate(uns30(m[2]), now)
			}
			got[i] = fmt.Sprintf("logged %q, Set-Cookie %q, Cache-Control %q, server saw Cookie %q",
				logged, sc, strings.Join(res.Header.Values("Cache-Control"), " | "), srvCookie)
		}
		if got[0] != got[1] {
			t.Errorf("%s (%q):\nhaproxy: %s\nsluice:  %s", c.name, c.cookie, got[0], got[1])
		} else if testing.Verbose() {
			t.Logf("%s: %s", c.name, got[0])
		}
	}
}
