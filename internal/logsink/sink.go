// Package logsink sends Sluice's log lines to the destinations of HAProxy's
// "log" keyword (UDP syslog servers, unix datagram sockets, stdout, stderr,
// inherited file descriptors), byte for byte in HAProxy 2.6's formats.
//
// Logging must never slow the proxy's data path: Log formats the line into a
// pooled buffer and hands it to a bounded per-target queue without blocking.
// One goroutine per target does the writing. When a target is slow or gone,
// lines are dropped and counted (Dropped), as HAProxy counts DroppedLogs.
//
// Observed HAProxy behaviour this package reproduces (haproxy 2.6.12):
//   - every line ends with a single LF, on sockets as well as on fds;
//     trailing LF and NUL bytes of the message itself are removed first;
//   - "len" truncates header+message to len bytes before the LF on sockets,
//     and to len-1 bytes before the LF on fd targets (stdout, stderr, fd@N);
//   - a line is skipped when its level is above the target's level, and
//     its level is raised to the target's minimum level otherwise.
package logsink

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults for Options.
const (
	DefaultQueueLen     = 1024
	DefaultCloseTimeout = time.Second
)

// Options are the settings shared by all targets of a Sink: the global
// section's log-tag, log-send-hostname and the process id.
type Options struct {
	// Tag is the syslog tag (global "log-tag"; HAProxy's default is the
	// program name, "haproxy"). Empty omits "tag[pid]: " like HAProxy.
	Tag string
	// Hostname is sent in rfc3164/rfc5424 headers ("log-send-hostname");
	// empty means not sent, which also makes FormatDefault behave as local.
	// A bare "log-send-hostname" means os.Hostname(), which the caller resolves.
	Hostname string
	// PID is written in the headers; 0 means os.Getpid().
	PID int
	// Now stamps lines; nil means time.Now. Dates are printed in the
	// returned time's location, so tests can pass a fixed clock and zone.
	Now func() time.Time
	// QueueLen bounds each target's queue of pending lines; 0 means
	// DefaultQueueLen. A full queue drops the new line.
	QueueLen int
	// CloseTimeout bounds how long Close waits for queued lines to be
	// written; 0 means DefaultCloseTimeout.
	CloseTimeout time.Duration
	// OnError, when set, is told about the first failed write of each
	// target (like HAProxy's one-time "sendmsg()/writev() failed" alert).
	// It runs on the target's writer goroutine and must not block.
	OnError func(error)
}

// Sink fans log lines out to a set of targets. All methods are safe for
// concurrent use, and on a nil *Sink they do nothing, so code paths without
// log targets need no checks.
type Sink struct {
	writers  []*writer
	now      func() time.Time
	tag      string
	maxLevel int // most verbose level any target accepts; -1 when none
	timeout  time.Duration
	dropped  atomic.Uint64
	closed   atomic.Bool
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	closeErr error
}

// lineBuf is a pooled line buffer; pooling pointers keeps Log free of
// allocations once the pool is warm.
type lineBuf struct{ b []byte }

var bufPool = sync.Pool{New: func() any { return &lineBuf{b: make([]byte, 0, 512)} }}

func getBuf() *lineBuf { return bufPool.Get().(*lineBuf) }

func putBuf(lb *lineBuf) {
	lb.b = lb.b[:0]
	bufPool.Put(lb)
}

// Open validates the targets, opens their sockets and starts one writer
// goroutine per target. A bad target or a socket/fd that cannot be opened
// fails the whole call and nothing is left running. A unix socket path
// that does not exist yet is not an error, as in HAProxy: the syslog daemon
// may start later; lines are dropped until it does.
func Open(targets []Target, opt Options) (*Sink, error) {
	s := &Sink{
		now:      opt.Now,
		tag:      opt.Tag,
		maxLevel: -1,
		timeout:  opt.CloseTimeout,
		stop:     make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.timeout <= 0 {
		s.timeout = DefaultCloseTimeout
	}
	for i, t := range targets {
		w, err := newWriter(s, i, t, opt)
		if err != nil {
			for _, w := range s.writers {
				w.closeConns()
			}
			return nil, fmt.Errorf("log target #%d '%s': %w", i+1, t.Addr, err)
		}
		s.writers = append(s.writers, w)
		s.maxLevel = max(s.maxLevel, t.Level)
	}
	for _, w := range s.writers {
		s.wg.Add(1)
		go w.run(s.stop)
	}
	return s, nil
}

// Enabled reports whether a line at level would reach at least one target,
// so callers can skip building expensive messages.
func (s *Sink) Enabled(level int) bool {
	return s != nil && level >= 0 && level <= s.maxLevel && !s.closed.Load()
}

// Log sends msg at level (LevelEmerg..LevelDebug) to every target that
// accepts it, with the sink's tag. It never blocks and does not keep msg.
func (s *Sink) Log(level int, msg []byte) {
	if !s.Enabled(level) {
		return
	}
	s.log(level, s.tag, msg)
}

// LogTag is Log with another syslog tag, for proxies with their own
// "log-tag" that share the global targets.
func (s *Sink) LogTag(level int, tag string, msg []byte) {
	if !s.Enabled(level) {
		return
	}
	s.log(level, tag, msg)
}

// Logf formats like fmt.Sprintf and logs the result. The formatting uses a
// pooled buffer, but boxing args may allocate: hot paths should use Log.
func (s *Sink) Logf(level int, format string, args ...any) {
	if !s.Enabled(level) {
		return
	}
	lb := getBuf()
	lb.b = fmt.Appendf(lb.b[:0], format, args...)
	s.log(level, s.tag, lb.b)
	putBuf(lb)
}

func (s *Sink) log(level int, tag string, msg []byte) {
	now := s.now()
	msg = trimMessage(msg)
	for _, w := range s.writers {
		if level > w.level || !w.sampled() {
			continue
		}
		if len(w.queue) == cap(w.queue) { // full: drop without formatting
			s.dropped.Add(1)
			continue
		}
		lb := getBuf()
		lb.b = w.format(lb.b[:0], level, now, tag, msg)
		select {
		case w.queue <- lb:
		default:
			putBuf(lb)
			s.dropped.Add(1)
		}
	}
}

// Dropped returns how many lines were lost because a target's queue was
// full, its write failed, or it was still queued when Close gave up.
func (s *Sink) Dropped() uint64 {
	if s == nil {
		return 0
	}
	return s.dropped.Load()
}

// Close stops accepting lines, writes what is queued (waiting at most
// Options.CloseTimeout), closes the sockets and stops the goroutines. Lines
// logged afterwards are ignored. It returns an error only when a writer
// stayed blocked (for instance on a full pipe that cannot be interrupted).
func (s *Sink) Close() error {
	if s == nil {
		return nil
	}
	s.once.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *Sink) shutdown() error {
	s.closed.Store(true)
	for _, w := range s.writers {
		w.interrupt(time.Now().Add(s.timeout))
	}
	close(s.stop)
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	timer := time.NewTimer(s.timeout + s.timeout/2)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		// Deadlines did not help (non-pollable fd): closing may.
		for _, w := range s.writers {
			w.closeConns()
		}
		select {
		case <-done:
		case <-time.After(s.timeout / 2):
			return errors.New("logsink: close timed out: a log writer is still blocked")
		}
	}
	for _, w := range s.writers {
		s.dropped.Add(uint64(len(w.queue)))
	}
	return nil
}

// writer owns one target: its queue, its socket and its goroutine.
type writer struct {
	sink       *Sink
	idx        int
	hdr        header
	dest       destination
	limit      int // bytes allowed before the final LF
	level      int
	minLevel   int
	sample     []SampleRange
	sampleSize uint64
	seq        atomic.Uint64
	queue      chan *lineBuf
	onError    func(error)
	reported   bool

	mu       sync.Mutex // guards the connection fields against Close
	deadline time.Time  // set by Close, applied to later connections
	udp      *net.UDPConn
	unix     *net.UnixConn
	file     *os.File
	ownFile  bool // file is our duplicate, closed with the sink
}

func newWriter(s *Sink, idx int, t Target, opt Options) (*writer, error) {
	if err := checkTarget(&t); err != nil {
		return nil, err
	}
	dest, err := resolveAddr(t.Addr)
	if err != nil {
		return nil, err
	}
	pid := opt.PID
	if pid == 0 {
		pid = os.Getpid()
	}
	qlen := opt.QueueLen
	if qlen <= 0 {
		qlen = DefaultQueueLen
	}
	w := &writer{
		sink: s, idx: idx, dest: dest, limit: t.MaxLen,
		level: t.Level, minLevel: t.MinLevel,
		sample: t.Sample, sampleSize: uint64(t.SampleSize),
		queue: make(chan *lineBuf, qlen), onError: opt.OnError,
		hdr: header{
			format:   resolveFormat(t.Format, opt.Hostname),
			facility: t.Facility,
			host:     opt.Hostname,
			pid:      fmt.Sprint(pid),
		},
	}
	if dest.kind == kindFD {
		w.limit-- // HAProxy's fd writer counts the LF in "len".
	}
	return w, w.openConn()
}

// checkTarget validates a Target that may have been built by hand, and
// applies the MaxLen default.
func checkTarget(t *Target) error {
	if t.MaxLen == 0 {
		t.MaxLen = DefaultMaxLen
	}
	switch {
	case t.MaxLen < 80 || t.MaxLen > 65535:
		return fmt.Errorf("invalid log length '%d', must be between 80 and 65535", t.MaxLen)
	case t.Format < FormatDefault || t.Format > FormatLocal:
		return fmt.Errorf("unknown log format %d", int(t.Format))
	case FacilityName(t.Facility) == "":
		return fmt.Errorf("unknown log facility %d", t.Facility)
	case LevelName(t.Level) == "" || LevelName(t.MinLevel) == "":
		return fmt.Errorf("unknown log level %d/%d", t.Level, t.MinLevel)
	}
	hi := 0
	for _, r := range t.Sample {
		if r.Low < 1 || r.High < r.Low {
			return fmt.Errorf("wrong sample range '%d-%d'", r.Low, r.High)
		}
		hi = max(hi, r.High)
	}
	if len(t.Sample) > 0 && t.SampleSize < hi {
		return fmt.Errorf("sample size %d should be greater or equal to %d the maximum of the high ranges limits", t.SampleSize, hi)
	}
	return nil
}

// openConn creates what can be created up front. Unix sockets are dialed
// lazily by the writer so that a missing or restarted daemon is retried.
func (w *writer) openConn() error {
	switch w.dest.kind {
	case kindUDP:
		network := "udp4"
		if w.dest.udp.Addr().Is6() {
			network = "udp6"
		}
		c, err := net.ListenUDP(network, nil)
		if err != nil {
			return err
		}
		w.udp = c
	case kindFD:
		f, own, err := openFD(w.dest.fd)
		if err != nil {
			return err
		}
		w.file, w.ownFile = f, own
	}
	return nil
}

// sampled applies "sample": the n-th line (1-based, counted modulo the
// sample size among lines that passed the level filter) is sent when n
// falls in a range, which is what HAProxy's range walk amounts to.
func (w *writer) sampled() bool {
	if len(w.sample) == 0 {
		return true
	}
	n := int((w.seq.Add(1)-1)%w.sampleSize) + 1
	for _, r := range w.sample {
		if n >= r.Low && n <= r.High {
			return true
		}
	}
	return false
}

// format builds one complete line: header, message, truncation, LF.
func (w *writer) format(dst []byte, level int, now time.Time, tag string, msg []byte) []byte {
	dst = w.hdr.appendHeader(dst, max(level, w.minLevel), now, tag)
	if len(dst) >= w.limit {
		dst = dst[:w.limit]
	} else {
		room := w.limit - len(dst)
		if len(msg) > room {
			msg = msg[:room]
		}
		dst = append(dst, msg...)
	}
	return append(dst, '\n')
}

func (w *writer) run(stop <-chan struct{}) {
	defer w.sink.wg.Done()
	defer w.closeConns()
	for {
		select {
		case lb := <-w.queue:
			w.send(lb)
		case <-stop:
			for {
				select {
				case lb := <-w.queue:
					w.send(lb)
				default:
					return
				}
			}
		}
	}
}

func (w *writer) send(lb *lineBuf) {
	err := w.write(lb.b)
	putBuf(lb)
	if err != nil {
		w.sink.dropped.Add(1)
		w.report(err)
	}
}

func (w *writer) write(b []byte) error {
	var err error
	switch w.dest.kind {
	case kindUDP:
		_, err = w.udp.WriteToUDPAddrPort(b, w.dest.udp)
	case kindUnix:
		err = w.writeUnix(b)
	default:
		_, err = w.file.Write(b)
	}
	return err
}

// writeUnix sends one datagram, dialing first if needed. After a failure
// the socket is dropped so the next line redials: syslog daemons recreate
// their socket when they restart.
func (w *writer) writeUnix(b []byte) error {
	c := w.unix
	if c == nil {
		nc, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: w.dest.path, Net: "unixgram"})
		if err != nil {
			return err
		}
		w.mu.Lock()
		if !w.deadline.IsZero() {
			_ = nc.SetWriteDeadline(w.deadline)
		}
		w.unix = nc
		w.mu.Unlock()
		c = nc
	}
	_, err := c.Write(b)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		w.mu.Lock()
		_ = c.Close()
		w.unix = nil
		w.mu.Unlock()
	}
	return err
}

// interrupt makes pending and future writes give up at deadline.
func (w *writer) interrupt(deadline time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.deadline = deadline
	if w.udp != nil {
		_ = w.udp.SetWriteDeadline(deadline)
	}
	if w.unix != nil {
		_ = w.unix.SetWriteDeadline(deadline)
	}
	if w.file != nil {
		_ = w.file.SetWriteDeadline(deadline) // fails harmlessly if not pollable
	}
}

func (w *writer) closeConns() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.udp != nil {
		_ = w.udp.Close()
	}
	if w.unix != nil {
		_ = w.unix.Close()
	}
	if w.file != nil && w.ownFile {
		_ = w.file.Close()
	}
}

// report tells OnError about the first real failure of this target, in
// HAProxy's words. Timeouts are not reported: like EAGAIN in HAProxy they
// only mean a slow target, and are visible through Dropped.
func (w *writer) report(err error) {
	if w.reported || w.onError == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return
	}
	w.reported = true
	w.onError(fmt.Errorf("sendmsg()/writev() failed in logger #%d: %s", w.idx+1, describe(err)))
}

// describe renders an error like strerror() plus "(errno=N)" when it
// carries an errno, which is how HAProxy prints socket errors.
func describe(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	text := errno.Error()
	if text != "" {
		text = strings.ToUpper(text[:1]) + text[1:]
	}
	return fmt.Sprintf("%s (errno=%d)", text, int(errno))
}
