package engine

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nginxStreamModule is where Debian's libnginx-mod-stream installs the
// stream module.
const nginxStreamModule = "/usr/lib/nginx/modules/ngx_stream_module.so"

// startNginxProxyProtocol runs nginx's stream module with proxy_protocol on
// a free port; it answers each connection with the client address the
// PROXY header carried, then closes.
func startNginxProxyProtocol(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
	}
	_, errMod := os.Stat(nginxStreamModule)
	if _, err := os.Stat(bin); err != nil || errMod != nil {
		if os.Getenv("SLUICE_SKIP_PEERS") == "1" {
			t.Skip("nginx with the stream module is not installed (SLUICE_SKIP_PEERS=1)")
		}
		t.Fatalf("nginx and libnginx-mod-stream are needed (scripts/test.sh installs them; SLUICE_SKIP_PEERS=1 skips)")
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	conf := fmt.Sprintf(`load_module %s;
daemon off;
master_process off;
pid %s/nginx.pid;
error_log %s/error.log;
events { worker_connections 64; }
stream {
  server {
    listen %s proxy_protocol;
    return "$proxy_protocol_addr:$proxy_protocol_port to $proxy_protocol_server_addr:$proxy_protocol_server_port\n";
  }
}
`, nginxStreamModule, dir, dir, addr)
	path := filepath.Join(dir, "nginx.conf")
	os.WriteFile(path, []byte(conf), 0o644)
	cmd := exec.Command(bin, "-c", path, "-p", dir, "-e", filepath.Join(dir, "error.log"))
	out, _ := os.Create(filepath.Join(dir, "out.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx never listened on %s:\n%s", addr, b)
		}
	}
}

// nginx's stream module, a PROXY-aware peer users run, sees the real
// client address through send-proxy and send-proxy-v2.
func TestSendProxyToNginx(t *testing.T) {
	ng := startNginxProxyProtocol(t)
	v1, v2 := freeAddr(t), freeAddr(t)
	startCfg(t, tcpDefaults+fmt.Sprintf("listen l1\n bind %s\n server n %s send-proxy\nlisten l2\n bind %s\n server n %s send-proxy-v2\n", v1, ng, v2, ng))
	for _, front := range []string{v1, v2} {
		c, err := net.Dial("tcp", front)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		c.Close()
		want := fmt.Sprintf("%s to %s\n", c.LocalAddr(), front)
		if string(b) != want {
			t.Fatalf("via %s nginx saw %q, want %q", front, b, want)
		}
		if strings.Contains(string(b), fmt.Sprint(":", portOf(ng))) {
			t.Fatalf("nginx saw the proxy's own address: %q", b)
		}
	}
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
