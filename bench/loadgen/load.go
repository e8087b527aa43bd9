package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure one measured scenario.
type Options struct {
	Addr     string        // the proxy's address, host:port
	Conns    int           // connections (exchange, bulk, idle) or workers (connect)
	Duration time.Duration // length of the measured window
	Warmup   time.Duration // traffic before the window opens
	Size     int           // request and reply size of exchange and connect
	PID      int           // the proxy process to measure; 0 measures nothing
	Label    string        // the proxy's name, copied into the Result
}

// Result is one scenario's measurement. CPU and memory figures are the
// proxy process's; ClientCPU is this load tool's own, to show whether it
// was the bottleneck.
type Result struct {
	Label     string  `json:"proxy"`
	Scenario  string  `json:"scenario"`
	Conns     int     `json:"conns"`
	Secs      float64 `json:"secs,omitempty"`       // measured window
	Ops       int64   `json:"ops,omitempty"`        // exchanges or connections in the window
	Bytes     int64   `json:"bytes,omitempty"`      // bytes relayed in the window (bulk)
	Rate      float64 `json:"rate,omitempty"`       // ops/s, or bytes/s for bulk
	ProxyCPU  float64 `json:"proxy_cpu_s"`          // proxy CPU seconds in the window
	ProxyLoad float64 `json:"proxy_load,omitempty"` // ProxyCPU / Secs: cores kept busy
	ClientCPU float64 `json:"client_cpu_s"`         // load tool CPU seconds in the window
	CPUPerOp  float64 `json:"cpu_us_per_op,omitempty"`
	CPUPerGB  float64 `json:"cpu_ms_per_gb,omitempty"`

	RSSBefore  int64   `json:"rss_before_kib,omitempty"` // idle: VmRSS before opening
	RSSAfter   int64   `json:"rss_after_kib,omitempty"`  // idle: VmRSS with every connection open
	KiBPerConn float64 `json:"kib_per_conn,omitempty"`
	FDsPerConn float64 `json:"fds_per_conn,omitempty"`
	// SlabPerConn is the machine's kernel slab growth per connection:
	// the sockets of client, proxy and backend, plus whatever else the
	// proxy holds in the kernel. Only differences between proxies mean
	// something, and only on a quiet machine.
	SlabPerConn float64 `json:"slab_kib_per_conn,omitempty"`

	// Latency (http-latency): the rate asked for and the percentiles of
	// the requests completed in the window, in microseconds.
	TargetRate float64 `json:"target_rate,omitempty"`
	P50        float64 `json:"p50_us,omitempty"`
	P99        float64 `json:"p99_us,omitempty"`
	P999       float64 `json:"p999_us,omitempty"`
	MaxLat     float64 `json:"max_us,omitempty"`

	Errors   int64  `json:"errors"`
	FirstErr string `json:"first_error,omitempty"`
}

// counter is one worker's tally, alone on its cache line so workers
// never share one.
type counter struct {
	n atomic.Int64
	_ [56]byte
}

// run is the state one scenario's workers share.
type run struct {
	opt    Options
	counts []counter
	stop   atomic.Bool
	// measuring is set while the window is open.
	measuring atomic.Bool
	wg        sync.WaitGroup
	errs      atomic.Int64
	mu        sync.Mutex
	first     error
}

func newRun(opt Options, counters int) *run {
	return &run{opt: opt, counts: make([]counter, counters)}
}

// fail records a worker error; errors caused by stopping do not count.
func (r *run) fail(err error) {
	if r.stop.Load() {
		return
	}
	r.errs.Add(1)
	r.mu.Lock()
	if r.first == nil {
		r.first = err
	}
	r.mu.Unlock()
}

func (r *run) total() int64 {
	var t int64
	for i := range r.counts {
		t += r.counts[i].n.Load()
	}
	return t
}

// window lets the warm-up pass, then measures the counters, the proxy's
// CPU time and ours over opt.Duration.
func (r *run) window(res *Result) error {
	time.Sleep(r.opt.Warmup)
	r.measuring.Store(true)
	defer r.measuring.Store(false)
	n0, self0, t0 := r.total(), SelfCPU(), time.Now()
	cpu0, err := r.proxyCPU()
	if err != nil {
		return err
	}
	time.Sleep(r.opt.Duration)
	n1, self1, t1 := r.total(), SelfCPU(), time.Now()
	cpu1, err := r.proxyCPU()
	if err != nil {
		return err
	}
	res.Secs = t1.Sub(t0).Seconds()
	res.ProxyCPU = (cpu1 - cpu0).Seconds()
	res.ProxyLoad = res.ProxyCPU / res.Secs
	res.ClientCPU = (self1 - self0).Seconds()
	res.Ops = n1 - n0
	return nil
}

func (r *run) proxyCPU() (time.Duration, error) {
	if r.opt.PID == 0 {
		return 0, nil
	}
	return ProcCPU(r.opt.PID)
}

// halt stops the workers: it raises the stop flag, expires every
// connection's deadline so blocked reads and writes return, and waits.
func (r *run) halt(conns []*net.TCPConn) error {
	r.stop.Store(true)
	for _, c := range conns {
		c.SetDeadline(time.Unix(1, 0))
	}
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	select {
	case <-done:
		return nil
	case <-time.After(15 * time.Second):
		return errors.New("workers still blocked 15s after the window closed")
	}
}

func (r *run) finish(res *Result) {
	res.Label, res.Conns = r.opt.Label, r.opt.Conns
	res.Errors = r.errs.Load()
	if r.first != nil {
		res.FirstErr = r.first.Error()
	}
}

// dialAll opens n connections to addr, each starting with mode: an
// echo connection also completes one exchange, so the whole path through
// the proxy is established when it returns. On failure it returns the
// connections that did open with the first error; the caller owns both.
func dialAll(addr string, n int, mode Mode, size int) ([]*net.TCPConn, error) {
	raddr, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, err
	}
	conns := make([]*net.TCPConn, n)
	msg := message(mode, size)
	first := parallel(n, func(i int) error {
		c, err := openConn(raddr, mode, msg, make([]byte, max(size, 1)))
		conns[i] = c
		return err
	})
	opened := conns[:0]
	for _, c := range conns {
		if c != nil {
			opened = append(opened, c)
		}
	}
	return opened, first
}

// parallel runs open(i) for i in [0, n) from 8 goroutines. A goroutine
// stops at its first error, so a proxy that stops taking connections does
// not get hammered; the first error is returned, with its index.
func parallel(n int, open func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range min(n, 8) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := open(i); err != nil {
					mu.Lock()
					first = cmpErr(first, fmt.Errorf("connection %d: %w", i, err))
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// closeAll closes every connection of conns.
func closeAll(conns []*net.TCPConn) {
	for _, c := range conns {
		c.Close()
	}
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func openConn(raddr *net.TCPAddr, mode Mode, msg, reply []byte) (*net.TCPConn, error) {
	c, err := net.DialTCP("tcp", nil, raddr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err = c.Write(msg); err == nil && mode == ModeEcho {
		_, err = io.ReadFull(c, reply)
	}
	c.SetDeadline(time.Time{})
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// message is an echo request: the mode byte then filler; a streaming
// connection's opening message is the mode byte alone.
func message(mode Mode, size int) []byte {
	if mode != ModeEcho {
		return []byte{byte(mode)}
	}
	m := make([]byte, max(size, 1))
	for i := range m {
		m[i] = 'x'
	}
	m[0] = byte(mode)
	return m
}

// WaitListening polls addr until it accepts a connection or timeout
// passes.
func WaitListening(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not accepting after %v: %w", addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
