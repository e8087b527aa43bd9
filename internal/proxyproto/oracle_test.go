package proxyproto

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// haproxy's send-proxy and send-proxy-v2 bytes equal AppendV1/AppendV2's
// for the same client and frontend addresses.
func TestOracleHAProxySend(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/haproxy"); err != nil {
			t.Skip("haproxy not installed")
		}
		bin = "/usr/sbin/haproxy"
	}
	for _, kw := range []string{"send-proxy", "send-proxy-v2"} {
		srv, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		fe, _ := net.Listen("tcp", "127.0.0.1:0")
		bind := fe.Addr().String()
		fe.Close()
		cfg := "defaults\n mode tcp\n timeout connect 2s\n timeout client 5s\n timeout server 5s\nlisten l\n bind " + bind +
			"\n server s " + srv.Addr().String() + " " + kw + "\n"
		path := filepath.Join(t.TempDir(), "h.cfg")
		os.WriteFile(path, []byte(cfg), 0o644)
		cmd := exec.Command(bin, "-db", "-f", path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		var c net.Conn
		for deadline := time.Now().Add(10 * time.Second); ; {
			if c, err = net.Dial("tcp", bind); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("haproxy never listened")
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.Write([]byte("x"))
		srv.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
		s, err := srv.Accept()
		if err != nil {
			t.Fatal(err)
		}
		s.SetReadDeadline(time.Now().Add(5 * time.Second))
		got := make([]byte, 0, 128)
		buf := make([]byte, 128)
		for !bytes.HasSuffix(got, []byte("x")) {
			n, err := s.Read(buf)
			if err != nil {
				t.Fatalf("%s: %v after %q", kw, err, got)
			}
			got = append(got, buf[:n]...)
		}
		got = got[:len(got)-1]
		src := c.LocalAddr().(*net.TCPAddr).AddrPort()
		dst := netip.MustParseAddrPort(bind)
		want := AppendV1(nil, src, dst)
		if kw == "send-proxy-v2" {
			want = AppendV2(nil, Proxy, src, dst, nil)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\nhaproxy %q\nsluice  %q", kw, got, want)
		}
		c.Close()
		s.Close()
	}
}
