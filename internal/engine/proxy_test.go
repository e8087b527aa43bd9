package engine

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// nameServer is a backend that writes its name and a colon, then echoes
// until the client half-closes, then closes.
type nameServer struct {
	ln   net.Listener
	wg   sync.WaitGroup
	name string
}

func startNameServer(t *testing.T, name string) *nameServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &nameServer{ln: ln, name: name}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				io.WriteString(c, name+":")
				io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *nameServer) addr() string { return s.ln.Addr().String() }

// exchange connects, sends msg, half-closes and returns everything read.
func exchange(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, msg)
	c.(*net.TCPConn).CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// startEngine loads cfg (with %s replaced by a free port) and starts it.
func startEngine(t *testing.T, cfg string) (*Engine, string) {
	t.Helper()
	addr := freeAddr(t)
	e, err := Start(loadCfg(t, fmt.Sprintf(cfg, addr)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.HardStop(); e.Wait(5 * time.Second) })
	return e, addr
}

const tcpDefaults = "defaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"

func TestRoundRobinRelay(t *testing.T) {
	a, b := startNameServer(t, "a"), startNameServer(t, "b")
	_, addr := startEngine(t, tcpDefaults+"listen l\n bind %s\n server a "+a.addr()+"\n server b "+b.addr()+"\n")
	var got []string
	for i := 0; i < 4; i++ {
		got = append(got, exchange(t, addr, fmt.Sprintf("m%d", i)))
	}
	if want := "a:m0 b:m1 a:m2 b:m3"; strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q (round robin, half-close relayed, reply complete)", got, want)
	}
}

func TestWeightsDisabledAndBackup(t *testing.T) {
	a, b, c := startNameServer(t, "a"), startNameServer(t, "b"), startNameServer(t, "c")
	_, addr := startEngine(t, tcpDefaults+"frontend f\n bind %s\n default_backend be\nbackend be\n balance roundrobin\n"+
		" server a "+a.addr()+" weight 2\n server b "+b.addr()+" disabled\n server c "+c.addr()+" backup\n")
	count := map[string]int{}
	for i := 0; i < 6; i++ {
		count[exchange(t, addr, "")]++
	}
	if count["a:"] != 6 {
		t.Fatalf("picks %v: want every connection on a (b disabled, c a backup)", count)
	}
	_, addr2 := startEngine(t, tcpDefaults+"listen l\n bind %s\n server b "+b.addr()+" disabled\n server c "+c.addr()+" backup\n")
	if got := exchange(t, addr2, "x"); got != "c:x" {
		t.Fatalf("got %q: with no active server the backup must take the traffic", got)
	}
}

// balance source keeps each client address on one server.
func TestSourceAffinity(t *testing.T) {
	a, b := startNameServer(t, "a"), startNameServer(t, "b")
	_, addr := startEngine(t, tcpDefaults+"listen l\n bind %s\n balance source\n server a "+a.addr()+"\n server b "+b.addr()+"\n")
	seen := map[string]string{}
	for i := 0; i < 12; i++ {
		src := fmt.Sprintf("127.0.0.%d", 2+i%3)
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.(*net.TCPConn).CloseWrite()
		got, _ := io.ReadAll(c)
		c.Close()
		if prev, ok := seen[src]; ok && prev != string(got) {
			t.Fatalf("client %s moved from %s to %s", src, prev, got)
		}
		seen[src] = string(got)
	}
	// Map-based source hashing: address as a number modulo 2 servers.
	if seen["127.0.0.2"] == seen["127.0.0.3"] {
		t.Errorf("adjacent addresses landed on the same server: %v", seen)
	}
}

// A server that refuses connections: after the retries the client is closed.
func TestRefusedServerClosesClient(t *testing.T) {
	dead := freeAddr(t)
	_, addr := startEngine(t, tcpDefaults+" retries 1\n timeout connect 100ms\nlisten l\n bind %s\n server dead "+dead+"\n")
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// Closing a socket with unread client bytes makes the kernel send RST;
	// either way the client must get nothing and an end, not a hang.
	got, err := io.ReadAll(c)
	if len(got) != 0 || (err != nil && !strings.Contains(err.Error(), "reset")) {
		t.Fatalf("got %q, %v from a dead server", got, err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("client was held far beyond the retry budget")
	}
}

// Bytes pass untouched in both directions.
func TestRelayIntegrity(t *testing.T) {
	a := startNameServer(t, "a")
	_, addr := startEngine(t, tcpDefaults+"listen l\n bind %s\n server a "+a.addr()+"\n")
	payload := strings.Repeat("0123456789abcdef\x00\xff", 1<<15)
	if got := exchange(t, addr, payload); got != "a:"+payload {
		t.Fatalf("payload corrupted: got %d bytes, want %d", len(got), len(payload)+2)
	}
}

// Relaying needs TCP on both sides: a unix bind with a backend is refused
// at start instead of closing every connection.
func TestUnixBindRelays(t *testing.T) {
	rx := startSyslog(t)
	a := startNameServer(t, "a")
	sock := t.TempDir() + "/u.sock"
	startLogged(t, rx, tcpDefaults+" log global\n option tcplog\nlisten l\n bind "+freeAddr(t)+"\n bind unix@"+sock+"\n server a "+a.addr()+"\n")
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "hello")
	c.(*net.UnixConn).CloseWrite()
	b, _ := io.ReadAll(c)
	if string(b) != "a:hello" {
		t.Fatalf("through the unix socket: %q", b)
	}
	// HAProxy logs a unix client as unix:<listener id>.
	if line := rx.next(t); !strings.Contains(line, ": unix:2 [") || !strings.Contains(line, " l l/a ") {
		t.Fatalf("log line %q", line)
	}
}
