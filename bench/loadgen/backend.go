// Package loadgen drives benchmark traffic through a proxy and measures
// what the proxy process spends on it: CPU time from /proc/PID/stat,
// resident memory and descriptors from /proc/PID/status and /proc/PID/fd.
// It also holds the backend servers the traffic ends at.
//
// At Layer 4 (Exchange, Connect, Bulk, Idle) the client and the backend
// speak a one-byte protocol: the first byte a client sends picks what the
// backend does with the connection (see the Mode constants). Proxies in
// mode tcp relay it untouched. At Layer 7 (HTTPKeepAlive, HTTPClose,
// HTTPLatency, HTTPIdle) the client speaks HTTP/1.1 to a proxy in mode
// http, in front of nginx or HTTPBackend.
package loadgen

import (
	"errors"
	"net"
	"sync"
)

// Mode is the first byte of a benchmark connection; it tells the backend
// how to treat the rest of it.
type Mode byte

const (
	// ModeEcho: the backend writes back every byte it reads, the mode
	// byte included, until the client closes.
	ModeEcho Mode = 'E'
	// ModeUpload: the backend reads and discards everything.
	ModeUpload Mode = 'U'
	// ModeDownload: the backend writes an endless stream and discards
	// what it reads.
	ModeDownload Mode = 'S'
	// ModeBoth: upload and download at the same time.
	ModeBoth Mode = 'B'
)

// bulkBuf is the size of one write or read of a streaming connection.
const bulkBuf = 64 << 10

// Backend is the server at the far end of the proxy. Each connection
// gets a goroutine and a pooled buffer; the backend's cost is the same
// whichever proxy is in front of it.
type Backend struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	small sync.Pool // *[]byte of 4 KiB, for echo
	big   sync.Pool // *[]byte of bulkBuf, for streaming
}

// NewBackend serves the benchmark protocol on ln until Close.
func NewBackend(ln net.Listener) *Backend {
	b := &Backend{ln: ln, conns: map[net.Conn]struct{}{}}
	b.small.New = func() any { s := make([]byte, 4<<10); return &s }
	b.big.New = func() any { s := make([]byte, bulkBuf); return &s }
	b.wg.Add(1)
	go b.accept()
	return b
}

// Addr is the address the backend listens on.
func (b *Backend) Addr() net.Addr { return b.ln.Addr() }

// Close stops accepting, closes every connection and waits for their
// goroutines to end.
func (b *Backend) Close() {
	b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *Backend) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
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

func (b *Backend) serve(c net.Conn) {
	defer b.wg.Done()
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		c.Close()
	}()
	sp := b.small.Get().(*[]byte)
	buf := *sp
	n, err := c.Read(buf)
	if err != nil || n == 0 {
		b.small.Put(sp)
		return
	}
	switch Mode(buf[0]) {
	case ModeEcho:
		defer b.small.Put(sp)
		for err == nil {
			if _, err = c.Write(buf[:n]); err == nil {
				n, err = c.Read(buf)
			}
		}
	case ModeUpload:
		b.small.Put(sp)
		b.discard(c)
	case ModeDownload:
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer b.small.Put(sp)
			// Nothing but the close is expected; closing unblocks stream.
			for _, err := c.Read(buf); err == nil; _, err = c.Read(buf) {
			}
			c.Close()
		}()
		b.stream(c)
	case ModeBoth:
		b.small.Put(sp)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.discard(c)
		}()
		b.stream(c)
	default:
		b.small.Put(sp)
	}
}

// discard reads until the connection fails or ends.
func (b *Backend) discard(c net.Conn) {
	bp := b.big.Get().(*[]byte)
	defer b.big.Put(bp)
	for {
		if _, err := c.Read(*bp); err != nil {
			return
		}
	}
}

// stream writes until the connection fails.
func (b *Backend) stream(c net.Conn) {
	bp := b.big.Get().(*[]byte)
	defer b.big.Put(bp)
	for {
		if _, err := c.Write(*bp); err != nil {
			return
		}
	}
}
