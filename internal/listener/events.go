package listener

import (
	"context"
	"errors"
	"net"
	"time"

	"golang.org/x/sys/unix"

	"sluice/internal/tunnel"
)

// Accept states of an event-driven loop.
const (
	acIdle  int32 = iota // waiting for the poller's next report
	acBusy               // somebody accepts
	acAgain              // busy, and a report came meanwhile
)

// ServeEvents is ServeAsync for connections a relay poller carries (mode
// tcp): on Linux a TCP listener is watched by a relay poller and each
// connection is accepted straight into one of its sockets (see
// tunnel.Watch), with no goroutine waiting in accept. The accepted conn is
// then a tunnel socket rather than a *net.TCPConn. Limits, resource
// errors, Stop and Wait behave as ServeAsync's; for any other listener,
// or where it is not possible, ServeEvents is ServeAsync.
func ServeEvents(ln net.Listener, limits []*Limiter, handle func(c net.Conn, done func())) *Loop {
	tln, ok := ln.(*net.TCPListener)
	if !ok {
		return ServeAsync(ln, limits, handle)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Loop{ln: ln, limits: limits, handle: handle, ctx: ctx, cancel: cancel, events: true,
		work: make(chan net.Conn), maxIdle: maxIdleEvents}
	l.wg.Add(1) // the loop itself, until Stop
	l.acceptMu.Lock()
	w, err := tunnel.Watch(tln, l.kick)
	l.watch = w
	l.acceptMu.Unlock()
	if err != nil {
		cancel()
		return ServeAsync(ln, limits, handle)
	}
	return l
}

// kick is the poller saying connections may be waiting. It runs on the
// poller's goroutine and must not block.
func (l *Loop) kick() {
	for {
		switch l.acState.Load() {
		case acIdle:
			if l.acState.CompareAndSwap(acIdle, acBusy) {
				l.drain(false)
				return
			}
		case acBusy:
			if l.acState.CompareAndSwap(acBusy, acAgain) {
				return
			}
		default:
			return
		}
	}
}

// drain accepts until the listener is empty, starting a goroutine for
// each connection. Where it would have to wait (every slot taken, or a
// pause after a resource error) it goes on in a goroutine of its own if
// it runs on the poller's (blocking false).
func (l *Loop) drain(blocking bool) {
	backoff := time.Duration(0)
	for {
		if !l.tryAcquire() {
			if !blocking {
				go l.drain(true)
				return
			}
			if !l.acquire() {
				return // stopped
			}
		}
		l.acceptMu.Lock()
		if l.ctx.Err() != nil {
			l.acceptMu.Unlock()
			l.release()
			return
		}
		conn, err := l.watch.Accept()
		if err == nil {
			l.wg.Add(1)
		}
		l.acceptMu.Unlock()
		if err == nil {
			backoff = 0
			l.dispatch(conn)
			continue
		}
		l.release()
		if err == unix.EAGAIN {
			if l.idle() {
				return
			}
			continue
		}
		if l.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
			return
		}
		if !retryable(err) {
			l.setErr(err)
			go l.Stop()
			return
		}
		if backoff = nextBackoff(backoff, err); backoff > 0 {
			if !blocking {
				go l.pauseThenDrain(backoff)
				return
			}
			if !l.pause(backoff) {
				return
			}
		}
	}
}

// pauseThenDrain waits d (resource exhaustion), then accepts again.
func (l *Loop) pauseThenDrain(d time.Duration) {
	if l.pause(d) {
		l.drain(true)
	}
}

// idle gives the listener back to the poller; false means a report came
// while accepting, and the caller must look again.
func (l *Loop) idle() bool {
	if l.acState.CompareAndSwap(acBusy, acIdle) {
		return true
	}
	l.acState.Store(acBusy)
	return false
}

// tryAcquire takes one slot of every limiter in order if each has one
// free now, taking none otherwise.
func (l *Loop) tryAcquire() bool {
	for i, lim := range l.limits {
		if !lim.TryAcquire() {
			for j := i - 1; j >= 0; j-- {
				l.limits[j].Release()
			}
			return false
		}
	}
	return true
}

// stopEvents ends an event-driven loop: no accept starts after it.
func (l *Loop) stopEvents() {
	l.acceptMu.Lock()
	if l.watch != nil {
		l.watch.Close()
	}
	l.acceptMu.Unlock()
	l.ln.Close()
	l.wg.Done()
}
