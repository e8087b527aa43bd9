package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// sluiceBin builds the command once per test run.
func sluiceBin(t *testing.T) string { return testkit.SluiceBinary(t) }

// freePort finds a TCP port on 127.0.0.1 nobody listens on right now,
// claimed against the other test processes (testkit.FreePort).
func freePort(t *testing.T) int { return testkit.FreePort(t) }

// syncBuf is a goroutine-safe buffer for a child's output.
type syncBuf = testkit.SyncBuffer

type proc struct {
	cmd  *exec.Cmd
	out  *syncBuf
	done chan error
}

func start(t *testing.T, cfg string, extra ...string) *proc {
	t.Helper()
	path := writeCfg(t, cfg)
	p := &proc{out: &syncBuf{}, done: make(chan error, 1)}
	p.cmd = exec.Command(sluiceBin(t), append([]string{"-f", path}, extra...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// waitExit waits for the process to end and returns its exit code.
func (p *proc) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		p.done <- nil // let Cleanup's receive finish
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(10 * time.Second):
		t.Fatalf("process did not exit; output:\n%s", p.out)
		return -1
	}
}

// waitListen polls until addr accepts connections.
func waitListen(t *testing.T, network, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial(network, addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

// expectClosed connects and checks the connection is closed by Sluice
// (a frontend without a backend closes at once, as HAProxy does).
func expectClosed(t *testing.T, network, addr string) {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(make([]byte, 16))
	if n != 0 || (err != io.EOF && !isReset(err)) {
		t.Fatalf("read = %d, %v; want the connection closed", n, err)
	}
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset") }

func listenCfg(addr string) string {
	return "global\n log stdout format raw local0 info\ndefaults\n timeout client 1s\n timeout server 1s\n timeout connect 1s\nfrontend demo\n bind " + addr + "\n"
}

func TestRunAndSignals(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		logs string
	}{{syscall.SIGUSR1, "Proxy demo stopped."}, {syscall.SIGTERM, ""}, {syscall.SIGINT, ""}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			pidfile := filepath.Join(t.TempDir(), "pid")
			p := start(t, listenCfg(addr), "-p", pidfile)
			waitListen(t, "tcp", addr)
			expectClosed(t, "tcp", addr)
			data, err := os.ReadFile(pidfile)
			if err != nil || strings.TrimSpace(string(data)) != strconv.Itoa(p.cmd.Process.Pid) {
				t.Fatalf("pidfile = %q, %v; want %d", data, err, p.cmd.Process.Pid)
			}
			p.cmd.Process.Signal(tc.sig)
			if code := p.waitExit(t); code != 0 {
				t.Fatalf("exit %d after %v; output:\n%s", code, tc.sig, p.out)
			}
			if !strings.Contains(p.out.String(), tc.logs) {
				t.Errorf("output lacks %q:\n%s", tc.logs, p.out)
			}
			if _, err := net.Dial("tcp", addr); err == nil {
				t.Errorf("still listening after %v", tc.sig)
			}
		})
	}
}

// A new instance started with -sf takes over the port and the old one exits.
func TestSoftStopOld(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	old := start(t, listenCfg(addr))
	waitListen(t, "tcp", addr)
	nu := start(t, listenCfg(addr), "-sf", strconv.Itoa(old.cmd.Process.Pid))
	if code := old.waitExit(t); code != 0 {
		t.Fatalf("old instance exit %d:\n%s", code, old.out)
	}
	expectClosed(t, "tcp", addr)
	nu.cmd.Process.Signal(syscall.SIGTERM)
	nu.waitExit(t)
}

func TestDaemon(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	pidfile := filepath.Join(t.TempDir(), "pid")
	cfg := "global\n daemon\n" + listenCfg(addr)[len("global\n"):]
	p := start(t, cfg, "-p", pidfile)
	if code := p.waitExit(t); code != 0 {
		t.Fatalf("daemon parent exit %d:\n%s", code, p.out)
	}
	data, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if pid == 0 || pid == p.cmd.Process.Pid {
		t.Fatalf("pidfile names %d; want the daemon child, not the parent %d", pid, p.cmd.Process.Pid)
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	expectClosed(t, "tcp", addr)
	syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Fatal("daemon still listening after SIGTERM")
	}
}

// fd@N: a socket inherited already listening (systemd socket activation).
func TestInheritedFD(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	path := writeCfg(t, listenCfg("fd@3"))
	out := &syncBuf{}
	cmd := exec.Command(sluiceBin(t), "-f", path)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	expectClosed(t, "tcp", addr)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, out)
	}
}

func TestUnixSocketBind(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	p := start(t, listenCfg("unix@"+sock))
	waitListen(t, "unix", sock)
	expectClosed(t, "unix", sock)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.waitExit(t)
}

func TestBindFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // no SO_REUSEPORT: Sluice cannot share it
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := start(t, listenCfg(ln.Addr().String()))
	if code := p.waitExit(t); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if out := p.out.String(); !strings.Contains(out, "[ALERT]") || !strings.Contains(out, "Starting frontend demo: cannot bind socket") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestNoListenerAtStart(t *testing.T) {
	p := start(t, "backend b\n")
	if code := p.waitExit(t); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(p.out.String(), "No enabled listener found (check for 'bind' directives) ! Exiting.") {
		t.Fatalf("output:\n%s", p.out)
	}
}

// Log lines reach a UDP syslog receiver in rfc3164 form, tagged with the
// program's name by default, as HAProxy tags them with argv[0].
func TestSyslogUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := "global\n log " + pc.LocalAddr().String() + " local0 info\n" + listenCfg(addr)[len("global\n log stdout format raw local0 info\n"):]
	p := start(t, cfg)
	waitListen(t, "tcp", addr)
	p.cmd.Process.Signal(syscall.SIGUSR1)
	pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no syslog datagram: %v; output:\n%s", err, p.out)
	}
	line := string(buf[:n])
	// local0 (16) * 8 + warning (4) = 132; rfc3164 without a host name.
	want := fmt.Sprintf("sluice[%d]: Proxy demo stopped.\n", p.cmd.Process.Pid)
	if !strings.HasPrefix(line, "<132>") || !strings.HasSuffix(line, want) {
		t.Fatalf("datagram = %q, want <132>Mmm dd hh:mm:ss ...%q", line, want)
	}
	if code := p.waitExit(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// As root, `user`/`group` drop privileges and `chroot` confines the
// process once the sockets are bound.
func TestPrivilegeDrop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	root := t.TempDir()
	os.Chmod(root, 0o755)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := "global\n user nobody\n group nogroup\n chroot " + root + "\n" + listenCfg(addr)[len("global\n log stdout format raw local0 info\n"):]
	p := start(t, cfg)
	waitListen(t, "tcp", addr)
	pid := strconv.Itoa(p.cmd.Process.Pid)
	deadline := time.Now().Add(10 * time.Second)
	var status string
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile("/proc/" + pid + "/status")
		status = string(b)
		if strings.Contains(status, "Uid:\t65534\t65534\t65534\t65534") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(status, "Uid:\t65534\t65534\t65534\t65534") || !strings.Contains(status, "Gid:\t65534\t65534\t65534\t65534") {
		t.Fatalf("ids not dropped:\n%s", status)
	}
	if link, err := os.Readlink("/proc/" + pid + "/root"); err != nil || link != root {
		t.Fatalf("root = %q, %v; want %q", link, err, root)
	}
	expectClosed(t, "tcp", addr)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.out)
	}
}

// -st stops the old instance at once (SIGTERM) once the new one listens.
func TestHardStopOld(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	old := start(t, listenCfg(addr))
	waitListen(t, "tcp", addr)
	nu := start(t, listenCfg(addr), "-st", strconv.Itoa(old.cmd.Process.Pid))
	if code := old.waitExit(t); code != 0 {
		t.Fatalf("old instance exit %d:\n%s", code, old.out)
	}
	expectClosed(t, "tcp", addr)
	nu.cmd.Process.Signal(syscall.SIGTERM)
	nu.waitExit(t)
}

// During a soft stop with a connection still open, a second SIGUSR1 changes
// nothing and SIGTERM still stops the process; SIGHUP never kills it.
func TestSignalsDuringSoftStop(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0") // a server that never answers
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		for {
			c, err := held.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			accepted <- struct{}{}
		}
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := "defaults\n mode tcp\n timeout client 30s\n timeout server 30s\n timeout connect 1s\nlisten l\n bind " + addr + "\n server s " + held.Addr().String() + "\n"
	p := start(t, cfg)
	waitListen(t, "tcp", addr)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Signal only once Sluice has taken the connection through to the
	// server: before that it may still sit in the listen backlog, which a
	// soft stop discards.
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection never reached the server")
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.cmd.Process.Signal(syscall.SIGUSR1)
	p.cmd.Process.Signal(syscall.SIGUSR1)
	select {
	case <-p.done:
		p.done <- nil
		t.Fatalf("exited during a soft stop with a live connection:\n%s", p.out)
	case <-time.After(300 * time.Millisecond):
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.out)
	}
}

// heldServer accepts connections, greets each with "hi", and keeps them
// open until the client half-closes.
func heldServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hi"))
			conns = append(conns, c)
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func relayCfg(addr, server, global string) string {
	return "global\n" + global + "defaults\n mode tcp\n timeout client 30s\n timeout server 30s\n timeout connect 1s\nlisten l\n bind " + addr + "\n server s " + server + "\n"
}

// greeted reports whether the relayed server's greeting arrives within d.
func greeted(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	b := make([]byte, 2)
	_, err := io.ReadFull(c, b)
	return err == nil && string(b) == "hi"
}

// hard-stop-after bounds a soft stop: a connection that never ends does not
// keep the process alive past it.
func TestHardStopAfter(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := start(t, relayCfg(addr, heldServer(t), " hard-stop-after 300ms\n"))
	waitListen(t, "tcp", addr)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !greeted(c, 5*time.Second) {
		t.Fatal("connection not relayed")
	}
	p.cmd.Process.Signal(syscall.SIGUSR1)
	if code := p.waitExit(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.out)
	}
}

// -n sets the global maxconn: with 1, a second connection waits in the
// kernel backlog until the first one ends, as in HAProxy.
func TestGlobalMaxconnFlag(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := start(t, relayCfg(addr, heldServer(t), ""), "-n", "1")
	waitListen(t, "tcp", addr) // this probe briefly takes the only slot
	c1, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if !greeted(c1, 5*time.Second) {
		t.Fatal("first connection not relayed")
	}
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if greeted(c2, 300*time.Millisecond) {
		t.Fatal("second connection relayed while the only slot was taken")
	}
	c1.Close()
	if !greeted(c2, 5*time.Second) {
		t.Fatal("second connection not relayed after the first ended")
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.waitExit(t)
}

func TestMain(m *testing.M) {
	code := m.Run()
	testkit.RemoveSluiceBinary()
	os.Exit(code)
}
