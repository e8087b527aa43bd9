package difftest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// The health-check differential runs the same configuration (only ports
// differ) under haproxy and Sluice, each against its own set of real
// backends on 127.0.0.1, applies the same sequence of faults to those
// backends and compares what both print on stderr about servers: state
// changes, log-health-checks lines, "no server available" alerts, drain
// and maintenance. Checks of different servers run concurrently, so only
// each server's own sequence of messages is compared, not the global
// interleaving. The bytes each backend received from the checks are
// compared too.
//
// Steps wait for messages rather than sleeping wherever a fault has a
// visible consequence, so the sequences do not depend on timing; the
// check durations, which do, are normalised away.

// hcScenario is one configuration and its fault sequence.
type hcScenario struct {
	name string
	// fakes are the backends the test starts, by name: kind is one of
	// tcp, redis, http, smtp, pgsql, mysql, agent, capture, redis-server.
	fakes map[string]string
	// start gives initial modes ("name=mode"); the others start "ok".
	start []string
	// body follows the global and defaults sections. %[name] is a fake's
	// address, %PORT[name] its port, %BIND a free address to listen on
	// and %LHC the log-health-checks line of the variant.
	body string
	// lhc runs the scenario twice: without and with option
	// log-health-checks (placed where %LHC is).
	lhc   bool
	steps []hcStep
}

// hcStep changes backends' modes, then connects clients, then waits.
type hcStep struct {
	set     []string      // "name=mode"
	clients int           // connections to %BIND, one after the other
	wait    []string      // each must appear on stderr once more than before the step
	sleep   time.Duration // for steps with no visible consequence
	// lhcWait lines must have appeared at least once, in the
	// log-health-checks variant only: there the first checks' successes
	// are logged, and a proxy slow to start must have made them before
	// the next step changes what its checks find.
	lhcWait []string
}

func set(kv ...string) []string        { return kv }
func wait(s ...string) []string        { return s }
func waitFor(s string) []string        { return []string{s} }
func sleepStep(d time.Duration) hcStep { return hcStep{sleep: d} }

// startupStep lets the first checks of the servers named (be/srv, or
// "backup be/srv") pass before the faults begin: it sleeps d, and in the
// log-health-checks variant waits for each success to be logged.
func startupStep(d time.Duration, servers ...string) hcStep {
	st := hcStep{sleep: d}
	for _, sv := range servers {
		st.lhcWait = append(st.lhcWait, "Health check for "+strings.Replace("server "+sv, "server backup ", "backup server ", 1)+" succeeded")
	}
	return st
}

var hcScenarios = []hcScenario{
	{
		name:  "plain check: refused at start, rise, fall",
		fakes: map[string]string{"a": "tcp", "b": "tcp"},
		start: set("a=refuse"),
		lhc:   true,
		body: `backend be%LHC
 default-server inter 100ms rise 2 fall 3
 server s1 %[a] check
 server s2 %[b] check
`,
		steps: []hcStep{
			{wait: waitFor("Server be/s1 is DOWN")},
			{set: set("a=ok"), wait: waitFor("Server be/s1 is UP")},
			{set: set("a=refuse"), wait: waitFor("Server be/s1 is DOWN")},
		},
	},
	{
		name:  "backup failover",
		fakes: map[string]string{"a1": "tcp", "a2": "tcp", "b1": "tcp"},
		lhc:   true,
		body: `backend be%LHC
 default-server inter 100ms rise 2 fall 2
 server a1 %[a1] check
 server a2 %[a2] check
 server b1 %[b1] check backup
`,
		steps: []hcStep{
			startupStep(500*time.Millisecond, "be/a1", "be/a2", "backup be/b1"),
			{set: set("a1=refuse"), wait: waitFor("Server be/a1 is DOWN")},
			{set: set("a2=refuse"), wait: waitFor("Server be/a2 is DOWN")},
			{set: set("b1=refuse"), wait: waitFor("has no server available")},
			{set: set("b1=ok"), wait: waitFor("Backup Server be/b1 is UP")},
			{set: set("a1=ok"), wait: waitFor("Server be/a1 is UP")},
		},
	},
	{
		name:  "no server available: backend and listen",
		fakes: map[string]string{"a": "tcp", "b": "tcp"},
		body: `backend be
 server s1 %[a] check inter 100ms
listen li
 bind %BIND
 server s1 %[b] check inter 100ms
`,
		steps: []hcStep{
			sleepStep(400 * time.Millisecond),
			{set: set("a=refuse", "b=refuse"), wait: wait("backend 'be' has no server available", "proxy 'li' has no server available")},
			{set: set("a=ok", "b=ok"), wait: wait("Server be/s1 is UP", "Server li/s1 is UP")},
		},
	},
	{
		name:  "tcp-check send and expect string",
		fakes: map[string]string{"r": "redis"},
		lhc:   true,
		body: `backend tc%LHC
 option tcp-check
 tcp-check send PING\r\n
 tcp-check expect string +PONG
 server s1 %[r] check inter 200ms rise 1 fall 1
`,
		steps: []hcStep{
			startupStep(500*time.Millisecond, "tc/s1"),
			{set: set("r=err"), wait: waitFor("Server tc/s1 is DOWN")},
			{set: set("r=ok"), wait: waitFor("Server tc/s1 is UP")},
			{set: set("r=hang"), wait: waitFor("Server tc/s1 is DOWN")},
			{set: set("r=ok"), wait: waitFor("Server tc/s1 is UP")},
			{set: set("r=wrong"), wait: waitFor("Server tc/s1 is DOWN")},
			{set: set("r=ok"), wait: waitFor("Server tc/s1 is UP")},
			{set: set("r=refuse"), wait: waitFor("Server tc/s1 is DOWN")},
		},
	},
	{
		name:  "tcp-check comments and connect port steps",
		fakes: map[string]string{"r": "redis", "x": "tcp", "dead": "tcp"},
		start: set("dead=refuse"),
		lhc:   true,
		body: `backend tc%LHC
 option tcp-check
 tcp-check comment "redis ping"
 tcp-check connect port %PORT[r]
 tcp-check send PING\r\n
 tcp-check expect string +PONG comment "want pong"
 tcp-check connect port %PORT[x] comment "second conn"
 server s1 %[dead] check inter 200ms rise 1 fall 1
`,
		steps: []hcStep{
			startupStep(500*time.Millisecond, "tc/s1"),
			{set: set("x=refuse"), wait: waitFor("Server tc/s1 is DOWN")},
			{set: set("x=ok"), wait: waitFor("Server tc/s1 is UP")},
			{set: set("r=err"), wait: waitFor("Server tc/s1 is DOWN")},
			{set: set("r=ok"), wait: waitFor("Server tc/s1 is UP")},
			{set: set("r=hang"), wait: waitFor("Server tc/s1 is DOWN")},
			{set: set("r=ok"), wait: waitFor("Server tc/s1 is UP")},
			{set: set("r=refuse"), wait: waitFor("Server tc/s1 is DOWN")},
		},
	},
	{
		name:  "httpchk and http-check expect",
		fakes: map[string]string{"h1": "http", "h2": "http", "h3": "http", "h4": "http"},
		lhc:   true,
		body: `defaults hc
 mode tcp
 timeout connect 1s
 timeout client 5s
 timeout server 5s
 timeout check 2s
 default-server inter 200ms rise 1 fall 1%LHC
backend dflt from hc
 option httpchk
 server s1 %[h1] check
backend get11 from hc
 option httpchk GET /health HTTP/1.1
 http-check send hdr Host x
 http-check expect status 200
 server s1 %[h2] check
backend str from hc
 option httpchk GET /health
 http-check expect string OK
 server s1 %[h3] check
backend notstr from hc
 option httpchk GET /health
 http-check expect ! string maintenance
 server s1 %[h4] check
`,
		steps: []hcStep{
			startupStep(500*time.Millisecond, "dflt/s1", "get11/s1", "str/s1", "notstr/s1"),
			{set: set("h1=503", "h2=503", "h3=503", "h4=503"), wait: wait("Server dflt/s1 is DOWN", "Server get11/s1 is DOWN", "Server str/s1 is DOWN", "Server notstr/s1 is DOWN")},
			{set: set("h1=ok", "h2=ok", "h3=ok", "h4=ok"), wait: wait("Server dflt/s1 is UP", "Server get11/s1 is UP", "Server str/s1 is UP", "Server notstr/s1 is UP")},
			{set: set("h1=hang", "h2=hang", "h3=hang", "h4=hang"), wait: wait("Server dflt/s1 is DOWN", "Server get11/s1 is DOWN", "Server str/s1 is DOWN", "Server notstr/s1 is DOWN")},
			{set: set("h1=ok", "h2=ok", "h3=ok", "h4=ok"), wait: wait("Server dflt/s1 is UP", "Server get11/s1 is UP", "Server str/s1 is UP", "Server notstr/s1 is UP")},
			{set: set("h1=refuse", "h2=refuse", "h3=refuse", "h4=refuse"), wait: wait("Server dflt/s1 is DOWN", "Server get11/s1 is DOWN", "Server str/s1 is DOWN", "Server notstr/s1 is DOWN")},
		},
	},
	{
		name:  "protocol checks",
		fakes: map[string]string{"r": "redis", "sm": "smtp", "pg": "pgsql", "my": "mysql"},
		lhc:   true,
		body: `defaults pc
 mode tcp
 timeout connect 1s
 timeout client 5s
 timeout server 5s
 timeout check 2s
 default-server inter 200ms rise 1 fall 1%LHC
backend rd from pc
 option redis-check
 server s1 %[r] check
backend sm from pc
 option smtpchk
 server s1 %[sm] check
backend pg from pc
 option pgsql-check user postgres
 server s1 %[pg] check
backend my from pc
 option mysql-check user haproxy
 server s1 %[my] check
`,
		steps: []hcStep{
			startupStep(500*time.Millisecond, "rd/s1", "sm/s1", "pg/s1", "my/s1"),
			{set: set("r=err", "sm=err", "pg=err", "my=err"), wait: wait("Server rd/s1 is DOWN", "Server sm/s1 is DOWN", "Server pg/s1 is DOWN", "Server my/s1 is DOWN")},
			{set: set("r=ok", "sm=ok", "pg=ok", "my=ok"), wait: wait("Server rd/s1 is UP", "Server sm/s1 is UP", "Server pg/s1 is UP", "Server my/s1 is UP")},
			{set: set("r=refuse", "sm=refuse", "pg=refuse", "my=refuse"), wait: wait("Server rd/s1 is DOWN", "Server sm/s1 is DOWN", "Server pg/s1 is DOWN", "Server my/s1 is DOWN")},
		},
	},
	{
		// HAProxy's mysql-check and ldap-check functions pass the check
		// themselves and the end of the script passes it again: with rise
		// 2, one good check brings the server up.
		name:  "mysql-check and ldap-check count a success twice",
		fakes: map[string]string{"my": "mysql", "ld": "ldap"},
		lhc:   true,
		body: `defaults pc
 mode tcp
 timeout connect 1s
 timeout client 5s
 timeout server 5s
 timeout check 2s
 default-server inter 200ms rise 2 fall 1%LHC
backend my from pc
 option mysql-check
 server s1 %[my] check
backend ld from pc
 option ldap-check
 server s1 %[ld] check
`,
		steps: []hcStep{
			startupStep(500*time.Millisecond, "my/s1", "ld/s1"),
			{set: set("my=err", "ld=err"), wait: wait("Server my/s1 is DOWN", "Server ld/s1 is DOWN")},
			{set: set("my=ok", "ld=ok"), wait: wait("Server my/s1 is UP", "Server ld/s1 is UP")},
		},
	},
	{
		name:  "redis-server",
		fakes: map[string]string{"rs": "redis-server"},
		body: `backend rd
 option log-health-checks
 option redis-check
 server s1 %[rs] check inter 200ms rise 1 fall 1
backend tc
 option log-health-checks
 option tcp-check
 tcp-check send PING\r\n
 tcp-check expect string +PONG
 server s1 %[rs] check inter 200ms rise 1 fall 1
`,
		steps: []hcStep{
			{wait: wait("Health check for server rd/s1 succeeded", "Health check for server tc/s1 succeeded")},
			{set: set("rs=refuse"), wait: wait("Server rd/s1 is DOWN", "Server tc/s1 is DOWN")},
		},
	},
	{
		name:  "agent-check",
		fakes: map[string]string{"a": "tcp", "b": "tcp", "ag": "agent"},
		start: set("ag=up"),
		body: `backend be
 server s1 %[a] check inter 300ms weight 100 agent-check agent-port %PORT[ag] agent-inter 100ms
 server s2 %[b] check inter 300ms
`,
		steps: []hcStep{
			sleepStep(400 * time.Millisecond),
			{set: set("ag=down #going away"), wait: waitFor("Server be/s1 is DOWN")},
			{set: set("ag=up"), wait: waitFor("Server be/s1 is UP")},
			{set: set("ag=drain"), wait: waitFor("Server be/s1 enters drain state")},
			{set: set("ag=ready"), wait: waitFor("Server be/s1 is UP (leaving forced drain)")},
			{set: set("ag=maint"), wait: waitFor("Server be/s1 is going DOWN for maintenance")},
			{set: set("ag=ready"), wait: waitFor("Server be/s1 is UP/READY (leaving forced maintenance)")},
			{set: set("ag=50%"), sleep: 400 * time.Millisecond},
			{set: set("ag=stopped"), wait: waitFor("Server be/s1 is DOWN")},
			{set: set("ag=up"), wait: waitFor("Server be/s1 is UP")},
		},
	},
	{
		name:  "observe layer4 mark-down",
		fakes: map[string]string{"a": "tcp", "dead": "tcp"},
		start: set("dead=refuse"),
		lhc:   true,
		body: `listen md
 bind %BIND
 retries 0%LHC
 server s1 %[dead] check port %PORT[a] inter 2s fastinter 100ms downinter 200ms observe layer4 error-limit 2 on-error mark-down
`,
		steps: []hcStep{
			startupStep(300*time.Millisecond, "md/s1"),
			{clients: 2, wait: waitFor("Server md/s1 is DOWN")},
			{wait: waitFor("Server md/s1 is UP")},
		},
	},
	{
		name:  "request bytes: httpchk and PROXY headers",
		fakes: map[string]string{"c1": "capture", "c2": "capture", "c3": "capture", "c4": "capture", "c5": "capture"},
		body: `backend p2http
 option httpchk GET /h
 server s1 %[c1] check send-proxy-v2 inter 200ms
backend p2plain
 server s1 %[c2] check send-proxy-v2 inter 200ms
backend p1
 server s1 %[c3] check check-send-proxy inter 200ms
backend get11
 option httpchk GET /health HTTP/1.1
 http-check send hdr Host x
 server s1 %[c4] check inter 200ms
backend post
 option httpchk
 http-check send meth POST uri /p ver HTTP/1.1 hdr Host h hdr X-A b body "hello"
 server s1 %[c5] check inter 200ms
`,
		steps: []hcStep{sleepStep(700 * time.Millisecond)},
	},
}

func TestHealthDifferential(t *testing.T) {
	hap := haproxyPath()
	if hap == "" {
		t.Skip("haproxy not installed")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	for _, sc := range hcScenarios {
		variants := []string{""}
		if sc.lhc {
			variants = append(variants, "\n option log-health-checks")
		}
		for _, lhc := range variants {
			name := sc.name
			if lhc != "" {
				name += " (log-health-checks)"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				if slices.Contains(mapValues(sc.fakes), "redis-server") {
					if _, err := exec.LookPath("redis-server"); err != nil {
						t.Skip("redis-server not installed")
					}
				}
				runs := [2]*hcRun{newHCRun(t, hap, sc, lhc), newHCRun(t, sluiceBin, sc, lhc)}
				var wg sync.WaitGroup
				for _, r := range runs {
					wg.Add(1)
					go func() { defer wg.Done(); r.err = r.play(sc) }()
				}
				wg.Wait()
				for i, who := range []string{"haproxy", "sluice"} {
					if runs[i].err != nil {
						t.Fatalf("%s: %v\nstderr:\n%s", who, runs[i].err, runs[i].out.String())
					}
				}
				compareHealth(t, runs[0], runs[1])
			})
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// hcRun is one proxy's run of a scenario.
type hcRun struct {
	bin   string
	cfg   string
	bind  string
	lhc   bool   // the log-health-checks variant
	idle  string // the idle frontend's address
	fakes map[string]*fakeSrv
	out   testkit.SyncBuffer
	err   error
}

// newHCRun starts the fakes in their initial modes and writes the
// configuration; play runs it.
func newHCRun(t *testing.T, bin string, sc hcScenario, lhc string) *hcRun {
	r := &hcRun{bin: bin, fakes: map[string]*fakeSrv{}, bind: freeAddr(t), lhc: lhc != ""}
	for name, kind := range sc.fakes {
		f := &fakeSrv{kind: kind, addr: freeAddr(t), conns: map[net.Conn]struct{}{}, got: map[string]bool{}}
		t.Cleanup(f.stop)
		r.fakes[name] = f
	}
	init := map[string]string{}
	for _, kv := range sc.start {
		n, m, _ := strings.Cut(kv, "=")
		init[n] = m
	}
	for name, f := range r.fakes {
		m, ok := init[name]
		if !ok {
			m = "ok"
		}
		if err := f.setMode(m); err != nil {
			t.Fatal(err)
		}
	}
	body := strings.ReplaceAll(sc.body, "%LHC", lhc)
	body = strings.ReplaceAll(body, "%BIND", r.bind)
	for name, f := range r.fakes {
		_, port, _ := net.SplitHostPort(f.addr)
		body = strings.ReplaceAll(body, "%["+name+"]", f.addr)
		body = strings.ReplaceAll(body, "%PORT["+name+"]", port)
	}
	// haproxy refuses to run without a listener: give it an idle one.
	// timeout check is wider than the checks' intervals: a loaded
	// machine answering a check late must not turn it into a timeout; a
	// backend that hangs still times out, later.
	r.idle = freeAddr(t)
	r.cfg = "global\ndefaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n timeout check 2s\n" +
		"frontend idle\n bind " + r.idle + "\n" + body
	dir := t.TempDir()
	path := filepath.Join(dir, "hc.cfg")
	if err := os.WriteFile(path, []byte(r.cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r.cfg = path
	return r
}

// play runs the proxy through the scenario's steps, then lets it run a
// little longer to catch any message that should not come, and stops it.
func (r *hcRun) play(sc hcScenario) error {
	cmd := exec.Command(r.bin, "-db", "-f", r.cfg)
	cmd.Stdout, cmd.Stderr = &r.out, &r.out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		// A check under way when the proxy is killed ends with the
		// kernel's FIN, not the proxy's reset: whether one is under way
		// is chance, so what ends from now on is not recorded.
		for _, f := range r.fakes {
			f.mu.Lock()
			f.proxyGone = true
			f.mu.Unlock()
		}
		cmd.Process.Kill()
		<-exited
	}()
	// The steps start once the proxy listens: its checks start with it,
	// however long a loaded machine takes to get there.
	if !waitListening(r.idle) {
		return fmt.Errorf("never listened on %s", r.idle)
	}
	for i, st := range sc.steps {
		waits := st.wait
		if r.lhc {
			waits = append(slices.Clone(waits), st.lhcWait...)
		}
		// lhcWait's lines, at the end, may have come already: they are
		// waited for once in all. So are the first step's, which may
		// have come while the proxy was starting.
		before := make([]int, len(waits))
		for j, w := range st.wait {
			if i == 0 {
				break
			}
			before[j] = strings.Count(r.out.String(), w)
		}
		for _, kv := range st.set {
			n, m, _ := strings.Cut(kv, "=")
			if err := r.fakes[n].setMode(m); err != nil {
				return fmt.Errorf("step %d: %v", i, err)
			}
		}
		for range st.clients {
			if err := hcClient(r.bind); err != nil {
				return fmt.Errorf("step %d: client: %v", i, err)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for j, w := range waits {
			for strings.Count(r.out.String(), w) <= before[j] {
				select {
				case <-exited:
					return fmt.Errorf("step %d: exited while waiting for %q", i, w)
				case <-time.After(10 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("step %d: no %q within 10s", i, w)
				}
			}
		}
		time.Sleep(st.sleep)
	}
	time.Sleep(600 * time.Millisecond)
	return nil
}

// hcClient opens a connection through the proxy and waits for it to
// end.
func hcClient(addr string) error {
	var c net.Conn
	var err error
	for range 100 {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "hello\n")
	io.ReadAll(c) // whether the proxy closes or resets does not matter here
	return nil
}

// The normalisation: only the pid, check durations and ports differ.
var (
	hcPrefix   = regexp.MustCompile(`^\[(WARNING|ALERT|NOTICE)\]\s+\(\d+\) : (.*)$`)
	hcRelevant = regexp.MustCompile(`[Ss]erver [\w-]+/[\w-]+|has no server available`)
	hcKey      = regexp.MustCompile(`[Ss]erver ([\w-]+/[\w-]+)|(?:backend|proxy) '([^']+)' has no server`)
	hcDuration = regexp.MustCompile(`check duration: \d+ms`)
	hcPort     = regexp.MustCompile(`\b\d{4,5}\b`)
	hcProxyV1  = regexp.MustCompile(`PROXY TCP4 (\S+) (\S+) \d+ `)
)

// portNames maps the run's fake ports to their names.
func (r *hcRun) portNames() map[string]string {
	m := map[string]string{}
	for name, f := range r.fakes {
		_, port, _ := net.SplitHostPort(f.addr)
		m[port] = "<port " + name + ">"
	}
	_, port, _ := net.SplitHostPort(r.bind)
	m[port] = "<port bind>"
	return m
}

func (r *hcRun) normalise(s string) string {
	names := r.portNames()
	s = hcDuration.ReplaceAllString(s, "check duration: Nms")
	return hcPort.ReplaceAllStringFunc(s, func(p string) string {
		if n, ok := names[p]; ok {
			return n
		}
		return p
	})
}

// messages returns the normalised health messages, per server (or per
// backend for "no server available").
func (r *hcRun) messages() map[string][]string {
	out := map[string][]string{}
	for _, l := range strings.Split(r.out.String(), "\n") {
		m := hcPrefix.FindStringSubmatch(l)
		if m == nil || !hcRelevant.MatchString(m[2]) {
			continue
		}
		k := hcKey.FindStringSubmatch(m[2])
		key := k[1] + k[2]
		msg := m[1] + ": " + r.normalise(m[2])
		seq := out[key]
		// An agent repeating "drain" makes HAProxy say the server
		// "remains in forced drain mode" at every agent check: how many
		// times depends on timing only.
		if strings.Contains(msg, "remains in forced drain mode") && len(seq) > 0 && seq[len(seq)-1] == msg {
			continue
		}
		// A server process killed while a check's connection is open
		// resets it: the check fails with a socket error instead of a
		// refusal, depending only on when the kill lands.
		msg = strings.Replace(msg, `reason: Socket error, info: "Connection reset by peer"`, `reason: Layer4 connection problem, info: "Connection refused"`, 1)
		if strings.Contains(msg, "failed, reason: Layer4 connection problem") && len(seq) > 0 && seq[len(seq)-1] == msg {
			continue
		}
		if strings.Contains(msg, "failed, reason: Layer4 connection problem") && len(seq) > 1 && seq[len(seq)-2] == msg && strings.Contains(seq[len(seq)-1], " is DOWN") {
			continue // the same failure again after the DOWN it caused
		}
		out[key] = append(seq, msg)
	}
	return out
}

// received returns, per fake, the distinct non-empty byte streams its
// connections received.
func (r *hcRun) received() map[string][]string {
	out := map[string][]string{}
	for name, f := range r.fakes {
		f.mu.Lock()
		for g := range f.got {
			g = hcProxyV1.ReplaceAllString(g, "PROXY TCP4 $1 $2 <srcport> ")
			out[name] = append(out[name], r.normalise(g))
		}
		f.mu.Unlock()
		slices.Sort(out[name])
		out[name] = slices.Compact(out[name])
	}
	return out
}

func compareHealth(t *testing.T, hap, slu *hcRun) {
	t.Helper()
	hm, sm := hap.messages(), slu.messages()
	keys := map[string]bool{}
	for k := range hm {
		keys[k] = true
	}
	for k := range sm {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	for _, k := range sorted {
		t.Logf("%s:\n  %s", k, strings.Join(hm[k], "\n  "))
		if !slices.Equal(hm[k], sm[k]) {
			t.Errorf("messages about %s differ\nhaproxy:\n  %s\nsluice:\n  %s", k, strings.Join(hm[k], "\n  "), strings.Join(sm[k], "\n  "))
		}
	}
	if len(hm) == 0 && len(sm) == 0 {
		t.Logf("no health message (as expected for this scenario?)")
	}
	hr, sr := hap.received(), slu.received()
	for name := range hap.fakes {
		t.Logf("%s received %q", name, hr[name])
		if !slices.Equal(hr[name], sr[name]) {
			t.Errorf("bytes received by %s differ\nhaproxy: %q\nsluice:  %q", name, hr[name], sr[name])
		}
	}
	if t.Failed() {
		t.Logf("haproxy stderr:\n%s\nsluice stderr:\n%s", hap.out.String(), slu.out.String())
	}
}

// fakeSrv is a backend whose behaviour a test switches: "refuse" closes
// its port; the other modes depend on its kind.
type fakeSrv struct {
	kind, addr string
	mu         sync.Mutex
	mode       string
	ln         net.Listener
	conns      map[net.Conn]struct{}
	got        map[string]bool // what connections received, in full
	proc       *exec.Cmd       // redis-server
	stopped    bool
	proxyGone  bool // the proxy is being killed: got is final
	// hold is a socket bound to addr, not listening, while the fake
	// refuses: connections are refused, and no other test's listener
	// gets the port meanwhile (its checks would reach that test's fake).
	hold    int
	holding bool
}

// holdPort binds the hold socket; without it (the port still has
// connections in TIME_WAIT, say) the port is merely closed.
func (f *fakeSrv) holdPort() {
	ap, err := netip.ParseAddrPort(f.addr)
	if f.holding || err != nil || !ap.Addr().Is4() {
		return
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		syscall.Close(fd)
		return
	}
	f.hold, f.holding = fd, true
}

func (f *fakeSrv) releasePort() {
	if f.holding {
		syscall.Close(f.hold)
		f.holding = false
	}
}

func (f *fakeSrv) setMode(mode string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = mode
	if f.kind == "redis-server" {
		return f.redisMode(mode)
	}
	if mode == "refuse" {
		if f.ln != nil {
			f.ln.Close()
			f.ln = nil
		}
		var conns []net.Conn
		for c := range f.conns {
			conns = append(conns, c)
		}
		// recConn.Close takes f.mu.
		f.mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
		f.mu.Lock()
		if !f.stopped {
			f.holdPort()
		}
		return nil
	}
	if f.ln != nil {
		return nil
	}
	f.releasePort()
	var ln net.Listener
	var err error
	for range 100 {
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	f.ln = ln
	rl := &recListener{Listener: ln, f: f}
	if f.kind == "http" {
		srv := &http.Server{Handler: http.HandlerFunc(f.serveHTTP)}
		go srv.Serve(rl)
		return nil
	}
	go func() {
		for {
			c, err := rl.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return nil
}

func (f *fakeSrv) redisMode(mode string) error {
	if mode == "refuse" {
		if f.proc != nil {
			f.proc.Process.Kill()
			f.proc.Wait()
			f.proc = nil
		}
		return nil
	}
	if f.proc != nil {
		return nil
	}
	_, port, _ := net.SplitHostPort(f.addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return err
	}
	f.proc = cmd
	for range 250 {
		if c, err := net.Dial("tcp", f.addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server never listened on %s", f.addr)
}

func (f *fakeSrv) stop() {
	f.setMode("refuse")
	f.mu.Lock()
	f.stopped = true
	f.releasePort()
	f.mu.Unlock()
}

func (f *fakeSrv) currentMode() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mode
}

// recListener tracks its connections (so that "refuse" can cut them) and
// records what each received.
type recListener struct {
	net.Listener
	f *fakeSrv
}

func (l *recListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &recConn{Conn: c, f: l.f}
	l.f.mu.Lock()
	l.f.conns[rc] = struct{}{}
	l.f.mu.Unlock()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return rc, nil
}

type recConn struct {
	net.Conn
	f    *fakeSrv
	mu   sync.Mutex
	buf  bytes.Buffer
	end  string // how the peer closed, when drain saw it
	done bool
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.buf.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recConn) Close() error {
	c.mu.Lock()
	first := !c.done
	c.done = true
	got := c.buf.String()
	if got != "" {
		got += c.end
	}
	c.mu.Unlock()
	if first {
		c.f.mu.Lock()
		delete(c.f.conns, c)
		if got != "" && !c.f.proxyGone {
			c.f.got[got] = true
		}
		c.f.mu.Unlock()
	}
	return c.Conn.Close()
}

// readUntil reads until the received bytes contain s, the peer closes or
// an error.
func readUntil(c net.Conn, got *[]byte, s string) bool {
	b := make([]byte, 4096)
	for !bytes.Contains(*got, []byte(s)) {
		n, err := c.Read(b)
		*got = append(*got, b[:n]...)
		if err != nil {
			return bytes.Contains(*got, []byte(s))
		}
	}
	return true
}

// drain reads until the peer closes, and notes whether it closed
// cleanly or reset the connection (HAProxy resets, except after the
// "linger" connects of smtpchk, pgsql-check and mysql-check).
func drain(c net.Conn) {
	_, err := io.Copy(io.Discard, c)
	end := " <fin>"
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		end = " <reset>"
	case err != nil:
		end = " <" + err.Error() + ">"
	}
	if rc, ok := c.(*recConn); ok {
		rc.mu.Lock()
		rc.end = end
		rc.mu.Unlock()
	}
}

func (f *fakeSrv) serve(c net.Conn) {
	defer c.Close()
	mode := f.currentMode()
	if mode == "refuse" {
		// Accepted just before the listener closed: end it with a reset,
		// as close to a refusal as an accepted connection gets.
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		return
	}
	var got []byte
	switch f.kind + "/" + mode {
	case "tcp/wrong", "redis/wrong":
		io.WriteString(c, "garbage\r\n")
		drain(c)
	case "tcp/ok", "tcp/hang", "redis/hang":
		drain(c)
	case "redis/ok":
		for readUntil(c, &got, "PING") {
			got = got[:0]
			io.WriteString(c, "+PONG\r\n")
		}
	case "redis/err":
		if readUntil(c, &got, "PING") {
			io.WriteString(c, "-ERR unknown command\r\n")
			time.Sleep(50 * time.Millisecond)
		}
	case "smtp/ok":
		io.WriteString(c, "220 mail.example ESMTP ready\r\n")
		if readUntil(c, &got, "\r\n") {
			io.WriteString(c, "250 mail.example hello\r\n")
			got = got[:0]
			if readUntil(c, &got, "\r\n") {
				io.WriteString(c, "221 bye\r\n")
				time.Sleep(50 * time.Millisecond)
			}
		}
	case "smtp/err":
		io.WriteString(c, "554 go away\r\n")
		drain(c)
	case "pgsql/ok", "pgsql/err":
		// The StartupMessage's length comes first.
		for len(got) < 4 || len(got) < int(binary.BigEndian.Uint32(got)) {
			b := make([]byte, 512)
			n, err := c.Read(b)
			got = append(got, b[:n]...)
			if err != nil {
				return
			}
		}
		if mode == "ok" {
			c.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 0}) // AuthenticationOk
			drain(c)
			return
		}
		c.Write([]byte("E\x00\x00\x00\x20SFATAL\x00C28000\x00Mno pg_hba.conf entry\x00\x00"))
		time.Sleep(100 * time.Millisecond)
	case "mysql/ok":
		payload := []byte("\x0a5.7.99-fake\x00\x07\x00\x00\x00abcdefgh\x00\xff\xf7\x21\x02\x00\x00\x80\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00ijklmnopqrst\x00mysql_native_password\x00")
		c.Write(append([]byte{byte(len(payload)), 0, 0, 0}, payload...))
		b := make([]byte, 4096)
		if n, _ := c.Read(b); n > 0 {
			c.Write([]byte("\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00"))
			drain(c)
		}
	case "mysql/err":
		payload := append([]byte{0xff, 0x6a, 0x04}, "Host '127.0.0.1' is not allowed to connect"...)
		c.Write(append([]byte{byte(len(payload)), 0, 0, 0}, payload...))
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		drain(c) // the login, so that closing sends no reset
	case "ldap/ok", "ldap/err":
		b := make([]byte, 512)
		if n, _ := c.Read(b); n > 0 {
			code := byte(0)
			if mode == "err" {
				code = 49 // invalidCredentials
			}
			c.Write([]byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, code, 0x04, 0x00, 0x04, 0x00})
			drain(c)
		}
	case "capture/ok":
		// Read a whole HTTP request after any PROXY header, however the
		// bytes are cut into segments, or everything up to the close.
		b := make([]byte, 4096)
		for !requestComplete(got) {
			n, err := c.Read(b)
			got = append(got, b[:n]...)
			if err != nil {
				return
			}
		}
		io.WriteString(c, "HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n")
		time.Sleep(50 * time.Millisecond)
	default:
		if f.kind == "agent" {
			io.WriteString(c, mode+"\n")
			return
		}
		panic("fake " + f.kind + " has no mode " + mode)
	}
}

// requestComplete reports whether b holds a PROXY header, if any, and a
// complete HTTP request with its body.
func requestComplete(b []byte) bool {
	if sig := []byte("\r\n\r\n\x00\r\nQUIT\n"); bytes.HasPrefix(b, sig) {
		if len(b) < 16 || len(b) < 16+int(binary.BigEndian.Uint16(b[14:16])) {
			return false
		}
		b = b[16+int(binary.BigEndian.Uint16(b[14:16])):]
	} else if bytes.HasPrefix(b, []byte("PROXY ")) {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			return false
		}
		b = b[i+2:]
	}
	head, body, ok := bytes.Cut(b, []byte("\r\n\r\n"))
	if !ok {
		return false
	}
	n := 0
	for _, l := range strings.Split(string(head), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "content-length") {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return len(body) >= n
}

// serveHTTP answers every path with the mode's status: ok gives 200
// "all OK", 503 gives 503 "status: maintenance", hang never answers.
func (f *fakeSrv) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch mode := f.currentMode(); mode {
	case "hang":
		<-r.Context().Done()
	case "ok":
		io.WriteString(w, "all OK\n")
	case "refuse":
		panic(http.ErrAbortHandler) // accepted just before the listener closed
	default:
		code, _ := strconv.Atoi(mode)
		w.WriteHeader(code)
		io.WriteString(w, "status: maintenance\n")
	}
}
