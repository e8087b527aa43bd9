package lb

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// haproxyBin returns the haproxy binary or skips (fails under CI).
func haproxyBin(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("haproxy")
	if err != nil {
		p = "/usr/sbin/haproxy"
		if _, err2 := os.Stat(p); err2 != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("haproxy not found and CI is set")
			}
			t.Skip("haproxy not installed")
		}
	}
	return p
}

// nameServer accepts connections and writes its name to each.
func nameServer(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, name)
			c.Close()
		}
	}()
	return ln.Addr().String()
}

func freePort(t *testing.T) string { return testkit.FreeAddr(t) }

// startHAProxy runs haproxy with one listener balancing over servers; the
// extra lines go into the listen section.
func startHAProxy(t *testing.T, servers []*Server, extra string) string {
	t.Helper()
	bin := haproxyBin(t)
	front := freePort(t)
	var b strings.Builder
	fmt.Fprintf(&b, "global\n  nbthread 1\n\ndefaults\n  mode tcp\n  timeout connect 2s\n")
	fmt.Fprintf(&b, "  timeout client 5s\n  timeout server 5s\n\nlisten l\n  bind %s\n%s\n", front, extra)
	for _, s := range servers {
		bk := ""
		if s.Backup {
			bk = " backup"
		}
		fmt.Fprintf(&b, "  server %s %s weight %d id %d%s\n", s.Name, nameServer(t, s.Name), s.Weight, s.ID, bk)
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
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", front); err == nil {
			c.Close() // this probe consumed one pick: restart cleanly below
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return front
}

// hit makes one connection from src (nil: default) and returns the name read.
func hit(t *testing.T, front string, src net.IP) string {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second}
	if src != nil {
		d.LocalAddr = &net.TCPAddr{IP: src}
	}
	c, err := d.Dial("tcp", front)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	buf, _ := io.ReadAll(c)
	return string(buf)
}

func mkServers(spec string) []*Server {
	// "s1:10,s2:20,b3:5b" -> servers; trailing b = backup
	var out []*Server
	for i, f := range strings.Split(spec, ",") {
		name, w, _ := strings.Cut(f, ":")
		s := &Server{Name: name, ID: i + 1}
		if strings.HasSuffix(w, "b") {
			s.Backup, w = true, strings.TrimSuffix(w, "b")
		}
		fmt.Sscan(w, &s.Weight)
		out = append(out, s)
	}
	return out
}

func TestDiffHAProxyRoundRobin(t *testing.T) {
	algos := map[string]Algo{"roundrobin": RoundRobin, "static-rr": StaticRR}
	for _, spec := range []string{"s1:1,s2:1", "s1:10,s2:20", "s1:1,s2:2,s3:3", "s1:5,s2:1,s3:0,s4:7", "s1:3,s2:3,s3:1"} {
		for name, algo := range algos {
			t.Run(name+"/"+spec, func(t *testing.T) {
				srv := mkServers(spec)
				front := startHAProxy(t, srv, "  balance "+name)
				b, err := New(algo, mkServers(spec), Options{})
				if err != nil {
					t.Fatal(err)
				}
				b.Pick(0) // the readiness probe took one pick in haproxy
				for i := 0; i < 60; i++ {
					want := hit(t, front, nil)
					got := b.Pick(0)
					if got == nil || got.Name != want {
						t.Fatalf("conn %d: haproxy %q, lb %v", i, want, got)
					}
				}
			})
		}
	}
}

func TestDiffHAProxySource(t *testing.T) {
	// "hash-type consistent" alone implies sdbm+avalanche (manual);
	// with an explicit function there is no avalanche unless asked.
	for _, ht := range []string{"map-based", "consistent", "consistent sdbm", "map-based sdbm avalanche"} {
		for _, spec := range []string{"s1:1,s2:1,s3:1", "s1:10,s2:20,s3:5", "s1:1,s2:2,s3:3,s4:4,s5:5"} {
			t.Run(ht+"/"+spec, func(t *testing.T) {
				front := startHAProxy(t, mkServers(spec), "  balance source\n  hash-type "+ht)
				opt := Options{}
				if strings.HasPrefix(ht, "consistent") {
					opt.HashType = Consistent
				}
				b, _ := New(Hash, mkServers(spec), opt)
				for i := 0; i < 40; i++ {
					ip := net.IPv4(127, byte(i*37%256), byte(i*11%256), byte(2+i*13%250))
					want := hit(t, front, ip)
					a, _ := netip.AddrFromSlice(ip.To4())
					aval := ht == "consistent" || strings.HasSuffix(ht, "avalanche")
					got := b.Pick(SourceHash(a, aval))
					if got == nil || got.Name != want {
						t.Fatalf("src %v: haproxy %q, lb %v", ip, want, got)
					}
				}
			})
		}
	}
}
