package engine

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"sluice/internal/proxyproto"
	"sluice/internal/sample"
	"sluice/internal/tunnel"
)

// inspectBufSize is how much request data content rules may look at:
// HAProxy's default tune.bufsize less its tune.maxrewrite reserve.
const inspectBufSize = 16384 - 1024

var inspectBufs = sync.Pool{New: func() any { b := make([]byte, inspectBufSize); return &b }}

// peeker reads a client's first bytes without consuming them: they stay
// in the socket and are spliced to the server with the rest, so content
// inspection costs no copy and no buffering on the relay path.
type peeker struct {
	c    tunnel.Conn
	buf  *[]byte
	n    int
	eof  bool
	full bool
}

func newPeeker(c tunnel.Conn) *peeker {
	return &peeker{c: c, buf: inspectBufs.Get().(*[]byte)}
}

func (p *peeker) release() {
	if p != nil && p.buf != nil {
		inspectBufs.Put(p.buf)
		p.buf = nil
	}
}

func (p *peeker) data() []byte { return (*p.buf)[:p.n] }

// done reports whether no more data can change what was peeked.
func (p *peeker) done() bool { return p.eof || p.full }

// now peeks at whatever has arrived, without waiting. On a TLS client it
// sees what content inspection already read: records still in the socket
// are only decoded by more.
func (p *peeker) now() error {
	if t, ok := p.c.(*tlsClient); ok {
		p.n = copy(*p.buf, t.ahead)
		p.full = p.n == len(*p.buf)
		return nil
	}
	rc, err := p.c.SyscallConn()
	if err != nil {
		return err
	}
	var perr error
	err = rc.Control(func(fd uintptr) {
		perr = p.peekFD(int(fd), unix.MSG_DONTWAIT)
	})
	if err != nil {
		return err
	}
	if errors.Is(perr, unix.EAGAIN) {
		return nil
	}
	return perr
}

// more waits until more data than already seen arrives, the client
// closes, or the deadline passes (reported as os.ErrDeadlineExceeded).
func (p *peeker) more(deadline time.Time) error {
	if p.done() {
		return nil
	}
	if t, ok := p.c.(*tlsClient); ok {
		return p.moreTLS(t, deadline)
	}
	rc, err := p.c.SyscallConn()
	if err != nil {
		return err
	}
	p.c.SetReadDeadline(deadline)
	defer p.c.SetReadDeadline(time.Time{})
	seen := p.n
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		perr = p.peekFD(int(fd), unix.MSG_DONTWAIT)
		if errors.Is(perr, unix.EAGAIN) {
			perr = nil
			return false
		}
		if perr == nil && p.n == seen && proxyproto.PeerClosed(int(fd)) {
			p.eof = true // a FIN behind data MSG_PEEK already showed
		}
		// Nothing new yet: wait for the next readiness edge.
		return perr != nil || p.n > seen || p.done()
	})
	if err != nil {
		return err
	}
	return perr
}

// moreTLS reads clear text from a TLS client: what is read stays in the
// connection's read-ahead buffer for the stream, as a peek would.
func (p *peeker) moreTLS(t *tlsClient, deadline time.Time) error {
	data, err := t.readAhead(deadline, len(*p.buf))
	p.n = copy(*p.buf, data)
	p.full = p.n == len(*p.buf)
	if errors.Is(err, io.EOF) {
		p.eof, err = true, nil
	}
	return err
}

func (p *peeker) peekFD(fd, flags int) error {
	buf := *p.buf
	for {
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_PEEK|flags)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			p.eof = true
		}
		p.n = n
		p.full = n == len(buf)
		return nil
	}
}

// inspect runs content rules as HAProxy's tcp_inspect_request does: each
// time data arrives the rules are evaluated; a rule that needs more data
// waits, until the inspect delay expires, the buffer fills or the client
// closes, when the rules decide on what is there. Without an inspect
// delay they decide at once.
func inspect(p *peeker, rules []tcpRule, delay time.Duration, c *sample.Ctx) (verdict, error) {
	if err := p.now(); err != nil {
		return verdictReject, err
	}
	deadline := time.Now().Add(delay)
	for {
		c.Payload = p.data()
		c.Final = delay == 0 || p.done() || !time.Now().Before(deadline)
		v := run(rules, c, nil)
		if v != verdictWait {
			return v, nil
		}
		err := p.more(deadline)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			deadline = time.Now() // final pass on what arrived
			continue
		}
		if err != nil {
			return verdictReject, err
		}
	}
}
