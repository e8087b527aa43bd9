package peertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sluice/internal/config"
	"sluice/internal/engine"
	"sluice/internal/testkit"
)

// ---- programs -------------------------------------------------------------

// skipPeersEnv lets a developer without the external programs opt out of
// the tests that need them; without it a missing program fails the test,
// so CI never skips silently.
const skipPeersEnv = "SLUICE_SKIP_PEERS"

// needProgram finds an external program: on PATH, else at one of the
// paths given (Debian's /usr/sbin, /usr/bin/python3 past a pyenv shim).
// A missing program fails the test, or skips it under SLUICE_SKIP_PEERS=1;
// pkg names the Debian package that scripts/test.sh installs for it.
func needProgram(t *testing.T, name, pkg string, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	missing(t, fmt.Sprintf("%s not found (on PATH or at %s)", name, strings.Join(paths, ", ")), pkg)
	return ""
}

// missing fails the test, or skips it under SLUICE_SKIP_PEERS=1, for a
// peer that is not installed.
func missing(t *testing.T, what, pkg string) {
	t.Helper()
	if os.Getenv(skipPeersEnv) == "1" {
		t.Skipf("%s; skipped because %s=1 (Debian package %s)", what, skipPeersEnv, pkg)
	}
	t.Fatalf("%s: install the Debian package %s (scripts/test.sh installs every program these tests need) or set %s=1 to skip the tests that need it",
		what, pkg, skipPeersEnv)
}

// python3 is Debian's interpreter, which sees Debian's python3-websockets
// (a python3 earlier on PATH, such as a pyenv shim, may not).
func python3(t *testing.T) string {
	t.Helper()
	py := needProgram(t, "python3", "python3", "/usr/bin/python3")
	if out, err := exec.Command(py, "-c", "import websockets").CombinedOutput(); err != nil {
		missing(t, fmt.Sprintf("%s cannot import websockets (%v: %s)", py, err, strings.TrimSpace(string(out))), "python3-websockets")
	}
	return py
}

// proc is a child process, in a process group of its own, that is killed
// with its whole group when the test ends.
type proc struct {
	cmd  *exec.Cmd
	out  *testkit.SyncBuffer
	done chan struct{}
}

// startProc starts cmd with its output captured (stdout too, unless set).
func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, out: &testkit.SyncBuffer{}, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	cmd.Stderr = p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop() })
	return p
}

// stop ends the process group: SIGTERM, then SIGKILL if the leader is
// still there after 5s. The group is killed in any case, so that helpers
// the program started (Chromium's renderers) do not outlive the test.
func (p *proc) stop() {
	pgid := p.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ---- addresses ------------------------------------------------------------

func freeAddr(t *testing.T) string { return testkit.FreeAddr(t) }

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// waitListen polls until addr accepts a connection; p, when not nil, is
// the process that should listen there (its output is shown on failure).
func waitListen(t *testing.T, addr string, p *proc, logs ...string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if p != nil && p.exited() {
			t.Fatalf("%s exited before listening on %s:\n%s%s", p.cmd.Path, addr, p.out, readLogs(logs))
		}
		if time.Now().After(deadline) {
			out := ""
			if p != nil {
				out = p.out.String()
			}
			t.Fatalf("nothing listens on %s after 15s\n%s%s", addr, out, readLogs(logs))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readLogs(paths []string) string {
	var b strings.Builder
	for _, p := range paths {
		data, _ := os.ReadFile(p)
		fmt.Fprintf(&b, "--- %s:\n%s", p, data)
	}
	return b.String()
}

// ---- the proxy ------------------------------------------------------------

// proxyEnv picks what runs the configurations: Sluice in this process by
// default, or Debian's haproxy with "haproxy", to show that the tests'
// expectations are the reference's behaviour.
const proxyEnv = "SLUICE_PEERTEST_PROXY"

// startProxy runs cfg, whose frontends bind on the addresses the test
// chose, and returns once bind (one of them) accepts connections.
func startProxy(t *testing.T, cfg, bind string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "proxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	switch os.Getenv(proxyEnv) {
	case "haproxy":
		bin := testkit.HAProxyPath()
		if bin == "" {
			t.Fatalf("%s=haproxy but no haproxy is installed", proxyEnv)
		}
		p := startProc(t, exec.Command(bin, "-db", "-f", path))
		waitListen(t, bind, p)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("haproxy output:\n%s", p.out)
			}
		})
	case "", "sluice":
		c, ds := config.Load([]string{path}, config.Options{})
		if ds.HasAlerts() {
			t.Fatalf("config:\n%s\n%v", cfg, ds)
		}
		e, err := engine.Start(c, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			e.HardStop()
			if !e.Wait(10 * time.Second) {
				t.Error("engine did not stop within 10s of a hard stop")
			}
		})
		waitListen(t, bind, nil)
	default:
		t.Fatalf("%s=%q: want sluice or haproxy", proxyEnv, os.Getenv(proxyEnv))
	}
}

// proxyTo runs a proxy whose one frontend sends everything to server,
// and returns the frontend's address.
func proxyTo(t *testing.T, server string) string {
	t.Helper()
	addr := freeAddr(t)
	startProxy(t, httpDefaults+fmt.Sprintf("frontend fe\n    bind %s\n    default_backend b\nbackend b\n    server s %s\n", addr, server), addr)
	return addr
}

// knownBug skips a test that shows a Sluice bug not fixed yet, naming
// it; against haproxy (SLUICE_PEERTEST_PROXY=haproxy) the test runs, which
// shows that its expectation is the reference's behaviour.
func knownBug(t *testing.T, bug string) {
	t.Helper()
	if os.Getenv(proxyEnv) != "haproxy" {
		t.Skip("BUG: " + bug)
	}
}

// httpDefaults is the defaults section the tests' configurations share.
const httpDefaults = `defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout tunnel 10s
    timeout http-keep-alive 5s
`

// ---- nginx ----------------------------------------------------------------

// nginx is an nginx instance of the test's own: a generated configuration,
// a temporary prefix, no master process, logs under dir.
type nginx struct {
	dir string
	p   *proc
}

// startNginx runs nginx with servers (server blocks, placed in its http
// block) and waits until each address in listens accepts connections.
// Paths in servers may use {{DIR}} for the prefix directory.
func startNginx(t *testing.T, servers string, listens ...string) *nginx {
	t.Helper()
	bin := needProgram(t, "nginx", "nginx", "/usr/sbin/nginx")
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 256; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    types { text/html html; application/javascript js; text/plain txt; application/octet-stream bin; }
    default_type application/octet-stream;
    keepalive_timeout 30s;
    keepalive_requests 1000;
%[2]s
}
`, dir, strings.ReplaceAll(servers, "{{DIR}}", dir))
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &nginx{dir: dir}
	n.p = startProc(t, exec.Command(bin, "-c", path, "-p", dir+"/", "-e", filepath.Join(dir, "error.log")))
	for _, a := range listens {
		waitListen(t, a, n.p, filepath.Join(dir, "error.log"))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nginx logs:%s", readLogs([]string{filepath.Join(dir, "error.log"), filepath.Join(dir, "access.log")}))
		}
	})
	return n
}

// ---- curl -----------------------------------------------------------------

// curlResult is one curl run: its exit status, what it wrote on stdout
// (the body, or -w output) and on stderr (the -v trace).
type curlResult struct {
	code           int
	stdout, stderr string
}

// curl runs curl with args and a 20s limit; it fails the test only when
// curl cannot run at all, so tests judge the exit status themselves.
func curl(t *testing.T, args ...string) curlResult {
	t.Helper()
	return runCurl(t, nil, false, args...)
}

func runCurl(t *testing.T, stdin io.Reader, must bool, args ...string) curlResult {
	t.Helper()
	bin := needProgram(t, "curl", "curl", "/usr/bin/curl")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--silent", "--show-error", "--max-time", "15"}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errb, stdin
	err := cmd.Run()
	r := curlResult{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("curl %q: %v", args, err)
	}
	if must && r.code != 0 {
		t.Fatalf("curl %q exited %d:\n%s\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// curlStdin is mustCurl with the file at path on curl's standard input.
func curlStdin(t *testing.T, path string, args ...string) curlResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return runCurl(t, f, true, args...)
}

// mustCurl is curl that fails the test on a non-zero exit status.
func mustCurl(t *testing.T, args ...string) curlResult {
	t.Helper()
	return runCurl(t, nil, true, args...)
}

// ---- data -----------------------------------------------------------------

// writeRandomFile writes n pseudo-random bytes (a SHA-256 chain of seed,
// so no block repeats) to path and returns their SHA-256 in hex.
func writeRandomFile(t *testing.T, path string, n int, seed string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum := sha256.New()
	w := io.MultiWriter(f, sum)
	block := sha256.Sum256([]byte(seed))
	buf := make([]byte, 0, 64<<10)
	for written := 0; written < n; {
		buf = buf[:0]
		for len(buf) < cap(buf) {
			block = sha256.Sum256(block[:])
			buf = append(buf, block[:]...)
		}
		m := min(len(buf), n-written)
		if _, err := w.Write(buf[:m]); err != nil {
			t.Fatal(err)
		}
		written += m
	}
	return hex.EncodeToString(sum.Sum(nil))
}

// fileSHA256 is the SHA-256 of a file's content, in hex.
func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
