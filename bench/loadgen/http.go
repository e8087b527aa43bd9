package loadgen

import (
	"fmt"
	"net"
	"slices"
	"time"
)

// HTTPKeepAlive keeps opt.Conns keep-alive connections, each sending
// RequestKeepAlive and reading the response, again and again, as fast as
// the round trip allows (closed loop). Ops counts responses; CPUPerOp is
// the proxy's CPU per request. Workers allocate nothing per request.
func HTTPKeepAlive(opt Options) (Result, error) {
	res := Result{Scenario: "http-keepalive"}
	conns, err := dialHTTP(opt.Addr, opt.Conns)
	if err != nil {
		closeAll(tcpConns(conns))
		return res, err
	}
	r := newRun(opt, len(conns))
	req := []byte(RequestKeepAlive)
	for i, c := range conns {
		r.wg.Add(1)
		go r.keepAlive(c, req, &r.counts[i])
	}
	err = r.window(&res)
	if herr := r.halt(tcpConns(conns)); err == nil {
		err = herr
	}
	r.finish(&res)
	res.Rate = float64(res.Ops) / res.Secs
	res.CPUPerOp = perOp(res.ProxyCPU, res.Ops)
	return res, err
}

func (r *run) keepAlive(h *httpConn, req []byte, n *counter) {
	defer r.wg.Done()
	for !r.stop.Load() {
		if err := h.roundTrip(req); err != nil {
			r.fail(err)
			return
		}
		n.n.Add(1)
	}
}

// HTTPClose runs opt.Conns workers that each loop on: connect, send
// RequestClose, read the response, close. Ops counts responses; CPUPerOp
// is the proxy's CPU per request, its accept and close included (and,
// with http-reuse safe, its connection to the server: a first request
// never goes over another client's server connection).
func HTTPClose(opt Options) (Result, error) {
	res := Result{Scenario: "http-close"}
	raddr, err := net.ResolveTCPAddr("tcp", opt.Addr)
	if err != nil {
		return res, err
	}
	r := newRun(opt, opt.Conns)
	req := []byte(RequestClose)
	for i := range opt.Conns {
		r.wg.Add(1)
		go r.closeLoop(raddr, req, &r.counts[i])
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

func (r *run) closeLoop(raddr *net.TCPAddr, req []byte, n *counter) {
	defer r.wg.Done()
	h := newHTTPConn(nil)
	for !r.stop.Load() {
		c, err := net.DialTCP("tcp", nil, raddr)
		if err == nil {
			h.c, h.r, h.w = c, 0, 0
			c.SetDeadline(time.Now().Add(10 * time.Second))
			err = h.roundTrip(req)
			c.Close()
		}
		if err != nil {
			r.fail(err)
			// Counted, not fatal: go on after a pause so that a failing
			// proxy does not spin the tool.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		n.n.Add(1)
	}
}

// HTTPLatency sends RequestKeepAlive at a fixed total rate (requests per
// second) over opt.Conns keep-alive connections, whatever the responses
// do (open loop): connection i sends at t0 + (i + k*Conns)/rate for k = 0,
// 1, 2... It reports the latency percentiles of the requests completed in
// the window, in microseconds.
//
// A request's latency counts from when it was sent, or from when it was
// due when the previous response on its connection came too late for it
// to leave on time: a proxy that stalls is charged for the requests that
// queued behind the stall (no coordinated omission), while the client's
// own timer wake-ups, which are late by up to a millisecond whatever the
// proxy, are not.
func HTTPLatency(opt Options, rate float64) (Result, error) {
	res := Result{Scenario: "http-latency", TargetRate: rate}
	if rate <= 0 {
		return res, fmt.Errorf("latency needs a positive rate, not %v", rate)
	}
	conns, err := dialHTTP(opt.Addr, opt.Conns)
	if err != nil {
		closeAll(tcpConns(conns))
		return res, err
	}
	r := newRun(opt, len(conns))
	req := []byte(RequestKeepAlive)
	n := len(conns)
	every := time.Duration(float64(n) / rate * float64(time.Second))
	// Room for the window's samples and some more, so that recording
	// does not allocate while it runs.
	perConn := int(rate/float64(n)*(opt.Duration.Seconds()+1)*1.2) + 16
	lats := make([][]time.Duration, n)
	t0 := time.Now().Add(10 * time.Millisecond)
	for i, c := range conns {
		lats[i] = make([]time.Duration, 0, perConn)
		first := t0.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		r.wg.Add(1)
		go r.paced(c, req, first, every, &lats[i], &r.counts[i])
	}
	err = r.window(&res)
	if herr := r.halt(tcpConns(conns)); err == nil {
		err = herr
	}
	r.finish(&res)
	res.Rate = float64(res.Ops) / res.Secs
	res.CPUPerOp = perOp(res.ProxyCPU, res.Ops)
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	res.P50, res.P99, res.P999, res.MaxLat = percentiles(all)
	return res, err
}

func (r *run) paced(h *httpConn, req []byte, due time.Time, every time.Duration, lats *[]time.Duration, n *counter) {
	defer r.wg.Done()
	for !r.stop.Load() {
		start := due
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
			start = time.Now()
		}
		if err := h.roundTrip(req); err != nil {
			r.fail(err)
			return
		}
		if r.measuring.Load() {
			*lats = append(*lats, time.Since(start))
		}
		n.n.Add(1)
		due = due.Add(every)
	}
}

// percentiles returns the 50th, 99th and 99.9th percentiles and the
// maximum of lats, in microseconds (nearest rank).
func percentiles(lats []time.Duration) (p50, p99, p999, maxLat float64) {
	if len(lats) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(lats)
	at := func(q float64) float64 {
		i := int(q*float64(len(lats))+0.999999) - 1
		i = min(max(i, 0), len(lats)-1)
		return float64(lats[i]) / 1e3
	}
	return at(0.50), at(0.99), at(0.999), float64(lats[len(lats)-1]) / 1e3
}

// HTTPIdle opens opt.Conns keep-alive connections through the proxy, each
// completing one request, then leaves them idle and measures the proxy's
// resident memory and descriptors per connection, as Idle does. With
// keep-alive to the server, a proxy may also keep the server connection
// each of them used: that is part of what an idle client costs it.
func HTTPIdle(opt Options, hold func(Result)) (Result, error) {
	return idle(opt, "http-idle", func(n int) ([]*net.TCPConn, error) {
		conns, err := dialHTTP(opt.Addr, n)
		return tcpConns(conns), err
	}, hold)
}
