package listener

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"sluice/internal/tunnel"
)

// Backoff bounds after a resource-exhaustion accept error. HAProxy stops
// polling a listener for 100ms when the process runs out of descriptors or
// memory; Sluice starts lower and doubles up to that.
const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = 100 * time.Millisecond
)

// Loop is a running accept loop (see Serve).
type Loop struct {
	ln      net.Listener
	limits  []*Limiter
	handle  func(net.Conn, func())
	ctx     context.Context // canceled by Stop: aborts limiter waits
	cancel  context.CancelFunc
	stop    sync.Once
	wg      sync.WaitGroup // the accept goroutine and every handler
	errMu   sync.Mutex
	lastErr error
	rawKA   bool // accepted sockets come with Go's keep-alive on

	// Event-driven accepting (ServeEvents).
	events   bool
	watch    *tunnel.Listening
	acceptMu sync.Mutex // held around each accept, and by Stop
	acState  atomic.Int32

	work        chan net.Conn // to a goroutine waiting for its next connection
	idleWorkers atomic.Int32

	// polled, when set, accepts in place of ln.Accept (ServePolled).
	polled *tunnel.PolledListener
	// maxIdle bounds the goroutines waiting for their next connection
	// (dispatch); 0 starts a goroutine per connection.
	maxIdle int32
}

// Serve starts accepting connections from ln in a new goroutine. For each
// connection it first acquires every limiter of limits in order (bind,
// frontend, global), then accepts (so an idle loop holds one slot of each,
// reserved for the next connection, as HAProxy counts a connection before
// accepting it), then calls handle(conn) in a new
// goroutine; the limiters are released when handle returns. handle owns
// conn and must close it. The accepted conn is the listener's own type
// (*net.TCPConn for TCP), never wrapped; a TCP conn has TCP keep-alive
// off, as HAProxy's accepted sockets do without option clitcpka.
//
// Resource errors from accept (EMFILE, ENFILE, ENOBUFS, ENOMEM) pause the
// loop briefly and it retries, as HAProxy does; ECONNABORTED and EINTR are
// retried at once. Any other error, or the listener being closed, ends the
// loop; Err reports it.
func Serve(ln net.Listener, limits []*Limiter, handle func(net.Conn)) *Loop {
	return ServeAsync(ln, limits, func(c net.Conn, done func()) {
		handle(c)
		done()
	})
}

// ServeAsync is Serve for handlers that hand a connection on to other
// goroutines and return early: the connection keeps its slots until the
// handler's done is called, exactly once, when the connection has ended.
// Wait waits for every done.
func ServeAsync(ln net.Listener, limits []*Limiter, handle func(c net.Conn, done func())) *Loop {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Loop{ln: ln, limits: limits, handle: handle, ctx: ctx, cancel: cancel, rawKA: keepAliveOn(ln, false)}
	l.wg.Add(1)
	go l.run()
	return l
}

// ServePolled is ServeAsync for handlers that wait on their connections
// in Go's poller (mode http): a TCP connection is accepted with
// accept4(2) straight into a tunnel.Polled, which skips the net
// package's getsockname(2) and bookkeeping. Other listeners, and systems
// without it, accept with ln.Accept.
func ServePolled(ln net.Listener, limits []*Limiter, handle func(c net.Conn, done func())) *Loop {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Loop{ln: ln, limits: limits, handle: handle, ctx: ctx, cancel: cancel, rawKA: keepAliveOn(ln, false)}
	if tl, ok := ln.(*net.TCPListener); ok {
		if pl, err := tunnel.ListenPolled(tl); err == nil {
			l.polled, l.rawKA = pl, false
		}
	}
	l.work, l.maxIdle = make(chan net.Conn), maxIdlePolled
	l.wg.Add(1)
	go l.run()
	return l
}

// Stop stops accepting and closes the listener; connections being handled
// carry on (HAProxy's soft stop). It may be called several times and from
// any goroutine.
func (l *Loop) Stop() {
	l.stop.Do(func() {
		l.cancel()
		if l.events {
			l.stopEvents()
			return
		}
		l.ln.Close()
		if l.polled != nil {
			l.polled.Close()
		}
		keepAliveOn(l.ln, true)
	})
}

// Wait blocks until the accept loop has ended and every handler it started
// has returned. Without Stop it returns only if the loop fails.
func (l *Loop) Wait() { l.wg.Wait() }

// IdleWorkers is how many goroutines wait for the loop's next connection
// (see dispatch).
func (l *Loop) IdleWorkers() int { return int(l.idleWorkers.Load()) }

// Listener returns the listener the loop accepts from.
func (l *Loop) Listener() net.Listener { return l.ln }

// Err returns the error that ended the loop, nil after Stop or while it
// runs.
func (l *Loop) Err() error {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	return l.lastErr
}

func (l *Loop) run() {
	defer l.wg.Done()
	defer l.Stop() // a failed loop must not leave the listener open
	backoff := time.Duration(0)
	for {
		if !l.acquire() {
			return
		}
		conn, err := l.accept()
		if err != nil {
			l.release()
			if l.ctx.Err() != nil {
				return
			}
			if !retryable(err) {
				l.setErr(err)
				return
			}
			if backoff = nextBackoff(backoff, err); backoff > 0 && !l.pause(backoff) {
				return
			}
			continue
		}
		backoff = 0
		if l.rawKA {
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetKeepAlive(false)
			}
		}
		l.wg.Add(1)
		if l.maxIdle > 0 {
			l.dispatch(conn)
		} else {
			go l.serve(conn)
		}
	}
}

// accept takes the next connection.
func (l *Loop) accept() (net.Conn, error) {
	if l.polled != nil {
		return l.polled.Accept()
	}
	return l.ln.Accept()
}

// maxIdleEvents and maxIdlePolled bound the goroutines a loop keeps
// waiting for the next connection (dispatch): an event-driven loop's
// (mode tcp), whose handlers return once the relay runs, and a polled
// loop's (mode http), whose handlers serve the connection to its end or
// until it parks. A new goroutine starts with a small stack and copies it
// as it grows to what serving HTTP takes: with 8 kept waiting, 64 clients
// opening a connection per request had copies cost 3.6% of Sluice's CPU,
// with 64 none. bench/http.sh's idle scenario (5000 parked clients) shows
// no difference in memory between the two.
const (
	maxIdleEvents = 64
	maxIdlePolled = 64
)

// dispatch hands conn to a goroutine that has served an earlier
// connection and waits for the next, or to a new one. A reused goroutine
// has already grown its stack to what handling a connection takes; a new
// one starts small and copies its stack as it grows, once or twice per
// connection.
func (l *Loop) dispatch(conn net.Conn) {
	select {
	case l.work <- conn:
	default:
		go l.worker(conn)
	}
}

// worker serves conn, then waits for more while few others wait, until
// Stop.
func (l *Loop) worker(conn net.Conn) {
	for {
		l.serve(conn)
		if l.idleWorkers.Add(1) > l.maxIdle {
			l.idleWorkers.Add(-1)
			return
		}
		select {
		case conn = <-l.work:
			l.idleWorkers.Add(-1)
		case <-l.ctx.Done():
			l.idleWorkers.Add(-1)
			return
		}
	}
}

func (l *Loop) serve(conn net.Conn) {
	l.handle(conn, func() {
		l.release()
		l.wg.Done()
	})
}

// acquire takes one slot of every limiter in order, undoing its partial
// work if Stop interrupts it.
func (l *Loop) acquire() bool {
	for i, lim := range l.limits {
		if err := lim.Acquire(l.ctx); err != nil {
			for _, held := range l.limits[:i] {
				held.Release()
			}
			return false
		}
	}
	return true
}

// release frees the slots in reverse order of acquisition.
func (l *Loop) release() {
	for i := len(l.limits) - 1; i >= 0; i-- {
		l.limits[i].Release()
	}
}

// pause waits d unless Stop comes first.
func (l *Loop) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.ctx.Done():
		return false
	}
}

func (l *Loop) setErr(err error) {
	l.errMu.Lock()
	l.lastErr = err
	l.errMu.Unlock()
}

// retryable reports accept errors after which the listener is still good.
func retryable(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
			syscall.ECONNABORTED, syscall.EINTR, syscall.EAGAIN, syscall.EPROTO, syscall.EPERM:
			return true
		}
		return false
	}
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// nextBackoff returns how long to pause before retrying: nothing for
// errors that concern one connection only, an exponential delay for
// resource exhaustion.
func nextBackoff(prev time.Duration, err error) time.Duration {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.ECONNABORTED, syscall.EINTR, syscall.EPROTO, syscall.EPERM:
			return 0
		}
	}
	if prev == 0 {
		return minAcceptBackoff
	}
	return min(prev*2, maxAcceptBackoff)
}
