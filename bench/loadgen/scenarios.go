package loadgen

import (
	"fmt"
	"io"
	"net"
	"time"
)

// Exchange keeps opt.Conns persistent connections each doing ping-pong:
// write opt.Size bytes, read the opt.Size-byte echo, again, as fast as
// the round trip allows. Ops counts exchanges; CPUPerOp is the proxy's
// CPU per exchange. Workers allocate nothing per exchange.
func Exchange(opt Options) (Result, error) {
	res := Result{Scenario: "exchange"}
	conns, err := dialAll(opt.Addr, opt.Conns, ModeEcho, opt.Size)
	if err != nil {
		closeAll(conns)
		return res, err
	}
	r := newRun(opt, len(conns))
	for i, c := range conns {
		r.wg.Add(1)
		go r.pingPong(c, &r.counts[i])
	}
	err = r.window(&res)
	if herr := r.halt(conns); err == nil {
		err = herr
	}
	r.finish(&res)
	res.Rate = float64(res.Ops) / res.Secs
	res.CPUPerOp = perOp(res.ProxyCPU, res.Ops)
	return res, err
}

func (r *run) pingPong(c *net.TCPConn, n *counter) {
	defer r.wg.Done()
	msg := message(ModeEcho, r.opt.Size)
	reply := make([]byte, len(msg))
	for !r.stop.Load() {
		if _, err := c.Write(msg); err != nil {
			r.fail(err)
			return
		}
		if _, err := io.ReadFull(c, reply); err != nil {
			r.fail(err)
			return
		}
		n.n.Add(1)
	}
}

// Connect runs opt.Conns workers that each loop on: connect, write
// opt.Size bytes, read the echo, close. Ops counts completed connections;
// CPUPerOp is the proxy's CPU per connection (accept, connect to the
// server, relay one exchange, both closes). The dial itself allocates, as
// Go's net package does; messages and buffers are reused.
func Connect(opt Options) (Result, error) {
	res := Result{Scenario: "connect"}
	raddr, err := net.ResolveTCPAddr("tcp", opt.Addr)
	if err != nil {
		return res, err
	}
	r := newRun(opt, opt.Conns)
	for i := range opt.Conns {
		r.wg.Add(1)
		go r.connectLoop(raddr, &r.counts[i])
	}
	err = r.window(&res)
	if herr := r.halt(nil); err == nil {
		err = herr
	}
	r.finish(&res)
	res.Rate = float64(res.Ops) / res.Secs
	res.CPUPerOp = perOp(res.ProxyCPU, res.Ops)
	return res, err
}

func (r *run) connectLoop(raddr *net.TCPAddr, n *counter) {
	defer r.wg.Done()
	msg := message(ModeEcho, r.opt.Size)
	reply := make([]byte, len(msg))
	for !r.stop.Load() {
		c, err := openConn(raddr, ModeEcho, msg, reply)
		if err != nil {
			r.fail(err)
			// A refused or reset connection is counted, not fatal: go on
			// after a pause so a failing proxy does not spin the tool.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c.Close()
		n.n.Add(1)
	}
}

// Bulk streams through opt.Conns connections for opt.Duration: mode
// ModeDownload (server to client), ModeUpload (client to server) or
// ModeBoth (both directions at once, each counted). Bytes counts what
// the client wrote or read in the window, Rate is bytes per second and
// CPUPerGB the proxy's CPU milliseconds per 10^9 bytes relayed.
func Bulk(opt Options, mode Mode) (Result, error) {
	res := Result{Scenario: "bulk-" + bulkName(mode)}
	conns, err := dialAll(opt.Addr, opt.Conns, mode, 0)
	if err != nil {
		closeAll(conns)
		return res, err
	}
	r := newRun(opt, 2*len(conns))
	for i, c := range conns {
		if mode == ModeUpload || mode == ModeBoth {
			r.wg.Add(1)
			go r.pour(c, &r.counts[2*i])
		}
		if mode == ModeDownload || mode == ModeBoth {
			r.wg.Add(1)
			go r.drain(c, &r.counts[2*i+1])
		}
	}
	err = r.window(&res)
	if herr := r.halt(conns); err == nil {
		err = herr
	}
	r.finish(&res)
	res.Bytes, res.Ops = res.Ops, 0
	res.Rate = float64(res.Bytes) / res.Secs
	if res.Bytes > 0 {
		res.CPUPerGB = res.ProxyCPU * 1e3 / (float64(res.Bytes) / 1e9)
	}
	return res, err
}

func bulkName(m Mode) string {
	switch m {
	case ModeUpload:
		return "up"
	case ModeBoth:
		return "both"
	}
	return "down"
}

// ParseBulkMode maps "down", "up" and "both" to their Mode.
func ParseBulkMode(s string) (Mode, error) {
	for _, m := range []Mode{ModeDownload, ModeUpload, ModeBoth} {
		if bulkName(m) == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("bulk direction %q: want down, up or both", s)
}

func (r *run) pour(c *net.TCPConn, n *counter) {
	defer r.wg.Done()
	buf := make([]byte, bulkBuf)
	for !r.stop.Load() {
		w, err := c.Write(buf)
		n.n.Add(int64(w))
		if err != nil {
			r.fail(err)
			return
		}
	}
}

func (r *run) drain(c *net.TCPConn, n *counter) {
	defer r.wg.Done()
	buf := make([]byte, bulkBuf)
	for !r.stop.Load() {
		m, err := c.Read(buf)
		n.n.Add(int64(m))
		if err != nil {
			r.fail(err)
			return
		}
	}
}

// Idle opens opt.Conns connections through the proxy, each completing one
// echo exchange so that both of the proxy's sockets exist, then leaves
// them idle and compares the proxy's resident memory and descriptor count
// with the values before the first one. The kernel's slab memory (the
// whole machine's: every socket, and the proxy's pipes if it has any) is
// compared too. If the proxy stops taking connections before opt.Conns,
// the figures are per connection that did open and the error is recorded.
// hold, if not nil, is called with the result while the connections are
// still open.
func Idle(opt Options, hold func(Result)) (Result, error) {
	return idle(opt, "idle", func(n int) ([]*net.TCPConn, error) {
		return dialAll(opt.Addr, n, ModeEcho, opt.Size)
	}, hold)
}

// idle measures what opt.Conns connections opened by open cost the
// proxy while they are idle: see Idle.
func idle(opt Options, scenario string, open func(n int) ([]*net.TCPConn, error), hold func(Result)) (Result, error) {
	res := Result{Scenario: scenario, Label: opt.Label, Conns: opt.Conns}
	if opt.PID == 0 {
		return res, fmt.Errorf("%s needs the proxy's pid", scenario)
	}
	// One connection first, so lazy one-time set-up is not charged to
	// the connections measured; then wait for the proxy to let it go.
	warm, err := open(1)
	closeAll(warm)
	if err != nil {
		return res, err
	}
	fds0, err := stableFDs(opt.PID)
	if err != nil {
		return res, err
	}
	slab0, _ := Slab()
	if res.RSSBefore, err = ProcRSS(opt.PID); err != nil {
		return res, err
	}
	conns, derr := open(opt.Conns)
	defer closeAll(conns)
	if len(conns) == 0 {
		return res, derr
	}
	if derr != nil {
		res.Errors, res.FirstErr = 1, derr.Error()
		res.Conns = len(conns)
	}
	if res.RSSAfter, err = stableRSS(opt.PID); err != nil {
		return res, err
	}
	fds1, err := ProcFDs(opt.PID)
	if err != nil {
		return res, err
	}
	slab1, _ := Slab()
	n := float64(len(conns))
	res.KiBPerConn = float64(res.RSSAfter-res.RSSBefore) / n
	res.FDsPerConn = float64(fds1-fds0) / n
	if slab0 > 0 && slab1 > 0 {
		res.SlabPerConn = float64(slab1-slab0) / n
	}
	if hold != nil {
		hold(res)
	}
	return res, nil
}

// stableFDs polls the proxy's descriptor count every 50ms until it has
// not changed for 200ms, or 5s pass.
func stableFDs(pid int) (int, error) {
	prev, err := ProcFDs(pid)
	same := 0
	deadline := time.Now().Add(5 * time.Second)
	for err == nil && same < 4 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		var cur int
		if cur, err = ProcFDs(pid); cur == prev {
			same++
		} else {
			same = 0
		}
		prev = cur
	}
	return prev, err
}

// stableRSS reads VmRSS every 100ms until two readings in a row agree
// within 0.5%, or 3s pass, and returns the last reading.
func stableRSS(pid int) (int64, error) {
	prev, err := ProcRSS(pid)
	deadline := time.Now().Add(3 * time.Second)
	for err == nil && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		var cur int64
		if cur, err = ProcRSS(pid); err != nil {
			break
		}
		if d := cur - prev; d*200 <= cur && -d*200 <= cur {
			return cur, nil
		}
		prev = cur
	}
	return prev, err
}

// perOp is CPU seconds per operation in microseconds.
func perOp(cpu float64, ops int64) float64 {
	if ops == 0 {
		return 0
	}
	return cpu * 1e6 / float64(ops)
}
