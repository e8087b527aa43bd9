package peertest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startWSEcho runs testdata/ws_echo.py (python3-websockets) and returns
// its address.
func startWSEcho(t *testing.T) string {
	t.Helper()
	py := python3(t)
	script, err := filepath.Abs("testdata/ws_echo.py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := startProc(t, cmd)
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		port <- strings.TrimSpace(line)
	}()
	select {
	case pt := <-port:
		if pt == "" {
			<-p.done
			t.Fatalf("ws_echo.py printed no port:\n%s", p.out)
		}
		addr := "127.0.0.1:" + pt
		waitListen(t, addr, p)
		return addr
	case <-time.After(15 * time.Second):
		t.Fatalf("ws_echo.py printed no port within 15s:\n%s", p.out)
	}
	return ""
}

// wsResult is what testdata/ws_client.py prints.
type wsResult struct {
	Greeting struct {
		Greeting      string `json:"greeting"`
		Path          string `json:"path"`
		XForwardedFor string `json:"x_forwarded_for"`
		XProxy        string `json:"x_proxy"`
	} `json:"greeting"`
	ResponseHeaders map[string]string `json:"response_headers"`
	BinarySHA256    string            `json:"binary_sha256"`
	Pushed          []string          `json:"pushed"`
	CloseCode       int               `json:"close_code"`
	OK              bool              `json:"ok"`
}

// wsClient runs testdata/ws_client.py against url.
func wsClient(t *testing.T, url string) wsResult {
	t.Helper()
	py := python3(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "testdata/ws_client.py", url)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ws_client.py %s: %v\nstdout: %s\nstderr: %s", url, err, out.String(), errb.String())
	}
	var r wsResult
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		t.Fatalf("ws_client.py printed %q: %v", out.String(), err)
	}
	return r
}

// A real WebSocket client and server (python3-websockets) talk through
// Sluice: the Upgrade request passes the frontend's rules (routing by
// path, a header set, X-Forwarded-For), the 101 comes back, and the tunnel
// carries text, a 1 MiB binary message, a burst of 200 messages and
// server pushes both ways, then a clean close handshake (1000). Plain
// HTTP to the same frontend still reaches nginx.
func TestWebSocketEchoThroughTunnel(t *testing.T) {
	ws := startWSEcho(t)
	s := startSite(t, 1)
	addr := freeAddr(t)
	startProxy(t, httpDefaults+fmt.Sprintf(`
frontend fe
    bind %s
    option forwardfor
    http-request set-header X-Proxy sluice-peertest
    acl is_ws hdr(upgrade) -i websocket
    use_backend ws if is_ws { path_beg /chat }
    default_backend app
backend ws
    server echo %s
backend app
    server app1 %s
`, addr, ws, s.apps[0]), addr)
	r := wsClient(t, "ws://"+addr+"/chat/room1?user=a")
	g := r.Greeting
	if g.Greeting != "ws-echo" || g.Path != "/chat/room1?user=a" || g.XForwardedFor != "127.0.0.1" || g.XProxy != "sluice-peertest" {
		t.Errorf("the echo server saw the upgrade request as %+v", g)
	}
	if !r.OK || r.CloseCode != 1000 || len(r.Pushed) != 3 || r.Pushed[2] != "pushed 2" {
		t.Errorf("client run: %+v", r)
	}
	if !strings.EqualFold(r.ResponseHeaders["upgrade"], "websocket") || r.ResponseHeaders["sec-websocket-accept"] == "" {
		t.Errorf("101 response headers: %v", r.ResponseHeaders)
	}
	// The same frontend still serves plain HTTP on that path.
	if e := parseEcho(t, mustCurl(t, "http://"+addr+"/chat/x").stdout); e["server"] != "app1" {
		t.Errorf("plain GET /chat/x went to %v", e)
	}
}

// Several WebSocket sessions at once each keep their own tunnel.
func TestWebSocketConcurrentSessions(t *testing.T) {
	ws := startWSEcho(t)
	addr := proxyTo(t, ws)
	const n = 4
	py := python3(t)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, py, "testdata/ws_client.py", fmt.Sprintf("ws://%s/s%d", addr, i)).CombinedOutput()
			var r wsResult
			if err == nil {
				err = json.Unmarshal(out, &r)
			}
			if err == nil && (!r.OK || r.Greeting.Path != fmt.Sprintf("/s%d", i)) {
				err = fmt.Errorf("session %d: %+v", i, r)
			}
			if err != nil {
				err = fmt.Errorf("session %d: %v\n%s", i, err, out)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
