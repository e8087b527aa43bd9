package engine

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

	"sluice/internal/h1"
	"sluice/internal/sample"
)

// l7Req sends one request on a new connection and returns the name of the
// server that answered (the first word of an httpBackend's body).
func l7Req(t *testing.T, addr, uri, headers string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	host := "x"
	if rest, ok := strings.CutPrefix(uri, "http://"); ok {
		host, _, _ = strings.Cut(rest, "/")
	}
	// A header follows the extra ones: see lb.HdrKey on what HAProxy reads
	// after the last header it keeps.
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n%sX-Pad: z\r\nConnection: close\r\n\r\n", uri, host, headers)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s %q: %v", uri, headers, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %q: status %d %s", uri, headers, resp.StatusCode, body)
	}
	name, _, _ := strings.Cut(string(body), " ")
	return name
}

// startHAProxyCfg runs haproxy -db on cfg (with %s for the bind address)
// and returns its address; it skips without haproxy unless CI is set.
func startHAProxyCfg(t *testing.T, cfg string) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		bin = "/usr/sbin/haproxy"
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("haproxy not found and CI is set")
			}
			t.Skip("haproxy not installed")
		}
	}
	addr := freeAddr(t)
	path := filepath.Join(t.TempDir(), "h.cfg")
	if err := os.WriteFile(path, []byte("global\n nbthread 1\n"+fmt.Sprintf(cfg, addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close() // no request: no pick in mode http
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not listen: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDiffHAProxyHTTPHash runs the same http backend in haproxy and in
// Sluice, sends both the same requests and expects each to reach the same
// server: balance uri (with options), url_param, hdr() and hash <expr>
// (text, address, integer and boolean samples), map-based and consistent,
// requests without anything to hash (round robin) included.
func TestDiffHAProxyHTTPHash(t *testing.T) {
	var backends []*httpBackend
	for i := 1; i <= 4; i++ {
		backends = append(backends, startHTTPBackend(t, fmt.Sprintf("s%d", i)))
	}
	weights := []int{3, 10, 1, 6}
	type reqT struct{ uri, hdr string }
	var reqs []reqT
	for i := 0; i < 40; i++ {
		uri := fmt.Sprintf("/d%d/e%d/f%d", i%3, i*7, i%5)
		switch i % 4 {
		case 1:
			uri += fmt.Sprintf("?id=%d&z=1", i*13)
		case 2:
			uri += fmt.Sprintf("?a=b&id=u%d", i%6)
		case 3:
			uri += "?idx=1"
		}
		if i%9 == 4 {
			uri = fmt.Sprintf("http://h%d.example.com/p%d/q?id=%d", i, i%4, i)
		}
		hdr := ""
		switch i % 3 {
		case 0:
			hdr = fmt.Sprintf("X-User: u%d.site%d.example.net, b\r\n", i, i%5)
		case 1:
			hdr = fmt.Sprintf("x-user:  \"v,%d\" \r\nX-User: second\r\n", i*3)
		}
		reqs = append(reqs, reqT{uri, hdr})
	}
	for _, bal := range []string{
		"balance uri\n",
		"balance uri depth 2 whole\n hash-type consistent\n",
		"balance uri len 9 path-only\n hash-type map-based djb2 avalanche\n",
		"balance url_param id\n hash-type consistent wt6\n",
		"balance url_param id\n",
		"balance hdr(X-User)\n hash-type map-based crc32\n",
		"balance hdr(x-user) use_domain_only\n hash-type consistent\n",
		"balance source\n",
		"balance hash req.hdr(x-user)\n",
		"balance hash path,lower\n hash-type consistent\n",
		"balance hash url_param(id)\n hash-type map-based djb2\n",
		"balance hash src\n hash-type consistent\n",
		"balance hash req.hdr_cnt(x-user)\n",
		"balance hash always_true\n",
		"balance hash req.hdr(x-user),word(1,.)\n hash-type consistent crc32\n",
	} {
		t.Run(strings.ReplaceAll(bal, "\n", ";"), func(t *testing.T) {
			cfg := httpDefaults + "frontend fe\n bind %s\n default_backend be\nbackend be\n " + bal
			for i, b := range backends {
				cfg += fmt.Sprintf(" server s%d %s weight %d\n", i+1, b.hostPort(), weights[i])
			}
			ha := startHAProxyCfg(t, cfg)
			_, sl := startEngine(t, cfg)
			for _, r := range reqs {
				want := l7Req(t, ha, r.uri, r.hdr)
				if got := l7Req(t, sl, r.uri, r.hdr); got != want {
					t.Fatalf("%s %q: haproxy %s, sluice %s", r.uri, r.hdr, want, got)
				}
			}
		})
	}
}

// TestHTTPKeyNoAlloc: computing a request's key allocates nothing, for
// balance hdr() and for balance hash with a converter.
func TestHTTPKeyNoAlloc(t *testing.T) {
	for _, bal := range []string{"hdr(x-user) use_domain_only", "hash req.hdr(x-user),lower"} {
		cfg := loadCfg(t, httpDefaults+"backend be\n balance "+bal+"\n server s1 127.0.0.1:1\n")
		b, err := newBackend(cfg.Proxies[0], 1)
		if err != nil {
			t.Fatal(err)
		}
		var req h1.Head
		raw := []byte("GET /a?id=1 HTTP/1.1\r\nHost: x\r\nX-User: a.B.example.org\r\n\r\n")
		if _, err := h1.ParseRequest(raw, &req, h1.Limits{MaxFields: 100}); err != nil {
			t.Fatal(err)
		}
		smp := sample.Ctx{Req: &req}
		if k := b.httpKey(&smp, &req); !k.set {
			t.Fatalf("balance %s: no key for a request with the header", bal)
		}
		if n := testing.AllocsPerRun(100, func() { b.httpKey(&smp, &req) }); n != 0 {
			t.Fatalf("balance %s: %v allocations", bal, n)
		}
	}
}
