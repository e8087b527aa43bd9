package l4test

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sluice/internal/config"
	"sluice/internal/engine"
	"sluice/internal/testkit"
)

// helperEnv makes the test binary act as a helper process instead of
// running tests: "gen:X" serves the generator protocol with name byte X.
const helperEnv = "L4TEST_HELPER"

func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(runHelper(h))
	}
	code := m.Run()
	testkit.RemoveSluiceBinary()
	os.Exit(code)
}

// runHelper is the helper process: it listens on 127.0.0.1, prints its
// address on stdout and serves until killed.
func runHelper(h string) int {
	name, ok := strings.CutPrefix(h, "gen:")
	if !ok || len(name) != 1 {
		fmt.Fprintf(os.Stderr, "unknown helper %q\n", h)
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr().String())
	serveGen(ln, name[0], nil, nil)
	return 0
}

// ---- programs -------------------------------------------------------------

func sluiceBin(t *testing.T) string { return testkit.SluiceBinary(t) }

// skipPeersEnv lets a developer without the external programs opt out of
// the tests that need them; without it a missing program fails the test,
// so CI never skips silently.
const skipPeersEnv = "SLUICE_SKIP_PEERS"

// needProgram finds an external program on PATH, or in one of the glob
// patterns given (for PostgreSQL's versioned directories).
func needProgram(t *testing.T, name string, globs ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, g := range globs {
		if m, _ := filepath.Glob(g); len(m) > 0 {
			return m[len(m)-1]
		}
	}
	if os.Getenv(skipPeersEnv) == "1" {
		t.Skipf("%s not found; skipped because %s=1", name, skipPeersEnv)
	}
	t.Fatalf("%s not found on PATH%s: install it (scripts/test.sh installs every program these tests need) or set %s=1 to skip the tests that need it",
		name, globHint(globs), skipPeersEnv)
	return ""
}

func globHint(globs []string) string {
	if len(globs) == 0 {
		return ""
	}
	return " nor in " + strings.Join(globs, ", ")
}

// syncBuf is a goroutine-safe buffer for a child's output.
type syncBuf = testkit.SyncBuffer

// proc is a child process that is killed when the test ends.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuf
	done chan struct{}
}

// startProc starts a program with its output captured; cleanup kills it
// (with sig, SIGKILL if nil) and waits for it.
func startProc(t *testing.T, sig os.Signal, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, out: &syncBuf{}, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	if sig == nil {
		sig = os.Kill
	}
	t.Cleanup(func() {
		cmd.Process.Signal(sig)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// startSluice writes cfg and runs `sluice -db -f cfg`. It returns once
// Sluice listens: cfg gets an extra frontend without a backend, and once
// that one completes a handshake every bind is open (Sluice opens them all
// before accepting on any). Probing a relaying bind instead would open a
// connection to a server, which the tests' servers would count.
func startSluice(t *testing.T, cfg string) *proc {
	t.Helper()
	ready := freeAddr(t)
	cfg += "frontend l4test_ready\n bind " + ready + "\n"
	path := filepath.Join(t.TempDir(), "sluice.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, syscall.SIGTERM, exec.Command(sluiceBin(t), "-db", "-f", path))
	waitListen(t, ready, p)
	return p
}

// waitListen polls until addr accepts a connection; p, when not nil, is
// the process that should listen there (its output is shown on failure).
func waitListen(t *testing.T, addr string, p *proc) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if p != nil && p.exited() {
			t.Fatalf("%s exited before listening on %s:\n%s", p.cmd.Path, addr, p.out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := ""
	if p != nil {
		out = p.out.String()
	}
	t.Fatalf("nothing listens on %s\n%s", addr, out)
}

// freePort finds a TCP port on 127.0.0.1 nobody listens on right now.
func freePort(t *testing.T) int { return testkit.FreePort(t) }

func freeAddr(t *testing.T) string { return fmt.Sprintf("127.0.0.1:%d", freePort(t)) }

// startHelper runs this test binary as a generator server process named
// name and returns it with its address.
func startHelper(t *testing.T, name byte) (*proc, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=gen:"+string(name))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := startProc(t, nil, cmd)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("helper %c printed no address: %v\n%s", name, err, p.out)
	}
	return p, strings.TrimSpace(line)
}

// ---- in-process engine ----------------------------------------------------

// startEngine loads cfg, in which every %[1]s is replaced by a free
// address, and runs it in this process; it returns that address.
func startEngine(t *testing.T, cfg string) (*engine.Engine, string) {
	t.Helper()
	e, addrs := startEngineN(t, cfg, 1)
	return e, addrs[0]
}

// startEngineN is startEngine with k addresses: %[1]s to %[k]s.
func startEngineN(t *testing.T, cfg string, k int) (*engine.Engine, []string) {
	t.Helper()
	var addrs []string
	var args []any
	for range k {
		a := freeAddr(t)
		addrs = append(addrs, a)
		args = append(args, a)
	}
	p := filepath.Join(t.TempDir(), "sluice.cfg")
	if err := os.WriteFile(p, []byte(fmt.Sprintf(cfg, args...)), 0o644); err != nil {
		t.Fatal(err)
	}
	c, ds := config.Load([]string{p}, config.Options{})
	if ds.HasAlerts() {
		t.Fatal(ds)
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
	return e, addrs
}

// ---- data -----------------------------------------------------------------

// stream is a deterministic pseudo-random byte stream: AES-CTR keyed by a
// seed. It runs in assembly, so it stays cheap under the race detector, and
// no block repeats, so a reordered, duplicated or dropped chunk shows.
type stream struct{ c cipher.Stream }

func newStream(seed uint64) *stream {
	key := make([]byte, 16)
	binary.BigEndian.PutUint64(key, seed)
	binary.BigEndian.PutUint64(key[8:], ^seed)
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	return &stream{cipher.NewCTR(b, make([]byte, aes.BlockSize))}
}

// fill overwrites p with the next len(p) bytes of the stream.
func (s *stream) fill(p []byte) {
	clear(p)
	s.c.XORKeyStream(p, p)
}

// writeStream writes n bytes of stream(seed) to w.
func writeStream(w io.Writer, seed uint64, n int64) (int64, error) {
	s := newStream(seed)
	buf := make([]byte, 64<<10)
	var done int64
	for done < n {
		b := buf[:min(int64(len(buf)), n-done)]
		s.fill(b)
		m, err := w.Write(b)
		done += int64(m)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// verifyStream reads r to its end (or max bytes) and checks every byte
// against stream(seed). It returns the bytes read and the error that ended
// the read (nil at EOF); a mismatch is reported as an error naming the
// offset.
func verifyStream(r io.Reader, seed uint64, max int64) (int64, error) {
	s := newStream(seed)
	buf := make([]byte, 64<<10)
	want := make([]byte, len(buf))
	var n int64
	for n < max {
		m, err := r.Read(buf[:min(int64(len(buf)), max-n)])
		if m > 0 {
			s.fill(want[:m])
			if !bytes.Equal(buf[:m], want[:m]) {
				i := 0
				for buf[i] == want[i] {
					i++
				}
				return n + int64(i), fmt.Errorf("data differs from what was sent at offset %d", n+int64(i))
			}
			n += int64(m)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ---- servers --------------------------------------------------------------

// echoServer echoes each connection until the client half-closes, then
// closes it. It tracks how many connections are open at once.
type echoServer struct {
	ln   net.Listener
	live atomic.Int64
	wg   sync.WaitGroup
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &echoServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.live.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer s.live.Add(-1)
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *echoServer) addr() string { return s.ln.Addr().String() }

// The generator protocol: the client sends a request
//
//	seed u64 | length u64 | cutAfter u64 | cut byte
//
// and the server answers with its one-byte name followed by length bytes
// of stream(seed), then closes. With cut 'F' (FIN) or 'R' (RST, SO_LINGER
// 0) the server instead ends the connection that way after cutAfter bytes,
// in the middle of the transfer.
const genReqLen = 25

type genReq struct {
	seed, length, cutAfter uint64
	cut                    byte
}

func (r genReq) bytes() []byte {
	b := make([]byte, genReqLen)
	binary.BigEndian.PutUint64(b, r.seed)
	binary.BigEndian.PutUint64(b[8:], r.length)
	binary.BigEndian.PutUint64(b[16:], r.cutAfter)
	b[24] = r.cut
	return b
}

// serveGen serves the generator protocol on ln until it is closed. onCut,
// when set, is called just before a connection is cut on purpose; wg, when set,
// counts the connection goroutines.
func serveGen(ln net.Listener, name byte, onCut func(genReq), wg *sync.WaitGroup) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if wg != nil {
			wg.Add(1)
		}
		go func() {
			if wg != nil {
				defer wg.Done()
			}
			defer c.Close()
			b := make([]byte, genReqLen)
			if _, err := io.ReadFull(c, b); err != nil {
				return
			}
			r := genReq{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), binary.BigEndian.Uint64(b[16:]), b[24]}
			if _, err := c.Write([]byte{name}); err != nil {
				return
			}
			n := r.length
			if r.cut != 0 {
				n = min(n, r.cutAfter)
			}
			if _, err := writeStream(c, r.seed, int64(n)); err != nil {
				return
			}
			if r.cut == 'R' {
				c.(*net.TCPConn).SetLinger(0)
			}
			if r.cut != 0 {
				if onCut != nil {
					onCut(r) // before the close, which the client may see at once
				}
				c.Close()
			}
		}()
	}
}

// startGen runs a generator server in this process.
func startGen(t *testing.T, name byte, onCut func(genReq)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); serveGen(ln, name, onCut, &wg) }()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// ---- system ---------------------------------------------------------------

// raiseNofile lifts the descriptor limit to the hard limit and fails the
// test if that still leaves fewer than need.
func raiseNofile(t *testing.T, need uint64) {
	t.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			t.Fatal(err)
		}
	}
	if rl.Cur < need {
		t.Fatalf("RLIMIT_NOFILE hard limit is %d; this test needs %d descriptors (raise it with ulimit -Hn)", rl.Cur, need)
	}
}

// fdCount is this process's open descriptors: pipes apart from the rest.
type fdCount struct{ pipes, other int }

// countFDs counts this process's open descriptors.
func countFDs(t *testing.T) fdCount {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var n fdCount
	for _, e := range ents {
		if l, _ := os.Readlink("/proc/self/fd/" + e.Name()); strings.HasPrefix(l, "pipe:") {
			n.pipes++
		} else {
			n.other++
		}
	}
	return n
}

// waitFor polls cond until it holds or d passes; it reports whether it held.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// goroutineDump returns every goroutine's stack, for leak reports.
func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// closedErr says whether err is how a peer's close shows: EOF or a reset.
func closedErr(err error) bool { return err == nil || err == io.EOF || isReset(err) }
