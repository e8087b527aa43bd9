package loadgen

import (
	"bytes"
	"errors"
	"net"
	"sync"
)

// HTTPResponse is what HTTPBackend answers to every request: a tiny
// reply, the size of the nginx backend's.
const HTTPResponse = "HTTP/1.1 200 OK\r\n" +
	"Server: l7backend\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Length: 6\r\n\r\n" +
	"hello\n"

// HTTPBackend is the Layer 7 benchmark's Go server, for machines without
// nginx: it answers every request head (requests without bodies only)
// with HTTPResponse, keeps connections open unless the request said
// "Connection: close", and allocates nothing per request.
type HTTPBackend struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// NewHTTPBackend serves on ln until Close.
func NewHTTPBackend(ln net.Listener) *HTTPBackend {
	b := &HTTPBackend{ln: ln, conns: map[net.Conn]struct{}{}}
	b.wg.Add(1)
	go b.accept()
	return b
}

// Addr is the address the backend listens on.
func (b *HTTPBackend) Addr() net.Addr { return b.ln.Addr() }

// Close stops accepting, closes every connection and waits for their
// goroutines.
func (b *HTTPBackend) Close() {
	b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *HTTPBackend) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // EMFILE and friends: keep serving the others
		}
		b.mu.Lock()
		b.conns[c] = struct{}{}
		b.mu.Unlock()
		b.wg.Add(1)
		go b.serve(c)
	}
}

var (
	headEnd     = []byte("\r\n\r\n")
	httpReplyOK = []byte(HTTPResponse)
)

func (b *HTTPBackend) serve(c net.Conn) {
	defer b.wg.Done()
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		c.Close()
	}()
	buf := make([]byte, 8<<10)
	out := make([]byte, 0, 4*len(httpReplyOK))
	w := 0
	for {
		n, err := c.Read(buf[w:])
		if n == 0 && err != nil {
			return
		}
		w += n
		// Answer every complete head read so far in one write.
		out, r, closing := out[:0], 0, false
		for {
			i := bytes.Index(buf[r:w], headEnd)
			if i < 0 {
				break
			}
			closing = closing || wantsClose(buf[r:r+i+2])
			out = append(out, httpReplyOK...)
			r += i + len(headEnd)
		}
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil || closing {
				return
			}
		}
		w = copy(buf, buf[r:w])
		if w == len(buf) {
			return // a head larger than the buffer: not ours
		}
	}
}

// wantsClose reports whether a head has a "Connection: close" line, in
// any case.
func wantsClose(head []byte) bool {
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) > 11 && asciiEqualFold(line[:11], "connection:") &&
			asciiEqualFold(bytes.TrimSpace(line[11:]), "close") {
			return true
		}
	}
	return false
}
