package tunnel

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Event-driven relaying. A goroutine per direction costs a parked stack
// for as long as the connection lives, and a wake-up, a read, a write and
// a read that ends in EAGAIN for every message. HAProxy instead waits for
// all its sockets in one epoll set. Sluice does the same for the relay:
//
//   - Both sockets of a relay join a poller: an epoll set, edge-triggered,
//     whose own descriptor is handed to Go's network poller, so one
//     goroutine per poller sleeps in the runtime's epoll_wait like any
//     other network wait and the process still has a single place where
//     it blocks. There is one poller per GOMAXPROCS slot, opened with the
//     first relay and closed shortly after the last.
//
//   - When a socket becomes readable, the poller's goroutine reads it into
//     its own 16 KiB buffer and writes what it read to the other socket,
//     without blocking. A read shorter than the buffer has emptied the
//     socket (edge-triggered epoll reports anything that arrives after
//     it), so no read is wasted on EAGAIN.
//
//   - When the other socket cannot take everything (a slow reader), or a
//     read fills the buffer (bulk data), a goroutine takes the direction
//     over with blocking I/O: it writes what is left, then reads until the
//     socket is empty and hands the direction back; a full buffer switches
//     it to splice(2) until the end, as copyAdaptive does.
//
//   - Each direction has a small state machine (idle, busy, busy with an
//     event pending, done) so that exactly one party works on it at a time
//     and an event that arrives while it is busy is not lost.
//
// An idle relay therefore holds no goroutine and no buffer. Timeouts,
// half-close, resets and the result are the relay's, as with goroutines.

// Direction states.
const (
	stIdle  int32 = iota // waiting for an event; nobody works on it
	stBusy               // the poller or a goroutine works on it
	stAgain              // busy, and an event arrived meanwhile
	stDone               // the direction has ended
)

// evRelay is a relay's membership of a poller.
type evRelay struct {
	r    *relay
	p    *poller
	dead atomic.Bool // the relay aborted: idle directions end at once
	dirs [2]evDir    // indexed by source side
}

// evDir is one direction, named by the side it reads from.
type evDir struct {
	ev    *evRelay
	src   int
	slot  uint32 // the source socket's slot in the poller
	sock  *Sock  // the source socket when it is a Sock, which owns the slot
	state atomic.Int32
	total int64 // bytes moved; touched only by whoever holds it busy
	rc    [2]syscall.RawConn

	// Arguments and results of the raw calls; the closures are made once.
	buf             []byte
	n               int
	err             error
	readFn, writeFn func(fd uintptr)
}

// startEvents puts r's sockets in a poller. It returns false, having
// changed nothing, if that is not possible; the caller then relays with
// goroutines.
func startEvents(r *relay) bool {
	var rcs [2]syscall.RawConn
	for _, c := range r.conns {
		if _, ok := c.(Layered); ok {
			return false // its bytes are not the socket's
		}
	}
	for i, c := range r.conns {
		rc, err := c.SyscallConn()
		if err != nil {
			return false
		}
		rcs[i] = rc
	}
	// A Sock already waits in a poller: the relay joins that one.
	var p *poller
	var socks [2]*Sock
	for i, c := range r.conns {
		if s, ok := c.(*Sock); ok {
			switch {
			case p == s.p: // both sockets are Socks: one reference
			case p != nil:
				p.unref()
				return false
			case !s.p.ref():
				return false
			}
			p, socks[i] = s.p, s
		}
	}
	if p == nil {
		if p = pickPoller(); p == nil {
			return false
		}
	}
	ev := &evRelay{r: r, p: p}
	for i := range ev.dirs {
		d := &ev.dirs[i]
		d.ev, d.src, d.rc, d.sock = ev, i, rcs, socks[i]
		d.readFn, d.writeFn = d.doRead, d.doWrite
	}
	r.mu.Lock()
	r.ev = ev
	r.mu.Unlock()
	if !p.add(ev) {
		r.mu.Lock()
		r.ev = nil
		r.mu.Unlock()
		return false
	}
	return true
}

// release leaves the poller once the relay has ended.
func (ev *evRelay) release() { ev.p.remove(ev) }

// abort ends the directions that are idle: no event will come for them
// once the sockets are closed. Busy ones find out by themselves. Caller
// holds ev.r.mu.
func (ev *evRelay) abort() {
	ev.dead.Store(true)
	for i := range ev.dirs {
		d := &ev.dirs[i]
		if d.state.CompareAndSwap(stIdle, stDone) {
			go ev.r.endDir(d.src, d.total, nil)
		}
	}
}

// ready is called by the poller when the source socket of d has an event;
// hup says the event includes a FIN, reset or error.
func (d *evDir) ready(buf []byte, hup bool) {
	for {
		switch d.state.Load() {
		case stIdle:
			if d.state.CompareAndSwap(stIdle, stBusy) {
				d.serve(buf, hup)
				return
			}
		case stBusy:
			if d.state.CompareAndSwap(stBusy, stAgain) {
				return
			}
		default:
			return
		}
	}
}

// serve moves what the source has to the other side, on the poller's
// goroutine with its buffer, as long as nothing blocks.
func (d *evDir) serve(buf []byte, hup bool) {
	for {
		n, err := d.read(buf)
		switch {
		case err == unix.EAGAIN:
			if d.idle() {
				return
			}
			continue
		case err != nil:
			d.end(err)
			return
		case n == 0:
			d.end(nil)
			return
		}
		w, err := d.write(buf[:n])
		if w > 0 {
			d.total += int64(w)
		}
		if err != nil && err != unix.EAGAIN {
			d.end(err)
			return
		}
		if w < n || n == len(buf) {
			// Slow reader or bulk data: a goroutine takes over.
			var rest *[]byte
			if w < n {
				rest = bufs.Get().(*[]byte)
				*rest = (*rest)[:copy((*rest)[:cap(*rest)], buf[max(w, 0):n])]
			}
			go d.pump(rest, n == len(buf))
			return
		}
		// A short read emptied the socket, unless a FIN came with the
		// data (the event said so): then read on to see it.
		if !hup && d.idle() {
			return
		}
		hup = false
	}
}

// pump is the goroutine that holds a direction while it blocks: it
// writes rest (a pooled buffer, may be nil), then either streams the rest
// of the connection with splice (bulk) or reads until the source is empty
// and hands the direction back to the poller.
func (d *evDir) pump(rest *[]byte, bulk bool) {
	dst, src := d.ev.r.conns[1-d.src], d.ev.r.conns[d.src]
	if rest != nil {
		w, err := dst.Write(*rest)
		d.total += int64(w)
		*rest = (*rest)[:cap(*rest)]
		bufs.Put(rest)
		if err != nil {
			d.end(err)
			return
		}
	}
	if !bulk {
		buf := bufs.Get().(*[]byte)
		for {
			n, err := d.read(*buf)
			if err == unix.EAGAIN {
				if d.idle() {
					bufs.Put(buf)
					return
				}
				continue
			}
			if err != nil || n == 0 {
				bufs.Put(buf)
				d.end(err)
				return
			}
			w, err := dst.Write((*buf)[:n])
			d.total += int64(w)
			if err != nil {
				bufs.Put(buf)
				d.end(err)
				return
			}
			if n == len(*buf) {
				bufs.Put(buf)
				break
			}
		}
	}
	// Bulk: the poller no longer needs to hear about this socket.
	d.ev.p.forget(d)
	m, err := copyBulk(dst, src)
	d.total += m
	d.end(err)
}

// kick serves an event that came before the relay started, on the
// caller's goroutine (the one starting the relay) with a pooled buffer,
// since the poller's is not at hand; hup says the event carried a FIN,
// reset or error.
func (d *evDir) kick(hup bool) {
	for {
		switch d.state.Load() {
		case stIdle:
			if d.state.CompareAndSwap(stIdle, stBusy) {
				b := bufs.Get().(*[]byte)
				d.serve(*b, hup)
				bufs.Put(b)
				return
			}
		case stBusy:
			if d.state.CompareAndSwap(stBusy, stAgain) {
				return
			}
		default:
			return
		}
	}
}

// idle hands the direction back to the poller: false means an event came
// while it was busy, and the caller must look again. If the relay aborted
// meanwhile, the direction ends here instead, since no event will come.
func (d *evDir) idle() bool {
	if !d.state.CompareAndSwap(stBusy, stIdle) {
		d.state.Store(stBusy)
		return false
	}
	if d.ev.dead.Load() && d.state.CompareAndSwap(stIdle, stDone) {
		d.ev.r.endDir(d.src, d.total, nil)
	}
	return true
}

// end finishes the direction: err nil is an orderly EOF.
func (d *evDir) end(err error) {
	d.state.Store(stDone)
	d.ev.r.endDir(d.src, d.total, err)
}

// read reads once from the source socket without blocking.
func (d *evDir) read(b []byte) (int, error) {
	d.buf = b
	if err := d.rc[d.src].Control(d.readFn); err != nil {
		return 0, err
	}
	return d.n, d.err
}

// write writes once to the other socket without blocking.
func (d *evDir) write(b []byte) (int, error) {
	d.buf = b
	if err := d.rc[1-d.src].Control(d.writeFn); err != nil {
		return 0, err
	}
	return d.n, d.err
}

// The sockets are non-blocking, so these calls return at once: they are
// made as raw system calls, which spares the scheduler's bookkeeping for
// blocking calls (and a hand-off of the thread's P).
func (d *evDir) doRead(fd uintptr) { d.n, d.err = RawRead(fd, d.buf) }
func (d *evDir) doWrite(fd uintptr) {
	d.n, d.err = RawWrite(fd, d.buf)
	d.buf = nil
}

// RawRead is recv(2) into b on a non-blocking socket, as a raw system
// call: unix.EAGAIN when nothing is waiting. recv takes the socket
// layer's own path, shorter than read(2)'s through the file layer, and is
// what HAProxy calls.
func RawRead(fd uintptr, b []byte) (int, error) { return rawIO(unix.SYS_RECVFROM, fd, b, 0) }

// RawWrite is send(2) of b on a non-blocking socket, as a raw system
// call: unix.EAGAIN when the socket can take nothing more. MSG_NOSIGNAL
// spares the process a SIGPIPE when the peer has gone: the call returns
// EPIPE instead.
func RawWrite(fd uintptr, b []byte) (int, error) {
	return rawIO(unix.SYS_SENDTO, fd, b, unix.MSG_NOSIGNAL)
}

func rawIO(trap, fd uintptr, b []byte, flags uintptr) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	for {
		n, _, e := unix.RawSyscall6(trap, fd, uintptr(p), uintptr(len(b)), flags, 0, 0)
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return -1, unix.EAGAIN
		}
		return -1, e
	}
}

// poller is an epoll set of relay sockets and the goroutine that waits on
// it through Go's network poller.
type poller struct {
	epfd   int
	file   *os.File // epfd, registered with Go's network poller
	events [128]unix.EpollEvent
	buf    [bufSize]byte // the polling goroutine's copy buffer

	mu     sync.Mutex
	relays int // relays using the poller; once none is left it closes
	closed bool
	linger *time.Timer // closes the poller after pollerLinger unused
	slots  []slot
	free   []uint32
}

// slot maps an epoll event back to a direction; gen tells a slot's reuse
// from a stale event.
type slot struct {
	gen  uint32
	park *Parked    // a parked connection waiting for its next bytes
	lst  *Listening // a listener: connections are waiting
	dir  *evDir
	sock *Sock // a Sock's events go to it first
}

var (
	pollersMu sync.Mutex
	pollers   []*poller
	pollNext  int
)

// pickPoller returns an open poller, the slots taken in turn, holding a
// reference for one relay; nil if epoll cannot be used.
func pickPoller() *poller {
	pollersMu.Lock()
	defer pollersMu.Unlock()
	if pollers == nil {
		pollers = make([]*poller, runtime.GOMAXPROCS(0))
	}
	i := pollNext % len(pollers)
	pollNext++
	if p := pollers[i]; p != nil {
		p.mu.Lock()
		if !p.closed {
			p.relays++
			p.mu.Unlock()
			return p
		}
		p.mu.Unlock()
	}
	p, err := newPoller()
	if err != nil {
		return nil
	}
	pollers[i] = p
	p.relays = 1
	go p.run()
	return p
}

func newPoller() (*poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	// Non-blocking, so that os.NewFile registers it with the runtime's
	// poller and a read waits there for it to become readable.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &poller{epfd: fd, file: os.NewFile(uintptr(fd), "tunnel-epoll")}, nil
}

// add registers both sockets of ev; on failure nothing stays registered
// and the relay's reference is dropped.
func (p *poller) add(ev *evRelay) bool {
	var gens [2]uint32
	p.mu.Lock()
	for i := range ev.dirs {
		if s := ev.dirs[i].sock; s != nil {
			ev.dirs[i].slot = s.slot
			continue
		}
		ev.dirs[i].slot = p.takeSlot(&ev.dirs[i])
		gens[i] = p.slots[ev.dirs[i].slot].gen
	}
	p.mu.Unlock()
	for i := range ev.dirs {
		d := &ev.dirs[i]
		if d.sock != nil {
			continue
		}
		e := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET,
			Fd: int32(d.slot), Pad: int32(gens[i])}
		var err error
		if cerr := d.rc[d.src].Control(func(fd uintptr) {
			err = rawEpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), &e)
		}); cerr != nil || err != nil {
			if i == 1 {
				p.forget(&ev.dirs[0])
			}
			p.remove(ev)
			return false
		}
	}
	for i := range ev.dirs {
		if d := &ev.dirs[i]; d.sock != nil {
			d.sock.attach(d)
		}
	}
	return true
}

// addSock gives s a slot and registers it for input and output events,
// edge-triggered. The caller's reference on p becomes s's.
func (p *poller) addSock(s *Sock) error {
	p.mu.Lock()
	s.slot = p.takeSlot(nil)
	p.slots[s.slot].sock = s
	gen := p.slots[s.slot].gen
	p.mu.Unlock()
	e := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET,
		Fd: int32(s.slot), Pad: int32(gen)}
	if err := rawEpollCtl(p.epfd, unix.EPOLL_CTL_ADD, s.fd, &e); err != nil {
		p.mu.Lock()
		p.freeSlot(s.slot)
		p.mu.Unlock()
		return err
	}
	return nil
}

// removeSock frees the slot of s, whose descriptor is closed, and drops
// its reference.
func (p *poller) removeSock(s *Sock) {
	p.mu.Lock()
	p.freeSlot(s.slot)
	p.mu.Unlock()
	p.unref()
}

// ref takes a reference for one more user, unless p is closed.
func (p *poller) ref() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.relays++
	return true
}

// freeSlot makes slot i free; its stale events are ignored. Caller
// holds p.mu.
func (p *poller) freeSlot(i uint32) {
	p.slots[i].gen++
	p.slots[i].park = nil
	p.slots[i].lst = nil
	p.slots[i].dir = nil
	p.slots[i].sock = nil
	p.free = append(p.free, i)
}

// takeSlot gives d a slot. Caller holds p.mu.
func (p *poller) takeSlot(d *evDir) uint32 {
	if n := len(p.free); n > 0 {
		i := p.free[n-1]
		p.free = p.free[:n-1]
		p.slots[i].dir = d
		return i
	}
	p.slots = append(p.slots, slot{dir: d})
	return uint32(len(p.slots) - 1)
}

// forget takes d's socket out of the epoll set (it streams with splice,
// or registration failed). The slot stays d's until the relay leaves.
func (p *poller) forget(d *evDir) {
	if d.sock != nil {
		return // its events also serve its blocking waits
	}
	_ = d.rc[d.src].Control(func(fd uintptr) {
		_ = rawEpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	})
}

// remove frees the relay's slots (its sockets are closed, which took
// them out of the epoll set) and drops its reference; a poller left
// without relays closes soon after, which ends its goroutine.
func (p *poller) remove(ev *evRelay) {
	p.mu.Lock()
	for i := range ev.dirs {
		if ev.dirs[i].sock == nil {
			p.freeSlot(ev.dirs[i].slot)
		}
	}
	p.mu.Unlock()
	p.unref()
}

// unref drops a reference; a poller left without users closes soon
// after, which ends its goroutine.
func (p *poller) unref() {
	p.mu.Lock()
	p.relays--
	if p.relays == 0 {
		// Close once the poller has stayed unused for a while, so that
		// a lull between connections does not reopen it every time.
		if p.linger == nil {
			p.linger = time.AfterFunc(pollerLinger, p.closeIfUnused)
		} else {
			p.linger.Reset(pollerLinger)
		}
	}
	p.mu.Unlock()
}

// pollerLinger is how long a poller without relays stays open.
const pollerLinger = 100 * time.Millisecond

func (p *poller) closeIfUnused() {
	p.mu.Lock()
	idle := p.relays == 0 && !p.closed
	if idle {
		p.closed = true
	}
	p.mu.Unlock()
	if idle {
		p.file.Close()
	}
}

// run waits for events and serves them until the poller is closed.
//
// The events are served inside one RawConn.Read, whose callback returns
// false (wait) once a batch did not fill the event array: the inner set
// is then empty, and any event added later makes Go's poller report the
// epoll descriptor readable again, which the wait sees even if it came
// while the batch was served. So no epoll_wait is spent to find the set
// empty.
func (p *poller) run() {
	rc, err := p.file.SyscallConn()
	if err != nil {
		return
	}
	var werr error
	serve := func(fd uintptr) bool {
		r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_WAIT, fd,
			uintptr(unsafe.Pointer(&p.events[0])), uintptr(len(p.events)), 0, 0, 0)
		for e == unix.EINTR {
			r, _, e = unix.RawSyscall6(unix.SYS_EPOLL_WAIT, fd,
				uintptr(unsafe.Pointer(&p.events[0])), uintptr(len(p.events)), 0, 0, 0)
		}
		if e != 0 {
			werr = e
			return true
		}
		n := int(r)
		for i := range p.events[:n] {
			e := &p.events[i]
			p.mu.Lock()
			var d *evDir
			var sk *Sock
			var pk *Parked
			var lst *Listening
			if s := uint32(e.Fd); int(s) < len(p.slots) && p.slots[s].gen == uint32(e.Pad) {
				d, sk, pk, lst = p.slots[s].dir, p.slots[s].sock, p.slots[s].park, p.slots[s].lst
			}
			p.mu.Unlock()
			if lst != nil {
				lst.ready()
			} else if pk != nil {
				pk.fire(false)
			} else if sk != nil {
				sk.event(e.Events, p.buf[:])
			} else if d != nil {
				d.ready(p.buf[:], e.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0)
			}
		}
		// A full batch may have left events behind: return, and the
		// next Read looks at once.
		return n == len(p.events)
	}
	for werr == nil && rc.Read(serve) == nil {
	}
}
