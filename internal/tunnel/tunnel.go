package tunnel

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Side names one end of a relay.
type Side uint8

const (
	SideNone   Side = iota // nothing happened yet
	SideClient             // the frontend (client) connection
	SideServer             // the backend (server) connection
)

// String returns "client", "server" or "none".
func (s Side) String() string {
	switch s {
	case SideClient:
		return "client"
	case SideServer:
		return "server"
	}
	return "none"
}

// Cause says how a side ended.
type Cause uint8

const (
	CauseNone    Cause = iota // did not end by itself (closed by the relay)
	CauseEOF                  // orderly FIN
	CauseReset                // ECONNRESET / EPIPE: the peer reset the connection
	CauseTimeout              // inactivity timeout expired on that side
	CauseError                // any other I/O error
)

// String returns a short lower-case name of the cause.
func (c Cause) String() string {
	return [...]string{"none", "eof", "reset", "timeout", "error"}[c]
}

// Timeouts are HAProxy's data-phase timeouts. Zero means "not set".
type Timeouts struct {
	Client    time.Duration // "timeout client": inactivity on the client side
	Server    time.Duration // "timeout server": inactivity on the server side
	Tunnel    time.Duration // "timeout tunnel": replaces Client and Server
	ClientFin time.Duration // "timeout client-fin": client side once half-closed
	ServerFin time.Duration // "timeout server-fin": server side once half-closed
}

// forSide returns the inactivity timeout in force for side i (0 client,
// 1 server). Like HAProxy, the fin timeouts apply as soon as the session is
// shut in one direction and then override even the tunnel timeout.
func (t Timeouts) forSide(i int, halfClosed bool) time.Duration {
	base, fin := t.Client, t.ClientFin
	if i == iServer {
		base, fin = t.Server, t.ServerFin
	}
	switch {
	case halfClosed && fin > 0:
		return fin
	case t.Tunnel > 0:
		return t.Tunnel
	}
	return base
}

// Result describes a finished relay.
type Result struct {
	ClientToServer int64 // bytes copied from the client to the server
	ServerToClient int64 // bytes copied from the server to the client

	// Side and Cause identify the event that decided the outcome: the first
	// abnormal event (reset, error, timeout) if there was one, otherwise the
	// side that sent the first FIN with CauseEOF.
	Side  Side
	Cause Cause

	// ClientEnd and ServerEnd say how each side's stream ended; CauseNone
	// means the relay closed it (e.g. because the other side failed).
	ClientEnd Cause
	ServerEnd Cause

	Err      error         // the I/O error behind CauseReset / CauseError
	Duration time.Duration // time spent inside Relay
}

// TermFlags returns HAProxy's termination state for the data phase: "--"
// for a normal end, "cD"/"sD" for a client/server timeout, "CD"/"SD" for a
// client/server abort (reset or error).
func (r Result) TermFlags() string {
	switch r.Cause {
	case CauseTimeout:
		if r.Side == SideServer {
			return "sD"
		}
		return "cD"
	case CauseReset, CauseError:
		if r.Side == SideServer {
			return "SD"
		}
		return "CD"
	}
	return "--"
}

const (
	iClient = 0
	iServer = 1
)

func sideOf(i int) Side { return Side(i + 1) }

// Conn is a stream socket the relay can splice: *net.TCPConn, or
// *net.UnixConn for a client that came through a unix socket listener.
type Conn interface {
	net.Conn
	syscall.Conn
	CloseWrite() error
}

// Layered is a Conn carried over a socket, such as TLS over TCP: its bytes
// are not the socket's, so the relay moves them with Read and Write
// through a buffer (never splice, never the poller's raw reads), while Raw
// gives the socket itself for what is asked of the kernel (TCP_INFO
// activity and state, SO_LINGER for a reset).
type Layered interface {
	Conn
	Raw() Conn
}

// rawOf is c's socket.
func rawOf(c Conn) Conn {
	if l, ok := c.(Layered); ok {
		return l.Raw()
	}
	return c
}

// relay is the state shared by the two directions and the watchdog timer.
// A single mutex guards everything; it is only taken at the edges (end of a
// direction, timer wake-ups), never per chunk of data.
type relay struct {
	mu      sync.Mutex
	conns   [2]Conn
	t       Timeouts
	start   time.Time
	half    bool        // one direction was shut: fin timeouts apply
	aborted bool        // reset/error/timeout: everything is being torn down
	stopped bool        // Relay is returning: the timer must not act
	timer   *time.Timer // inactivity watchdog, nil when no timeout is set
	res     Result
	running atomic.Int32 // directions still copying
	done    func(Result)
	ev      *evRelay    // event-driven directions (see poller_linux.go), or nil
	unwatch func() bool // stops watching the context of StartContext
}

// Relay copies client->server and server->client concurrently until both
// directions are done, then closes both connections (Relay owns them) and
// reports what happened. Any deadline already set on the connections is
// cleared. It never returns before both copies have stopped. It is Start
// with the caller waiting for the result.
func Relay(client, server Conn, t Timeouts) Result {
	ch := make(chan Result, 1)
	Start(client, server, t, func(r Result) { ch <- r })
	return <-ch
}

// Start relays like Relay but returns at once; the relay finishes on its
// own, closes both connections and calls done with the result. On Linux
// an idle direction holds no goroutine: both sockets wait in an epoll set
// shared by many relays, small messages are moved by the goroutine that
// polls it, and a goroutine is only taken while a direction is blocked
// writing or streaming bulk data (see poller_linux.go). Elsewhere each
// direction runs on a goroutine of its own. Either way the caller's
// goroutine, whose stack grew while it set the connection up, can end
// instead of idling for the connection's whole life.
//
// The relay owns the connections: closing one from outside would leave
// an idle direction waiting for an event that never comes. Use
// StartContext to end relays from outside.
func Start(client, server Conn, t Timeouts, done func(Result)) {
	StartContext(context.Background(), client, server, t, done)
}

// StartContext is Start, and when ctx is done the relay ends at once: both
// connections are closed and done is called with the result so far (its
// Cause is whatever happened before, often CauseNone).
func StartContext(ctx context.Context, client, server Conn, t Timeouts, done func(Result)) {
	// Deadlines left over from an earlier phase (handshake, first request)
	// would surface as spurious errors; the watchdog enforces timeouts.
	_ = client.SetDeadline(time.Time{})
	_ = server.SetDeadline(time.Time{})
	r := &relay{conns: [2]Conn{client, server}, t: t, start: time.Now(), done: done}
	r.mu.Lock()
	r.rearm()
	r.mu.Unlock()
	r.running.Store(2)
	if !useEvents || !startEvents(r) {
		go r.run(iServer)
		go r.run(iClient)
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, r.kill)
		r.mu.Lock()
		if r.stopped {
			defer stop()
		} else {
			r.unwatch = stop
		}
		r.mu.Unlock()
	}
}

// kill ends the relay from outside (StartContext's ctx is done).
func (r *relay) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.aborted {
		return
	}
	r.aborted = true
	if r.timer != nil {
		r.timer.Stop()
	}
	if r.ev != nil {
		r.ev.abort()
	}
	for _, c := range r.conns {
		_ = c.Close()
	}
}

// useEvents lets tests run the goroutine-per-direction relay on Linux.
var useEvents = true

// run is one direction's goroutine; the last one to end finishes.
func (r *relay) run(src int) {
	n, err := copyAdaptive(r.conns[1-src], r.conns[src])
	r.endDir(src, n, err)
}

// endDir records how the direction from side src ended, after n bytes,
// and finishes the relay if the other direction is done too.
func (r *relay) endDir(src int, n int64, err error) {
	r.mu.Lock()
	r.record(src, n, err)
	r.mu.Unlock()
	r.dirDone()
}

// dirDone counts a direction out; the last one closes both connections
// and reports.
func (r *relay) dirDone() {
	if r.running.Add(-1) > 0 {
		return
	}
	r.mu.Lock()
	r.stopped = true
	if r.timer != nil {
		r.timer.Stop()
	}
	unwatch, ev := r.unwatch, r.ev
	r.mu.Unlock()
	if unwatch != nil {
		unwatch()
	}
	r.conns[iClient].Close()
	r.conns[iServer].Close()
	if ev != nil {
		ev.release()
	}
	r.res.Duration = time.Since(r.start)
	r.done(r.res)
}

// record notes the end of the copy from side src: n bytes, and err (nil
// for an orderly EOF). Caller holds r.mu.
func (r *relay) record(src int, n int64, err error) {
	dst := 1 - src
	if src == iClient {
		r.res.ClientToServer = n
	} else {
		r.res.ServerToClient = n
	}
	switch {
	case r.aborted:
		// The error is a consequence of our own teardown.
	case err == nil:
		r.shutdown(src, dst)
	default:
		side, cause := r.classify(src, dst, err)
		r.abort(side, cause, err)
	}
}

// shutdown forwards a FIN read from src to dst and re-arms the watchdog,
// since the fin timeouts now apply. Caller holds r.mu.
func (r *relay) shutdown(src, dst int) {
	r.setEnd(src, CauseEOF)
	if r.res.Cause == CauseNone {
		r.res.Side, r.res.Cause = sideOf(src), CauseEOF
	}
	if r.half {
		// The other direction ended with a FIN too: both sockets are
		// read to the end and about to be closed, and close(2) sends
		// the FIN after any data still queued.
		return
	}
	// An error here means dst is already dead; the other direction will
	// observe and report that itself.
	_ = r.conns[dst].CloseWrite()
	r.half = true
	r.rearm()
}

// classify attributes a copy error to a side. io.Copy does not say whether
// the read or the write failed (splice reports both as "readfrom"), so the
// kernel is asked which socket was torn down; failing that, EPIPE points to
// the destination and anything else to the source.
func (r *relay) classify(src, dst int, err error) (int, Cause) {
	cause := CauseError
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		cause = CauseReset
	}
	for _, i := range [2]int{src, dst} {
		if _, _, dead, ok := sockInfo(r.conns[i]); ok && dead {
			return i, cause
		}
	}
	if errors.Is(err, syscall.EPIPE) {
		return dst, cause
	}
	return src, cause
}

// abort records the deciding event and tears both connections down, which
// unblocks whichever copy is still running. After a reset or an error both
// sockets get SO_LINGER 0 so the surviving peer sees an RST as well; after a
// timeout they are closed normally. Caller holds r.mu.
func (r *relay) abort(i int, cause Cause, err error) {
	r.aborted = true
	if r.ev != nil {
		r.ev.abort()
	}
	r.res.Side, r.res.Cause, r.res.Err = sideOf(i), cause, err
	r.setEnd(i, cause)
	if r.timer != nil {
		r.timer.Stop()
	}
	for _, c := range r.conns {
		if l, ok := rawOf(c).(interface{ SetLinger(int) error }); ok && cause != CauseTimeout {
			_ = l.SetLinger(0)
		}
		_ = c.Close()
	}
}

func (r *relay) setEnd(i int, c Cause) {
	p := &r.res.ClientEnd
	if i == iServer {
		p = &r.res.ServerEnd
	}
	if *p == CauseNone {
		*p = c
	}
}
