package logsink

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var testClock = fixedClock(time.Date(2026, time.November, 23, 10, 55, 53, 418875000, time.UTC))

func TestNilSinkIsNoop(t *testing.T) {
	var s *Sink
	s.Log(LevelInfo, []byte("x"))
	s.LogTag(LevelInfo, "t", []byte("x"))
	s.Logf(LevelInfo, "%d", 1)
	if s.Enabled(LevelEmerg) || s.Dropped() != 0 || s.Close() != nil {
		t.Fatal("nil sink must be a no-op")
	}
}

func TestNoTargets(t *testing.T) {
	s := mustOpen(t, nil, Options{})
	if s.Enabled(LevelEmerg) {
		t.Error("a sink without targets accepts nothing")
	}
	s.Log(LevelEmerg, []byte("x"))
}

// One datagram per line, each ending in LF, as HAProxy sends them.
func TestUDPOneDatagramPerLine(t *testing.T) {
	rcv := newUDPReceiver(t)
	s := mustOpen(t, []Target{mustParse(t, rcv.addr(), "format", "raw", "local0")}, Options{Now: testClock})
	for i := range 20 {
		s.Logf(LevelInfo, "line %d", i)
	}
	for i := range 20 {
		if got, want := rcv.next(), fmt.Sprintf("line %d\n", i); got != want {
			t.Fatalf("got %q want %q", got, want)
		}
	}
}

func TestLevelFilterAndMinLevel(t *testing.T) {
	rcv := newUDPReceiver(t)
	s := mustOpen(t, []Target{mustParse(t, rcv.addr(), "format", "short", "local0", "notice", "err")}, Options{Now: testClock})
	s.Log(LevelInfo, []byte("info is above notice: skipped"))
	s.Log(LevelDebug, []byte("debug: skipped"))
	s.Log(LevelNotice, []byte("notice"))
	s.Log(LevelEmerg, []byte("emerg is clamped to err"))
	s.Log(-1, []byte("invalid level: ignored"))
	s.Log(8, []byte("invalid level: ignored"))
	for _, want := range []string{"<5>notice\n", "<3>emerg is clamped to err\n"} {
		if got := rcv.next(); got != want {
			t.Errorf("got %q want %q", got, want)
		}
	}
	if !s.Enabled(LevelNotice) || s.Enabled(LevelInfo) {
		t.Error("Enabled must follow the most verbose target")
	}
}

// Header and message are cut to len bytes; the LF is always added.
func TestTruncation(t *testing.T) {
	rcv := newUDPReceiver(t)
	s := mustOpen(t, []Target{
		mustParse(t, rcv.addr(), "len", "80", "format", "raw", "local0"),
		mustParse(t, rcv.addr(), "len", "80", "format", "rfc5424", "local0"),
	}, Options{Now: testClock, Tag: strings.Repeat("t", 100), PID: 1})
	long := strings.Repeat("abcdefghij", 20)
	s.Log(LevelInfo, []byte(long))
	got := []string{rcv.next(), rcv.next()}
	want := map[string]bool{
		long[:80] + "\n": true,
		("<134>1 2026-11-23T10:55:53.418875+00:00 - " + strings.Repeat("t", 100))[:80] + "\n": true,
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("unexpected %q", g)
		}
	}
	// Long lines pass whole up to the maximum len (on an fd: a UDP
	// datagram cannot carry 64 KiB, in HAProxy either).
	addr, pipe := newPipeTarget(t)
	s2 := mustOpen(t, []Target{mustParse(t, addr, "len", "65535", "format", "raw", "local0")}, Options{})
	huge := strings.Repeat("x", 65534)
	s2.Log(LevelInfo, []byte(huge+"tail\n\x00"))
	if g := readLine(t, pipe); g != huge+"\n" {
		t.Errorf("65535-byte line: got %d bytes", len(g))
	}
}

// "sample 1-2,4:5" sends lines 1,2,4 of every 5, as observed on haproxy.
func TestSampling(t *testing.T) {
	rcv := newUDPReceiver(t)
	s := mustOpen(t, []Target{mustParse(t, rcv.addr(), "format", "raw", "sample", "1-2,4:5", "local0", "info")}, Options{})
	s.Log(LevelDebug, []byte("filtered lines do not count"))
	for i := 1; i <= 11; i++ {
		s.Logf(LevelInfo, "%d", i)
	}
	for _, want := range []string{"1", "2", "4", "6", "7", "9", "11"} {
		if got := rcv.next(); got != want+"\n" {
			t.Fatalf("got %q want %q", got, want)
		}
	}
}

func TestLogTagAndUnixgram(t *testing.T) {
	conn, path := newUnixReceiver(t)
	s := mustOpen(t, []Target{mustParse(t, "unix@"+path, "local0")}, Options{Tag: "global", PID: 7, Now: testClock})
	s.LogTag(LevelInfo, "fe_web", []byte("proxy line"))
	s.Log(LevelInfo, []byte("global line"))
	for _, want := range []string{
		"<134>Nov 23 10:55:53 fe_web[7]: proxy line\n",
		"<134>Nov 23 10:55:53 global[7]: global line\n",
	} {
		if got := recvDatagram(t, conn); got != want {
			t.Errorf("got %q want %q", got, want)
		}
	}
}

// A missing unix socket is not an Open error (HAProxy starts too): lines
// are dropped, OnError hears HAProxy's alert once, and once the daemon
// creates its socket the next line gets through.
func TestUnixMissingThenCreated(t *testing.T) {
	path := t.TempDir() + "/late.sock"
	var mu sync.Mutex
	var errs []string
	s := mustOpen(t, []Target{mustParse(t, path, "format", "raw", "local0")}, Options{OnError: func(err error) {
		mu.Lock()
		errs = append(errs, err.Error())
		mu.Unlock()
	}})
	s.Log(LevelInfo, []byte("lost"))
	s.Log(LevelInfo, []byte("lost too"))
	waitFor(t, "drops", func() bool { return s.Dropped() == 2 })
	mu.Lock()
	if len(errs) != 1 || errs[0] != "sendmsg()/writev() failed in logger #1: No such file or directory (errno=2)" {
		t.Errorf("OnError got %q", errs)
	}
	mu.Unlock()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s.Log(LevelInfo, []byte("delivered"))
	if got := recvDatagram(t, conn); got != "delivered\n" {
		t.Errorf("got %q", got)
	}
}

// Nobody reads the socket: the writer blocks, the queue fills, and Log
// keeps returning at once while counting drops. Close still finishes.
func TestBlockedSinkNeverBlocksLog(t *testing.T) {
	_, path := newUnixReceiver(t) // bound, never read
	before := runtime.NumGoroutine()
	s, err := Open([]Target{mustParse(t, path, "format", "raw", "local0")},
		Options{QueueLen: 8, CloseTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("x", 1000))
	const n = 5000
	start := time.Now()
	var slowest time.Duration
	for range n {
		t0 := time.Now()
		s.Log(LevelInfo, line)
		slowest = max(slowest, time.Since(t0))
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("%d Log calls took %v", n, elapsed)
	}
	t.Logf("slowest Log call: %v, dropped %d of %d", slowest, s.Dropped(), n)
	if s.Dropped() == 0 {
		t.Fatal("a blocked target must drop lines")
	}
	closeStart := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(closeStart); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	waitFor(t, "writer goroutines to stop", func() bool { return runtime.NumGoroutine() <= before })
	s.Log(LevelInfo, line) // after Close: ignored, not counted
	dropped := s.Dropped()
	s.Log(LevelInfo, line)
	if s.Dropped() != dropped {
		t.Error("lines after Close must be ignored")
	}
}

func TestCloseFlushesAndStopsGoroutines(t *testing.T) {
	rcv := newUDPReceiver(t)
	uconn, upath := newUnixReceiver(t)
	fdAddr, pipe := newPipeTarget(t)
	before := runtime.NumGoroutine()
	s, err := Open([]Target{
		mustParse(t, rcv.addr(), "format", "raw", "local0"),
		mustParse(t, upath, "format", "raw", "local0"),
		mustParse(t, fdAddr, "format", "raw", "local0"),
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// One writer per target. (Counting goroutines here would be racy:
	// other tests' goroutines may end meanwhile.)
	if len(s.writers) != 3 {
		t.Errorf("expected one writer per target, got %d", len(s.writers))
	}
	for i := range 5 {
		s.Logf(LevelInfo, "flush %d", i)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	waitFor(t, "goroutines to stop", func() bool { return runtime.NumGoroutine() <= before })
	for i := range 5 {
		want := fmt.Sprintf("flush %d\n", i)
		if got := rcv.next(); got != want {
			t.Errorf("udp: got %q want %q", got, want)
		}
		if got := recvDatagram(t, uconn); got != want {
			t.Errorf("unix: got %q want %q", got, want)
		}
		if got := readLine(t, pipe); got != want {
			t.Errorf("fd: got %q want %q", got, want)
		}
	}
	if s.Dropped() != 0 {
		t.Errorf("dropped %d", s.Dropped())
	}
}

func TestOpenErrors(t *testing.T) {
	const fd = 987654 // not open in this process
	before := runtime.NumGoroutine()
	bad := []Target{
		{Addr: fmt.Sprintf("fd@%d", fd), Level: LevelDebug},
		{Addr: "127.0.0.1", MaxLen: 10},
		{Addr: "127.0.0.1", Facility: 24},
		{Addr: "127.0.0.1", Level: 8},
		{Addr: "127.0.0.1", Format: 99},
		{Addr: "127.0.0.1", Sample: []SampleRange{{1, 3}}, SampleSize: 2},
		{Addr: "nope.invalid"},
	}
	for _, tg := range bad {
		good := NewTarget("127.0.0.1:9", 16)
		s, err := Open([]Target{good, tg}, Options{})
		if err == nil {
			s.Close()
			t.Errorf("%+v: accepted", tg)
			continue
		}
		if !strings.HasPrefix(err.Error(), "log target #2 '"+tg.Addr+"': ") {
			t.Errorf("error lacks context: %v", err)
		}
	}
	// The resolver may still be finishing its lookup of nope.invalid.
	waitFor(t, "no goroutines left by failed Opens", func() bool { return runtime.NumGoroutine() <= before })
	_, err := Open([]Target{NewTarget(fmt.Sprintf("fd@%d", fd), 0)}, Options{})
	if err == nil || !errors.Is(err, syscall.EBADF) {
		t.Errorf("closed fd: %v", err)
	}
}

func TestConcurrentLog(t *testing.T) {
	rcv := newUDPReceiver(t)
	s := mustOpen(t, []Target{mustParse(t, rcv.addr(), "local0")}, Options{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				s.Logf(LevelInfo, "g%d i%d", g, i)
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// Log must not allocate once the buffer pool is warm: it runs on the
// proxy's data path for every connection.
func TestLogDoesNotAllocate(t *testing.T) {
	rcv := newUDPReceiver(t) // never read: the kernel drops the excess
	s := mustOpen(t, []Target{
		mustParse(t, rcv.addr(), "local0"),
		mustParse(t, rcv.addr(), "format", "rfc5424", "local0"),
	}, Options{Tag: "haproxy", Hostname: "h", Now: testClock})
	msg := []byte(tcpMsg)
	// Steady state: the writers keep up. AllocsPerRun runs on one P, so
	// yield after each line to let them send it and recycle its buffer.
	logAndYield := func() {
		s.Log(LevelInfo, msg)
		runtime.Gosched()
	}
	for range 100 {
		logAndYield()
	}
	// A writer the machine leaves unscheduled for a while (other test
	// packages run beside this one) keeps its buffers: Log takes new
	// ones until it catches up, and a loaded machine has kept one off
	// its CPU for a whole measurement. Steady state is what is
	// asserted, so a run gets ten chances, each after a pause for the
	// writers to catch up; a Log that allocates fails all ten.
	var a float64
	for range 10 {
		if a = testing.AllocsPerRun(1000, logAndYield); a == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("Log allocates %.2f times per call", a)
}

func BenchmarkLog(b *testing.B) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, format := range []string{"rfc3164", "rfc5424", "raw"} {
		b.Run(format, func(b *testing.B) {
			tg, err := ParseTarget([]string{c.LocalAddr().String(), "format", format, "local0"})
			if err != nil {
				b.Fatal(err)
			}
			s, err := Open([]Target{tg}, Options{Tag: "haproxy"})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			msg := []byte(tcpMsg)
			b.ReportAllocs()
			for b.Loop() {
				s.Log(LevelInfo, msg)
			}
		})
	}
}
