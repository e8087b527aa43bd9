package engine

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sluice/internal/logsink"
)

// messages collects what the engine prints on stderr ([WARNING] and
// [ALERT] lines).
type messages struct {
	mu    sync.Mutex
	lines []string
}

func newMessages() *messages { return &messages{} }

func (m *messages) add(format string, a ...any) {
	l := fmt.Sprintf(format, a...)
	m.mu.Lock()
	m.lines = append(m.lines, l)
	m.mu.Unlock()
}

// wait returns the first message so far matching re, waiting up to d for
// one. Checks of different servers run concurrently, so the order of
// their messages is not asserted.
func (m *messages) wait(t *testing.T, re string, d time.Duration) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for {
		m.mu.Lock()
		for _, l := range m.lines {
			if rx.MatchString(l) {
				m.mu.Unlock()
				return l
			}
		}
		all := strings.Join(m.lines, "\n")
		m.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no message matching %q in %v; got:\n%s", re, d, all)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startChecked starts an engine whose stderr messages go to the returned
// collector; logs go to rx when given.
func startChecked(t *testing.T, cfg string, rx *syslogRx) (*Engine, *messages) {
	t.Helper()
	m := newMessages()
	opt := Options{Warn: m.add, Alert: m.add}
	if rx != nil {
		c := loadCfg(t, "global\n log "+rx.pc.LocalAddr().String()+" local0 info\n"+cfg)
		sink, err := logsink.Open([]logsink.Target{c.Global.Logs[0].Target}, logsink.Options{Tag: "sluice"})
		if err != nil {
			t.Fatal(err)
		}
		opt.Log = sink
		e, err := Start(c, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.HardStop(); e.Wait(5 * time.Second); e.Close(); sink.Close() })
		return e, m
	}
	e, err := Start(loadCfg(t, cfg), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.HardStop(); e.Wait(5 * time.Second); e.Close() })
	return e, m
}

// switchable is a name server on a fixed address that can be stopped and
// started again, as a server that goes away and comes back.
type switchable struct {
	addr string
	name string
	mu   sync.Mutex
	srv  *nameServer
}

func newSwitchable(t *testing.T, name string) *switchable {
	s := &switchable{addr: freeAddr(t), name: name}
	s.start(t)
	t.Cleanup(s.stop)
	return s
}

func (s *switchable) start(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	ns := &nameServer{ln: ln, name: s.name}
	ns.wg.Add(1)
	go func() {
		defer ns.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ns.wg.Add(1)
			go func() {
				defer ns.wg.Done()
				defer c.Close()
				io.WriteString(c, s.name+":")
				io.Copy(c, c)
			}()
		}
	}()
	s.srv = ns
}

func (s *switchable) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.ln.Close()
		s.srv.wg.Wait()
		s.srv = nil
	}
}

// Stopping one of three servers under a client loop: once the server is
// marked DOWN no new connection fails, the others take the traffic, and
// the server gets traffic again when it comes back.
func TestFailoverUnderLoad(t *testing.T) {
	a, b, c := newSwitchable(t, "a"), newSwitchable(t, "b"), newSwitchable(t, "c")
	front := freeAddr(t)
	_, m := startChecked(t, fmt.Sprintf(tcpDefaults+"listen l\n bind %s\n option redispatch\n default-server check inter 100ms fall 2 rise 2\n server a %s\n server b %s\n server c %s\n",
		front, a.addr, b.addr, c.addr), nil)

	type outcome struct {
		at   time.Time
		name string // "" for a failed connection
	}
	var mu sync.Mutex
	var results []outcome
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				name := ""
				if conn, err := net.DialTimeout("tcp", front, time.Second); err == nil {
					conn.SetDeadline(time.Now().Add(5 * time.Second))
					io.WriteString(conn, "x")
					conn.(*net.TCPConn).CloseWrite()
					reply, _ := io.ReadAll(conn)
					conn.Close()
					if r := string(reply); strings.HasSuffix(r, ":x") {
						name = strings.TrimSuffix(r, ":x")
					}
				}
				mu.Lock()
				results = append(results, outcome{start, name})
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	b.stop()
	m.wait(t, `^Server l/b is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 2 active and 0 backup servers left\. \d+ sessions active, 0 requeued, 0 remaining in queue\.$`, 5*time.Second)
	downAt := time.Now()
	time.Sleep(400 * time.Millisecond)
	backAt := time.Now() // from here b may take connections again
	b.start(t)
	m.wait(t, `^Server l/b is UP, reason: Layer4 check passed, check duration: \d+ms\. 3 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue\.$`, 5*time.Second)
	upAt := time.Now()
	time.Sleep(400 * time.Millisecond)
	close(stop)
	wg.Wait()

	seen := map[string]int{}
	seenAfterUp := map[string]int{}
	for _, r := range results {
		switch {
		case r.at.After(downAt) && r.at.Before(backAt):
			if r.name == "" {
				t.Errorf("a connection at %v (after the DOWN) failed", r.at.Sub(downAt))
			}
			seen[r.name]++
		case r.at.After(upAt):
			seenAfterUp[r.name]++
		}
	}
	if seen["b"] != 0 || seen["a"] == 0 || seen["c"] == 0 {
		t.Errorf("while b was down: %v", seen)
	}
	if seenAfterUp["b"] == 0 {
		t.Errorf("b got no traffic after it came back: %v", seenAfterUp)
	}
}

// The reference's active/passive pair: the backup takes over when the
// primary is down and gives the traffic back when it returns; with
// on-marked-up shutdown-backup-sessions the backup's connections are
// closed then, logged U-, and with on-marked-down shutdown-sessions the
// primary's are closed when it goes down, logged D-.
func TestActiveBackupFailover(t *testing.T) {
	rx := startSyslog(t)
	primary, backup := newSwitchable(t, "primary"), newSwitchable(t, "backup")
	checkPort := newSwitchable(t, "check") // the primary's health, apart from its data port
	front := freeAddr(t)
	_, m := startChecked(t, fmt.Sprintf(tcpDefaults+" log global\n option tcplog\nlisten mysql\n bind %s\n"+
		" server primary %s check port %s inter 100ms rise 1 fall 1 on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions\n"+
		" server backup %s check inter 100ms backup\n", front, primary.addr, portOf(checkPort.addr), backup.addr), rx)

	hold := func() (net.Conn, string) {
		c, err := net.Dial("tcp", front)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "hi")
		b := make([]byte, 64)
		n, _ := io.ReadAtLeast(c, b, 3)
		return c, strings.Split(string(b[:n]), ":")[0]
	}
	c1, name := hold()
	if name != "primary" {
		t.Fatalf("first connection went to %q", name)
	}
	checkPort.stop()
	m.wait(t, `^Server mysql/primary is DOWN, .*0 active and 1 backup servers left\. Running on backup\. 1 sessions active, 0 requeued, 0 remaining in queue\.$`, 5*time.Second)
	// The primary's connection was shut down with the server.
	if _, err := io.ReadAll(c1); err != nil && !isClosedErr(err) {
		t.Fatalf("primary's client: %v", err)
	}
	c1.Close()
	if line := rx.waitFor(t, " mysql mysql/primary "); !strings.Contains(line, " D- ") {
		t.Fatalf("killed session logged %q, want termination D-", line)
	}
	c2, name := hold()
	if name != "backup" {
		t.Fatalf("during failover a connection went to %q", name)
	}
	checkPort.start(t)
	m.wait(t, `^Server mysql/primary is UP, reason: Layer4 check passed, check duration: \d+ms\. 1 active and 1 backup servers online\. 0 sessions requeued, 0 total in queue\.$`, 5*time.Second)
	io.ReadAll(c2)
	c2.Close()
	if line := rx.waitFor(t, " mysql mysql/backup "); !strings.Contains(line, " U- ") {
		t.Fatalf("backup session logged %q, want termination U-", line)
	}
	c3, name := hold()
	c3.Close()
	if name != "primary" {
		t.Fatalf("after recovery a connection went to %q", name)
	}
}

func isClosedErr(err error) bool {
	return strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "closed")
}

// waitFor returns the next log line containing s.
func (r *syslogRx) waitFor(t *testing.T, s string) string {
	t.Helper()
	for {
		if l := r.next(t); strings.Contains(l, s) {
			return l
		}
	}
}

// With no usable server a client is closed at once, logged <NOSRV> SC,
// and the backend's loss is told in HAProxy's words.
func TestNoServerAvailable(t *testing.T) {
	rx := startSyslog(t)
	front := freeAddr(t)
	dead := freeAddr(t)
	_, m := startChecked(t, fmt.Sprintf(tcpDefaults+" log global\n option tcplog\nfrontend fe\n bind %s\n default_backend be\nbackend be\n server s %s check inter 100ms\n", front, dead), rx)
	m.wait(t, `^Server be/s is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 0 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.$`, 5*time.Second)
	m.wait(t, `^backend 'be' has no server available!$`, time.Second)
	if l := rx.waitFor(t, "has no server available"); !strings.HasPrefix(l, "<128>") || !strings.Contains(l, "backend be has no server available!") {
		t.Fatalf("log line %q, want an emergency 'backend be has no server available!'", l)
	}
	start := time.Now()
	if got := talk(t, front, 0, "hello"); got != "" {
		t.Fatalf("client got %q", got)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("the client was not closed at once")
	}
	if l := rx.waitFor(t, " fe be/"); !strings.Contains(l, " fe be/<NOSRV> -1/-1/") || !strings.Contains(l, " SC ") {
		t.Fatalf("log line %q", l)
	}
}

// tcp-check against a real redis-server: PING/PONG passes; once redis is
// gone the server is marked down with the step that failed.
func TestRedisTCPCheck(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", portOf(addr), "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	front := freeAddr(t)
	_, m := startChecked(t, fmt.Sprintf(tcpDefaults+"listen redis\n bind %s\n option tcp-check\n option log-health-checks\n"+
		" tcp-check send PING\\r\\n\n tcp-check expect string +PONG\n server r1 %s check inter 100ms rise 1 fall 1\n"+
		"backend rc\n option redis-check\n option log-health-checks\n server r1 %s check inter 100ms rise 1 fall 1\n", front, addr, addr), nil)
	m.wait(t, `^Health check for server rc/r1 succeeded, reason: Layer7 check passed, code: 0, info: "Redis server is ok", check duration: \d+ms, status: 1/1 UP\.$`, 5*time.Second)
	m.wait(t, `^Health check for server redis/r1 succeeded, reason: Layer7 check passed, code: 0, info: "\(tcp-check\)", check duration: \d+ms, status: 1/1 UP\.$`, 5*time.Second)
	cmd.Process.Kill()
	cmd.Wait()
	m.wait(t, `^Health check for server redis/r1 failed, reason: Layer4 connection problem, info: "Connection refused at initial connection step of tcp-check", check duration: \d+ms, status: 0/1 DOWN\.$`, 5*time.Second)
	m.wait(t, `^Server redis/r1 is DOWN\. 0 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.$`, time.Second)
}

// An HTTP health endpoint switched to failing takes its server down with
// the status and reason phrase, and back up when it answers 200 again.
// A server that never answers times out as Layer7 timeout.
func TestHTTPCheckSwitch(t *testing.T) {
	var status atomic.Int64
	status.Store(200)
	var reqs atomic.Value
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Store(r.Method + " " + r.URL.Path + " " + r.Host)
		w.WriteHeader(int(status.Load()))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	mute := holdServer(t, "mute")
	_, m := startChecked(t, fmt.Sprintf(tcpDefaults+"backend web\n option httpchk GET /health HTTP/1.1\n http-check send hdr Host app.local\n"+
		" server w1 %s check inter 100ms rise 2 fall 2\n server w2 %s check inter 150ms\n", ln.Addr(), mute), nil)
	m.wait(t, `^Server web/w2 is DOWN, reason: Layer7 timeout, check duration: \d+ms\. 1 active and 0 backup servers left\.`, 5*time.Second)
	if r := reqs.Load(); r != "GET /health app.local" {
		t.Fatalf("check request %v", r)
	}
	status.Store(503)
	m.wait(t, `^Server web/w1 is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: \d+ms\. 0 active and 0 backup servers left\.`, 5*time.Second)
	status.Store(200)
	m.wait(t, `^Server web/w1 is UP, reason: Layer7 check passed, code: 200, check duration: \d+ms\. 1 active and 0 backup servers online\.`, 5*time.Second)
}

// An agent's replies drive its server: down with a reason, up, drain
// (no new connections), ready.
func TestAgentCheck(t *testing.T) {
	var reply atomic.Value
	reply.Store("up\n")
	agent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Close() })
	go func() {
		for {
			c, err := agent.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, reply.Load().(string))
			c.Close()
		}
	}()
	s1, s2 := startNameServer(t, "s1"), startNameServer(t, "s2")
	front := freeAddr(t)
	_, m := startChecked(t, fmt.Sprintf(tcpDefaults+"listen l\n bind %s\n server s1 %s agent-check agent-port %s agent-inter 100ms\n server s2 %s\n",
		front, s1.addr(), portOf(agent.Addr().String()), s2.addr()), nil)
	time.Sleep(250 * time.Millisecond)
	reply.Store("down #going away\n")
	m.wait(t, `^Server l/s1 is DOWN, reason: Layer7 wrong status, code: 0, info: "via agent : down \(going away\)", check duration: \d+ms\. 1 active and 0 backup servers left\.`, 5*time.Second)
	for i := 0; i < 3; i++ {
		if got := exchange(t, front, "m"); got != "s2:m" {
			t.Fatalf("while s1 is down: %q", got)
		}
	}
	reply.Store("up\n")
	m.wait(t, `^Server l/s1 is UP, reason: Layer7 check passed, code: 0, info: "via agent : up", check duration: \d+ms\. 2 active and 0 backup servers online\.`, 5*time.Second)
	reply.Store("drain\n")
	m.wait(t, `^Server l/s1 enters drain state\. 1 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue\.$`, 5*time.Second)
	for i := 0; i < 3; i++ {
		if got := exchange(t, front, "m"); got != "s2:m" {
			t.Fatalf("while s1 drains: %q", got)
		}
	}
	reply.Store("ready\n")
	m.wait(t, `^Server l/s1 is UP \(leaving forced drain\)\.$`, 5*time.Second)
	reply.Store("maint\n")
	m.wait(t, `^Server l/s1 is going DOWN for maintenance\. 1 active and 0 backup servers left\.`, 5*time.Second)
	reply.Store("ready\n")
	m.wait(t, `^Server l/s1 is UP/READY \(leaving forced maintenance\)\.$`, 5*time.Second)
}

// observe layer4: connection errors from real traffic mark a server down
// once error-limit is reached, while its checks (on another port) pass.
func TestObserveLayer4(t *testing.T) {
	checkPort := startNameServer(t, "c")
	dead := freeAddr(t)
	front := freeAddr(t)
	_, m := startChecked(t, fmt.Sprintf(tcpDefaults+" retries 0\nlisten md\n bind %s\n server s1 %s check port %s inter 10s observe layer4 error-limit 2 on-error mark-down\n",
		front, dead, portOf(checkPort.addr())), nil)
	talk(t, front, 0, "a")
	talk(t, front, 0, "b")
	m.wait(t, `^Server md/s1 is DOWN, reason: Health analyze, info: "Detected 2 consecutive errors, last one was: L4 unsuccessful connection"\. 0 active and 0 backup servers left\.`, 5*time.Second)
}

// A thousand checked servers cost a short-lived goroutine per check in
// progress, not one per server, and stopping leaves nothing behind. With
// inter 60s the first checks are spread over a minute: during the first
// second only a few are due, so a goroutine per server would show.
func TestManyChecksStayCheap(t *testing.T) {
	// A server that accepts and closes from one goroutine, so that the
	// count below is the checks' own.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	defer ln.Close()
	before := runtime.NumGoroutine()
	var sb strings.Builder
	sb.WriteString(tcpDefaults + "backend many\n default-server check inter 60s\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sb, " server s%d %s\n", i, ln.Addr())
	}
	e, err := Start(loadCfg(t, sb.String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	peak := 0
	for i := 0; i < 20; i++ {
		peak = max(peak, runtime.NumGoroutine()-before)
		time.Sleep(50 * time.Millisecond)
	}
	if peak > 100 {
		t.Errorf("%d goroutines for 1000 servers' checks", peak)
	}
	e.HardStop()
	e.Wait(5 * time.Second)
	e.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before, %d after stop", before, n)
	}
}

// slowstart: a server coming back ramps its weight in sixteenths a second
// and says so again, bare, when the ramp is over.
func TestSlowstart(t *testing.T) {
	s1 := newSwitchable(t, "s1")
	s2 := startNameServer(t, "s2")
	e, m := startChecked(t, fmt.Sprintf(tcpDefaults+"backend be\n server s1 %s check inter 100ms rise 1 fall 1 weight 100 slowstart 2s\n server s2 %s weight 100\n", s1.addr, s2.addr()), nil)
	s1.stop()
	m.wait(t, `^Server be/s1 is DOWN,`, 5*time.Second)
	s1.start(t)
	m.wait(t, `^Server be/s1 is UP, reason: Layer4 check passed`, 5*time.Second)
	b := e.backendList[0]
	weight := func() int {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.servers[0].lb.Weight
	}
	// (16*0 + 2)/2 = 1 sixteenth: ceil(100/16) = 7.
	if w := weight(); w != 7 {
		t.Fatalf("weight right after recovery %d, want 7", w)
	}
	m.wait(t, `^Server be/s1 is UP\. 2 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue\.$`, 5*time.Second)
	if w := weight(); w != 100 {
		t.Fatalf("weight after slowstart %d, want 100", w)
	}
}
