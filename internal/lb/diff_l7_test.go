package lb

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

	"sluice/internal/testkit"
)

// httpNameServer answers every HTTP request with its name as the body.
func httpNameServer(t *testing.T, name string) string {
	t.Helper()
	return testkit.Serve(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(name), name)
		}
	})
}

// startHAProxyHTTP runs haproxy in mode http balancing over servers.
func startHAProxyHTTP(t *testing.T, servers []*Server, extra string) string {
	t.Helper()
	bin := haproxyBin(t)
	front := freePort(t)
	var b strings.Builder
	fmt.Fprintf(&b, "global\n  nbthread 1\n\ndefaults\n  mode http\n  timeout connect 2s\n")
	fmt.Fprintf(&b, "  timeout client 5s\n  timeout server 5s\n\nlisten l\n  bind %s\n%s\n", front, extra)
	for _, s := range servers {
		bk := ""
		if s.Backup {
			bk = " backup"
		}
		fmt.Fprintf(&b, "  server %s %s weight %d id %d%s\n", s.Name, httpNameServer(t, s.Name), s.Weight, s.ID, bk)
	}
	cfg := filepath.Join(t.TempDir(), "h.cfg")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", front)
		if err == nil {
			c.Close() // no request: no pick in mode http
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not listen: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return front
}

// httpHit sends one raw request (extra header lines included) and returns
// the body, the name of the server that answered. A header follows the
// extra ones: HAProxy's use_domain_only reads the byte after the value,
// which for the last header it keeps (Connection is dropped) is whatever
// an earlier request left in the recycled buffer (see HdrKey).
func httpHit(t *testing.T, front, uri, headers string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", front, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	host := "x"
	if rest, ok := strings.CutPrefix(uri, "http://"); ok {
		host, _, _ = strings.Cut(rest, "/") // must match the authority
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n%sX-Pad: z\r\nConnection: close\r\n\r\n", uri, host, headers)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", uri, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: status %d", uri, resp.StatusCode)
	}
	return string(body)
}

// hashTypes maps a hash-type line to the lookup and key function it means
// in HAProxy 2.6: consistent alone implies sdbm + avalanche.
var hashTypes = []struct {
	line string
	ht   HashType
	f    KeyFunc
}{
	{"map-based", MapBased, KeyFunc{SDBM, false}},
	{"consistent", Consistent, KeyFunc{SDBM, true}},
	{"map-based djb2", MapBased, KeyFunc{DJB2, false}},
	{"consistent wt6", Consistent, KeyFunc{WT6, false}},
	{"map-based crc32 avalanche", MapBased, KeyFunc{CRC32, true}},
	{"consistent djb2 avalanche", Consistent, KeyFunc{DJB2, true}},
}

// l7Request is one request of a differential run.
type l7Request struct{ uri, hdr string }

func l7Requests() []l7Request {
	var out []l7Request
	words := []string{"a", "img", "static", "api", "v1", "users", "x.png", "%C3%A9t%C3%A9", "index.html", "a//b"}
	for i := 0; i < 48; i++ {
		w1, w2, w3 := words[i%len(words)], words[(i*7+3)%len(words)], words[(i*5+1)%len(words)]
		uri := fmt.Sprintf("/%s/%s%d/%s", w1, w2, i, w3)
		switch i % 4 {
		case 1:
			uri += fmt.Sprintf("?id=%d&q=%s", i*13, w2)
		case 2:
			uri += fmt.Sprintf("?q=%s&id=u%d", w1, i%7)
		case 3:
			uri += "?idx=3&x=id=9" // no id parameter: round robin
		}
		if i%11 == 5 {
			uri = fmt.Sprintf("http://h%d.example.com:8080/p/%s/%d?id=%d", i, w1, i, i)
		}
		hdr := ""
		switch i % 5 {
		case 0:
			hdr = fmt.Sprintf("X-Key: k%d, other\r\n", i*31)
		case 1:
			hdr = fmt.Sprintf("x-key:  www.site%d.example.org \r\n", i%9)
		case 2:
			hdr = fmt.Sprintf("X-Key: \"quoted,%d\"\r\nX-Key: second\r\n", i)
		case 3:
			hdr = fmt.Sprintf("X-Key: caf\xc3\xa9-%d.fr\r\n", i) // obs-text: signed chars
		}
		out = append(out, l7Request{uri, hdr})
	}
	return out
}

// TestDiffHAProxyL7Hash sends the same requests through haproxy and the
// lb package and expects the same server each time, for uri (and its
// options), url_param and hdr, over map-based and consistent hashing with
// each hash function, including the round robin of requests with nothing
// to hash.
func TestDiffHAProxyL7Hash(t *testing.T) {
	type algo struct {
		balance string
		key     func(r l7Request, f KeyFunc) (uint32, bool)
	}
	uri := func(o URIOptions) func(l7Request, KeyFunc) (uint32, bool) {
		return func(r l7Request, f KeyFunc) (uint32, bool) { return URIKey([]byte(r.uri), o, f), true }
	}
	hdrVal := func(r l7Request) []byte {
		for _, line := range strings.Split(r.hdr, "\r\n") {
			if name, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(name, "x-key") {
				return []byte(v)
			}
		}
		return nil
	}
	algos := []algo{
		{"uri", uri(URIOptions{})},
		{"uri whole", uri(URIOptions{Whole: true})},
		{"uri len 7", uri(URIOptions{Len: 7})},
		{"uri depth 2", uri(URIOptions{Depth: 2})},
		{"uri depth 1 len 12 whole", uri(URIOptions{Depth: 1, Len: 12, Whole: true})},
		{"uri path-only", uri(URIOptions{PathOnly: true})},
		{"url_param id", func(r l7Request, f KeyFunc) (uint32, bool) { return URLParamKey([]byte(r.uri), "id", f) }},
		{"hdr(x-key)", func(r l7Request, f KeyFunc) (uint32, bool) { return HdrKey(hdrVal(r), false, f) }},
		{"hdr(X-Key) use_domain_only", func(r l7Request, f KeyFunc) (uint32, bool) { return HdrKey(hdrVal(r), true, f) }},
	}
	specs := []string{"s1:1,s2:1,s3:1", "s1:10,s2:20,s3:5,s4:1", "s1:3,s2:6,b1:2b"}
	reqs := l7Requests()
	for ai, a := range algos {
		for hi, ht := range hashTypes {
			spec := specs[(ai+hi)%len(specs)]
			t.Run(a.balance+"/"+ht.line+"/"+spec, func(t *testing.T) {
				t.Parallel()
				front := startHAProxyHTTP(t, mkServers(spec), "  balance "+a.balance+"\n  hash-type "+ht.line)
				b, err := New(Hash, mkServers(spec), Options{HashType: ht.ht})
				if err != nil {
					t.Fatal(err)
				}
				hb := b.(Hashed)
				for _, r := range reqs {
					want := httpHit(t, front, r.uri, r.hdr)
					var got *Server
					if k, ok := a.key(r, ht.f); ok {
						got = hb.Pick(k)
					} else {
						got = hb.PickNext()
					}
					if got == nil || got.Name != want {
						t.Fatalf("%q %q: haproxy %q, lb %v", r.uri, r.hdr, want, got)
					}
				}
			})
		}
	}
}
