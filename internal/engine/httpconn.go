package engine

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"sluice/internal/h1"
	"sluice/internal/tunnel"
)

// defaultBufSize is HAProxy's tune.bufsize: a message head must fit in
// it, less tune.maxrewrite (1024) kept for rules that add headers.
const (
	defaultBufSize    = 16384
	defaultMaxRewrite = 1024
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, defaultBufSize); return &b }}

// hconn is one side of an HTTP exchange: a connection and the bytes read
// from it and not yet consumed (buf[r:w]). The buffer comes from a pool and
// goes back when the connection is idle with nothing buffered, so an idle
// keep-alive connection holds no buffer.
type hconn struct {
	c    net.Conn
	bp   *[]byte
	r, w int
	// eof is set once the peer closed its side.
	eof bool
	// A plain socket's raw connection, when fill may wait on it holding
	// no buffer (see fillRaw); readFn is readRaw bound once, rn and rerr
	// its result.
	raw syscall.RawConn
	// lastFull: the last raw read filled the room it was given.
	lastFull bool
	readFn   func(fd uintptr) bool
	rn       int
	rerr     error
	// The read deadline in force on a plain socket as fillRaw last set
	// it (Unix nanoseconds, 0: none), and the one the read under way
	// wants (kept as a time.Time for its monotonic clock reading). A
	// read that need not wait needs no deadline: it is set only when
	// the socket is found empty.
	rdSet  int64
	rdWant time.Time
	// send's state on a plain socket: what is left to write, how much
	// was, the error, and writeRaw bound once (both forms).
	wbuf     []byte
	wn       int
	werr     error
	writeFn  func(fd uintptr) bool
	writeCtl func(fd uintptr)
	// sendThenFill's state: the message goes out first, the read after
	// the wait (sendFirst); an error of its read is the next fill's
	// (fillErr).
	sendFirst bool
	fillErr   error
}

// newClientConn is the hconn of a client connection. On a plain socket
// it waits for requests without holding a buffer: a keep-alive connection
// waits for its next request most of its life, and a 16 KiB buffer each
// would be most of what an idle connection costs. Other connections (TLS
// keeps data of its own above the socket) read through net.Conn.
func newClientConn(c net.Conn) *hconn {
	h := &hconn{c: c}
	h.setRaw()
	return h
}

// setRaw makes a plain socket's reads and writes raw system calls made
// through its syscall.RawConn: the same calls net.Conn would make, and
// the same waits in Go's poller when the socket is not ready, but the
// runtime is not told of a call that may block (they never do on a
// non-blocking socket), so its monitor never hands the thread's
// processor to another thread while one runs. A write deadline is set
// only when a write has to wait.
func (h *hconn) setRaw() {
	switch sc := h.c.(type) {
	case *net.TCPConn, *net.UnixConn, *tunnel.Polled:
		if raw, err := sc.(syscall.Conn).SyscallConn(); err == nil {
			h.raw = raw
			h.readFn = h.readRaw
			h.writeFn = h.writeRaw
			h.writeCtl = func(fd uintptr) { h.writeRaw(fd) }
		}
	}
}

// send writes all of b, waiting at most timeout (0: no limit) for the
// socket to take it.
func (h *hconn) send(b []byte, timeout time.Duration) (int, error) {
	if h.raw == nil {
		return writeAll(h.c, b, timeout)
	}
	h.wbuf, h.wn, h.werr = b, 0, nil
	// First without a deadline: a write that need not wait needs none.
	err := h.raw.Control(h.writeCtl)
	if err == nil && h.werr == nil && h.wn < len(b) {
		h.c.SetWriteDeadline(deadline(time.Now(), timeout))
		err = h.raw.Write(h.writeFn)
	}
	h.wbuf = nil
	if err == nil {
		err = h.werr
	}
	return h.wn, err
}

// writeRaw is send's write, called with the socket: true when done,
// false to wait until the socket can take more.
func (h *hconn) writeRaw(fd uintptr) bool {
	for h.wn < len(h.wbuf) {
		n, err := tunnel.RawWrite(fd, h.wbuf[h.wn:])
		switch {
		case err == unix.EAGAIN:
			return false
		case err != nil:
			h.werr = os.NewSyscallError("write", err)
			return true
		}
		h.wn += n
	}
	return true
}

func (h *hconn) buf() []byte {
	if h.bp == nil {
		h.bp = bufPool.Get().(*[]byte)
	}
	return *h.bp
}

// pending is the data read and not consumed.
func (h *hconn) pending() []byte {
	if h.bp == nil {
		return nil
	}
	return (*h.bp)[h.r:h.w]
}

func (h *hconn) consume(n int) {
	h.r += n
	if h.r == h.w {
		h.r, h.w = 0, 0
	}
}

// releaseIfEmpty gives the buffer back when nothing is buffered.
func (h *hconn) releaseIfEmpty() {
	if h.bp != nil && h.r == h.w {
		bufPool.Put(h.bp)
		h.bp, h.r, h.w = nil, 0, 0
	}
}

// compact moves pending data to the start of the buffer.
func (h *hconn) compact() {
	if h.r > 0 {
		b := h.buf()
		h.w = copy(b, b[h.r:h.w])
		h.r = 0
	}
}

// sendThenFill sends b, a message the peer answers, as send does, and
// then waits up to timeout for the answer's first bytes and reads them
// into the buffer, as fill would next. On a plain socket with nothing
// buffered, b is written from within the read's wait in Go's poller,
// which has started watching the socket before the peer can answer: the
// read is tried only once the socket is readable, as HAProxy does,
// instead of a first time when nothing can be there yet. The read's
// outcome is not returned: it is buffered, or, an error or the end,
// returned by the next fill. It is for a connection on which nothing can
// come before the answer, one just opened: on a reused one, a close that
// came with the last bytes read would not end the wait (canWaitFirst).
func (h *hconn) sendThenFill(b []byte, timeout time.Duration) (int, error) {
	if h.raw == nil || h.r != h.w || len(b) == 0 {
		return h.send(b, timeout)
	}
	h.rdWant = deadline(time.Now(), timeout)
	h.setReadDeadline(h.rdWant)
	h.wbuf, h.wn, h.werr, h.sendFirst = b, 0, nil, true
	h.rn, h.rerr = 0, nil
	err := h.raw.Read(h.readFn)
	if h.sendFirst || h.werr != nil {
		// Not all written (the socket is full, or failed), and nothing
		// read: the rest goes as send sends it.
		sent, werr := h.wn, h.werr
		h.sendFirst, h.wbuf = false, nil
		if werr != nil {
			return sent, werr
		}
		n, err := h.send(b[sent:], timeout)
		return sent + n, err
	}
	switch {
	case err != nil:
		h.fillErr = err // the deadline, or the connection closed under us
	case h.rerr != nil:
		h.fillErr = h.rerr
	case h.rn == 0:
		h.fillErr = io.EOF
	}
	return len(b), nil
}

// fill reads once more into the buffer, by the deadline (zero: none).
// It returns the number of bytes read; io.EOF when the peer closed.
func (h *hconn) fill(deadline time.Time) (int, error) {
	if h.fillErr != nil {
		err := h.fillErr
		h.fillErr = nil
		return 0, err
	}
	if h.raw != nil && h.r == h.w {
		return h.fillRaw(deadline)
	}
	b := h.buf()
	if h.w == len(b) {
		h.compact()
	}
	if h.w == len(b) {
		return 0, errBufferFull
	}
	if h.raw != nil {
		return h.fillRaw(deadline)
	}
	h.c.SetReadDeadline(deadline)
	n, err := h.c.Read(b[h.w:])
	h.w += n
	if n == 0 && err == nil {
		err = errNoProgress
	}
	return n, err
}

// fillRaw is fill on a plain socket: it reads as net.Conn.Read would (a
// read, and on EAGAIN a wait for the poller, then a read again: the same
// system calls), but with nothing buffered it gives the buffer back to
// the pool for the wait.
func (h *hconn) fillRaw(deadline time.Time) (int, error) {
	want := unixNano(deadline)
	h.rdWant = deadline
	if h.rdSet != 0 && h.rdSet <= time.Now().UnixNano() {
		// The deadline left in force has passed: the read would fail
		// before it is tried.
		h.setReadDeadline(deadline)
	}
	return h.rawFill(deadline, want, false)
}

// rawFill runs the raw read (waiting first with afterWait), once more if
// a deadline left in force by an earlier read ended it before the read's
// own (want) could, and returns what it read as fill does.
func (h *hconn) rawFill(deadline time.Time, want int64, afterWait bool) (int, error) {
	h.rn, h.rerr = 0, nil
	err := h.rawRead(afterWait)
	if err != nil && h.rdSet != want && isTimeout(err) {
		h.setReadDeadline(deadline)
		h.rn, h.rerr = 0, nil
		err = h.rawRead(afterWait)
	}
	if err != nil {
		return 0, err // the deadline, or the connection closed under us
	}
	switch {
	case h.rerr != nil:
		return 0, h.rerr
	case h.rn == 0:
		return 0, io.EOF
	}
	return h.rn, nil
}

func (h *hconn) rawRead(afterWait bool) error {
	if afterWait {
		return h.raw.(afterWaiter).ReadAfterWait(h.readFn)
	}
	return h.raw.Read(h.readFn)
}

// afterWaiter is a RawConn whose read can wait before it first reads
// (tunnel.Polled's).
type afterWaiter interface {
	ReadAfterWait(f func(fd uintptr) bool) error
}

// canWaitFirst reports whether fillAfterWait may wait before it reads: a
// plain socket whose RawConn can, with nothing buffered, whose last read
// did not fill the room it was given (the rest could be waiting, its
// readiness reported already).
//
// It is for a client's socket only. The poller reports a socket readable
// without saying what came, and a peer's close that came with the last
// bytes read is reported with them: a wait for more would not end. A
// client that closed so is seen when it parks (its poller reports what
// is there, not what changed); a server's connection would wait for
// its timeout.
func (h *hconn) canWaitFirst() bool {
	_, ok := h.raw.(afterWaiter)
	return ok && h.r == h.w && h.fillErr == nil && !h.lastFull
}

// fillAfterWait is fill for bytes that cannot have come yet (the answer
// to a message just sent, a client's next request right after a
// response), on a socket that canWaitFirst: it waits for the poller to
// report the socket readable before reading, so that no read finds
// nothing, as HAProxy reads only sockets epoll reported. The wait needs
// its deadline before it starts; a deadline left in force by an earlier
// read that is still to come is kept (setting one costs), and should it
// pass first, the wait goes on to the read's own.
func (h *hconn) fillAfterWait(deadline time.Time) (int, error) {
	want := unixNano(deadline)
	h.rdWant = deadline
	if h.rdSet != want && (h.rdSet == 0 || want != 0 && want < h.rdSet || h.rdSet <= time.Now().UnixNano()) {
		h.setReadDeadline(deadline)
	}
	return h.rawFill(deadline, want, true)
}

// readRaw is fillRaw's read, called by the poller with the socket: true
// when done, false to wait until the socket is readable.
func (h *hconn) readRaw(fd uintptr) bool {
	if h.sendFirst {
		// sendThenFill's message goes first; then the wait, with no read
		// before it.
		if !h.writeRaw(fd) || h.werr != nil {
			return true
		}
		h.sendFirst, h.wbuf = false, nil
		return false
	}
	b := h.buf()
	for {
		n, err := tunnel.RawRead(fd, b[h.w:])
		h.lastFull = n == len(b)-h.w
		switch {
		case err == unix.EAGAIN:
			h.releaseIfEmpty()
			if want := unixNano(h.rdWant); h.rdSet != want {
				// About to wait: the read's own deadline now.
				if d, ok := h.c.(rawDeadliner); ok {
					d.SetReadDeadlineFromRaw(h.rdWant)
				} else {
					h.c.SetReadDeadline(h.rdWant)
				}
				h.rdSet = want
			}
			return false
		case err != nil:
			h.rerr = os.NewSyscallError("read", err)
		case n > 0:
			h.w += n
			h.rn = n
		}
		return true
	}
}

// setReadDeadline sets the socket's read deadline and notes it.
func (h *hconn) setReadDeadline(t time.Time) {
	h.c.SetReadDeadline(t)
	h.rdSet = unixNano(t)
}

// rawDeadliner sets a read deadline from within its RawConn's Read (a
// tunnel.Polled: its SetReadDeadline takes a lock the call may hold).
type rawDeadliner interface {
	SetReadDeadlineFromRaw(t time.Time)
}

// unixNano is t in Unix nanoseconds, 0 for the zero time (no deadline).
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

var (
	errBufferFull = errors.New("message head larger than the buffer")
	errNoProgress = errors.New("read returned nothing")
)

// srvConn is a connection to a server that can carry several requests.
type srvConn struct {
	hconn
	srv      *server
	idleFrom time.Time
	// reused counts the requests it carried before the current one.
	reused int
	// safe: it last carried a request that was not its session's first.
	// private: it is its session's alone (http-reuse never).
	safe, private bool
	// pool is the pool c waits in, nil while it is in use (guarded by
	// that pool's mu).
	pool *idlePool
	// takes counts the times a pool handed c out: a session that put it
	// back tells from it whether another has taken it since.
	takes atomic.Uint64
	// What alive needs to peek at the socket without allocating, made
	// once with the connection: the raw socket (nil: not a socket) or
	// the error asking for it, the peek bound to this connection, its
	// result and its one-byte buffer.
	raw     syscall.RawConn
	rawErr  error
	peekFn  func(fd uintptr)
	peekOK  bool
	peekBuf [1]byte
	// closed is set when the connection is closed while it may be in
	// the pool (its client left).
	closed atomic.Bool
}

func newSrvConn(c net.Conn, srv *server) *srvConn {
	sc := &srvConn{hconn: hconn{c: c}, srv: srv}
	sc.hconn.setRaw()
	if r, ok := c.(syscall.Conn); ok {
		sc.raw, sc.rawErr = r.SyscallConn()
		sc.peekFn = sc.peek
	}
	return sc
}

// recentIdle is how long a pooled server connection may have been idle
// and still carry a request without a body with no look at its socket
// first (alive's system call, one per request otherwise). Should the
// server have closed it meanwhile, such a request fails before any
// response and is sent again on a new connection (relayResponse).
// Servers close idle connections, or answer them with a 408, after their
// keep-alive timeout: seconds, not a tenth of one.
const recentIdle = 100 * time.Millisecond

// reusable reports whether a pooled connection may carry req now: it was
// parked a moment ago and req can be retried, or it is alive.
func (c *srvConn) reusable(req *h1.Head, now time.Time) bool {
	if c.closed.Load() {
		return false
	}
	if req.Framing == h1.NoBody && now.Sub(c.idleFrom) < recentIdle {
		return true
	}
	return c.alive()
}

// close closes a connection that may still be in its server's pool,
// where reusable then refuses it.
func (c *srvConn) close() {
	c.closed.Store(true)
	c.c.Close()
}

// alive reports whether an idle connection is still usable: no data and
// no close waiting on it (a server that timed its side out).
func (c *srvConn) alive() bool {
	if c.rawErr != nil {
		return false
	}
	if c.raw == nil {
		return true
	}
	c.peekOK = false
	if err := c.raw.Control(c.peekFn); err != nil {
		return false
	}
	return c.peekOK
}

// peek is alive's look at the socket: a non-blocking recv(MSG_PEEK) of
// one byte finds nothing to read (EAGAIN) on a live idle connection. The
// raw system call leaves out unix.Recvfrom's source address, which would
// be allocated on each call.
func (c *srvConn) peek(fd uintptr) {
	_, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&c.peekBuf[0])), 1,
		unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
	c.peekOK = errno == unix.EAGAIN
}

// idle reports whether c waits in a pool.
func (c *srvConn) idle() bool {
	if c.srv == nil || c.srv.pool == nil {
		return false
	}
	p := c.srv.pool
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return c.pool == p
}

// idlePool holds a server's idle keep-alive connections, most recent
// last. HAProxy closes idle connections after pool-purge-delay (5s).
type idlePool struct {
	mu    sync.Mutex
	conns []*srvConn
	// used counts the server's connections carrying a request (the
	// server's %sc); peak is its highest value since the last estimate
	// and est HAProxy's est_need_conns: how many connections the server
	// needed lately, which bounds how many idle ones are kept.
	used      *atomic.Int64
	peak, est int64
	estAt     time.Time
}

const poolPurgeDelay = 5 * time.Second

// maxPruneLooks bounds the idle sockets put looks at (pruneSafeLocked).
const maxPruneLooks = 4

// put parks an idle connection, or closes it when the server already has
// the idle connections it needs, as HAProxy's srv_add_to_idle_list does:
// one is kept when none of its kind waits (safe: it carried a session's
// second or later request), more only while idle and busy ones together
// stay within what the server needed lately. It reports whether c was
// kept. A private connection (http-reuse never) stays its session's
// while the session lives, whatever the server's needs.
func (p *idlePool) put(c *srvConn, safe, private bool) bool {
	c.releaseIfEmpty()
	c.idleFrom = time.Now()
	c.safe, c.private = safe, private
	p.mu.Lock()
	var used int64
	if p.used != nil {
		used = p.used.Load()
	}
	p.notePeakLocked(used)
	keep := private || p.wantsLocked(safe, used)
	if !keep && p.pruneSafeLocked() {
		// HAProxy watches its idle connections and drops one as soon
		// as its server closes it: those do not count against c.
		keep = p.wantsLocked(safe, used)
	}
	if keep {
		p.conns = append(p.conns, c)
		c.pool = p
	}
	p.mu.Unlock()
	if !keep {
		c.c.Close()
	}
	return keep
}

// wantsLocked is srv_add_to_idle_list's test for a connection that is
// not private: one is kept when none of its kind waits (safe: it carried
// a session's second or later request), more only while idle and busy
// ones together stay within what the server needed lately.
func (p *idlePool) wantsLocked(safe bool, used int64) bool {
	nSafe := 0
	for _, x := range p.conns {
		if x.safe {
			nSafe++
		}
	}
	return nSafe == 0 && (safe || len(p.conns) == 0) ||
		used+int64(len(p.conns)) <= max(used, p.est)
}

// pruneSafeLocked closes and drops the safe idle connections (those
// that decide whether another is kept) whose server closed them or sent
// something unasked, with a look at each one's socket, and reports
// whether there were any. Only safe ones are looked at, the oldest
// first (servers close the connections idle longest), at most
// maxPruneLooks of them: where none waits, as with clients that each
// send one request, putting a connection back costs no system call, and
// never more than a few.
func (p *idlePool) pruneSafeLocked() bool {
	kept := p.conns[:0]
	looks := 0
	for _, x := range p.conns {
		if !x.safe || looks == maxPruneLooks {
			kept = append(kept, x)
			continue
		}
		looks++
		if !x.closed.Load() && x.alive() {
			kept = append(kept, x)
			continue
		}
		x.pool = nil
		if !x.closed.Swap(true) {
			x.c.Close()
		}
	}
	pruned := len(kept) < len(p.conns)
	clear(p.conns[len(kept):])
	p.conns = kept
	return pruned
}

// notePeakLocked records the busy count, and every purge delay turns the
// peak into the estimate as HAProxy's srv_cleanup_idle_conns does: the
// mean of the old estimate and the peak, never below the peak.
func (p *idlePool) notePeakLocked(used int64) {
	p.peak = max(p.peak, used)
	// HAProxy raises the estimate at once when more connections are busy
	// (srv_use_conn); it only comes down with the purge.
	p.est = max(p.est, used)
	now := time.Now()
	if p.estAt.IsZero() {
		p.estAt = now
	}
	if now.Sub(p.estAt) >= poolPurgeDelay {
		p.est = max((p.est+p.peak)/2, p.peak)
		p.peak, p.estAt = used, now
	}
}

// take removes want from the pool when it is there, or any connection
// when want is nil; nil when none is available.
func (p *idlePool) take(want *srvConn) *srvConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.conns) - 1; i >= 0; i-- {
		c := p.conns[i]
		if want != nil && c != want {
			continue
		}
		p.conns = append(p.conns[:i], p.conns[i+1:]...)
		c.pool = nil
		c.takes.Add(1)
		return c
	}
	return nil
}

// purge closes connections idle for longer than the purge delay, or all
// of them when all is set.
func (p *idlePool) purge(now time.Time, all bool) {
	p.mu.Lock()
	keep := p.conns[:0]
	var stale []*srvConn
	for _, c := range p.conns {
		if all || now.Sub(c.idleFrom) > poolPurgeDelay {
			stale = append(stale, c)
			c.pool = nil
		} else {
			keep = append(keep, c)
		}
	}
	clear(p.conns[len(keep):])
	p.conns = keep
	p.mu.Unlock()
	for _, c := range stale {
		c.c.Close()
	}
}

// poolPurge closes idle server connections older than the purge delay,
// once a second, from one goroutine that lives from Serve to Close.
type poolPurge struct {
	once sync.Once
	stop chan struct{}
	done chan struct{}
}

func (e *Engine) startPoolPurge() {
	var pools []*idlePool
	for _, b := range e.backendList {
		for _, s := range b.servers {
			if s.pool != nil {
				pools = append(pools, s.pool)
			}
		}
		if b.dispatch != nil && b.dispatch.pool != nil {
			pools = append(pools, b.dispatch.pool)
		}
	}
	if len(pools) == 0 || e.purge.stop != nil {
		return
	}
	e.purge.stop, e.purge.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(e.purge.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				for _, p := range pools {
					p.purge(now, false)
				}
			case <-e.purge.stop:
				for _, p := range pools {
					p.purge(time.Time{}, true)
				}
				return
			}
		}
	}()
}

// stopPoolPurge ends the purge goroutine and closes every idle server
// connection.
func (e *Engine) stopPoolPurge() {
	if e.purge.stop == nil {
		return
	}
	e.purge.once.Do(func() { close(e.purge.stop) })
	<-e.purge.done
}
