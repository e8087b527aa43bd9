package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"time"
)

// The Layer 7 benchmark's requests. Host and path miss every ACL of the
// benchmark configuration, so each request is matched against all of
// them before it takes the default backend.
const (
	// RequestKeepAlive is what a keep-alive client sends.
	RequestKeepAlive = "GET /index.html HTTP/1.1\r\n" +
		"Host: www.example.com\r\n" +
		"User-Agent: sluice-l7load\r\n" +
		"Accept: */*\r\n\r\n"
	// RequestClose is the same request from a client that closes after
	// the response.
	RequestClose = "GET /index.html HTTP/1.1\r\n" +
		"Host: www.example.com\r\n" +
		"User-Agent: sluice-l7load\r\n" +
		"Accept: */*\r\n" +
		"Connection: close\r\n\r\n"
)

// maxResponseHead is the largest response head the client reads.
const maxResponseHead = 8 << 10

var (
	errNoLength  = errors.New("response without Content-Length")
	errHeadLarge = errors.New("response head larger than 8 KiB")
	errBadStatus = errors.New("malformed status line")
)

// statusError is a response other than 200.
type statusError int

func (e statusError) Error() string { return fmt.Sprintf("status %d", int(e)) }

// httpConn is one client connection: it writes a request and reads its
// response, framed by Content-Length, through a buffer it keeps, so a
// round trip allocates nothing.
type httpConn struct {
	c    *net.TCPConn
	buf  []byte
	r, w int
}

func newHTTPConn(c *net.TCPConn) *httpConn {
	return &httpConn{c: c, buf: make([]byte, maxResponseHead)}
}

// roundTrip sends req and reads one response. A status other than 200 is
// an error (a statusError): a proxy that answers 503 quickly must not look
// fast.
func (h *httpConn) roundTrip(req []byte) error {
	if _, err := h.c.Write(req); err != nil {
		return err
	}
	return h.readResponse()
}

// readResponse reads one response head and its body.
func (h *httpConn) readResponse() error {
	end := -1
	for {
		if end = bytes.Index(h.buf[h.r:h.w], []byte("\r\n\r\n")); end >= 0 {
			break
		}
		if err := h.fill(); err != nil {
			return err
		}
	}
	head := h.buf[h.r : h.r+end+2]
	h.r += end + 4
	status, length, err := parseResponseHead(head)
	if err != nil {
		return err
	}
	for length > 0 {
		if h.r == h.w {
			if err := h.fill(); err != nil {
				return err
			}
		}
		n := min(length, h.w-h.r)
		h.r += n
		length -= n
	}
	if status != 200 {
		return statusError(status)
	}
	return nil
}

// fill reads more into the buffer, moving what is left to its start.
func (h *httpConn) fill() error {
	if h.r > 0 {
		h.w = copy(h.buf, h.buf[h.r:h.w])
		h.r = 0
	}
	if h.w == len(h.buf) {
		return errHeadLarge
	}
	n, err := h.c.Read(h.buf[h.w:])
	h.w += n
	return err
}

// parseResponseHead reads the status and Content-Length of a head (its
// lines up to the last CRLF); 1xx, 204 and 304 responses have no body.
func parseResponseHead(head []byte) (status, length int, err error) {
	if len(head) < 12 || !bytes.HasPrefix(head, []byte("HTTP/1.")) || head[8] != ' ' {
		return 0, 0, errBadStatus
	}
	for _, c := range head[9:12] {
		if c < '0' || c > '9' {
			return 0, 0, errBadStatus
		}
		status = status*10 + int(c-'0')
	}
	if status < 200 || status == 204 || status == 304 {
		return status, 0, nil
	}
	for line := head; len(line) > 0; {
		i := bytes.IndexByte(line, '\n')
		if i < 0 {
			break
		}
		l := line[:i]
		line = line[i+1:]
		if len(l) < 15 || !asciiEqualFold(l[:15], "content-length:") {
			continue
		}
		length = 0
		for _, c := range bytes.TrimSpace(l[15:]) {
			if c < '0' || c > '9' {
				return 0, 0, errNoLength
			}
			length = length*10 + int(c-'0')
		}
		return status, length, nil
	}
	return 0, 0, errNoLength
}

// asciiEqualFold compares b with a lower-case ASCII string, ignoring
// b's case.
func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// dialHTTP opens n keep-alive connections to addr, each completing one
// request, so that the whole path through the proxy (and the proxy's
// connection to the server) exists when it returns. On failure it
// returns the connections that did open with the first error; the caller
// owns both.
func dialHTTP(addr string, n int) ([]*httpConn, error) {
	raddr, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, err
	}
	req := []byte(RequestKeepAlive)
	conns := make([]*httpConn, n)
	errs := parallel(n, func(i int) error {
		c, err := net.DialTCP("tcp", nil, raddr)
		if err != nil {
			return err
		}
		h := newHTTPConn(c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := h.roundTrip(req); err != nil {
			c.Close()
			return err
		}
		c.SetDeadline(time.Time{})
		conns[i] = h
		return nil
	})
	opened := conns[:0]
	for _, c := range conns {
		if c != nil {
			opened = append(opened, c)
		}
	}
	return opened, errs
}

// tcpConns lists the sockets of conns, for halt and closeAll.
func tcpConns(conns []*httpConn) []*net.TCPConn {
	out := make([]*net.TCPConn, len(conns))
	for i, c := range conns {
		out[i] = c.c
	}
	return out
}
