package l4test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowReader reads at most max bytes per Read and pauses before each.
type slowReader struct {
	r     io.Reader
	max   int
	pause time.Duration
}

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.pause)
	return s.r.Read(p[:min(len(p), s.max)])
}

// A client that writes in tiny pieces with pauses and a client that reads
// a few MiB slowly both get every byte, in order, even though each lasts
// longer than the client's inactivity timeout (1s): steady slow traffic is
// activity.
// Meanwhile fast connections through the same Sluice keep completing.
func TestSlowReaderAndSlowWriter(t *testing.T) {
	const timeout = time.Second
	echo := startEcho(t)
	gen := startGen(t, 'g', nil)
	_, addrs := startEngineN(t, fmt.Sprintf("defaults\n mode tcp\n timeout connect 5s\n timeout client %[1]dms\n timeout server %[1]dms\n", timeout.Milliseconds())+
		"listen echo\n bind %[1]s\n server e "+echo.addr()+"\n"+
		// The generator's side is idle once it has sent everything while
		// the slow reader drains Sluice's buffers: a short server timeout
		// there cuts the tail (TestServerTimeoutWhileClientDrains), so the
		// slow reader is tested against the client timeout only.
		"listen gen\n bind %[2]s\n timeout server 30s\n server g "+gen+"\n", 2)
	echoAddr, genAddr := addrs[0], addrs[1]

	slowDone := make(chan struct{})
	var slowWG sync.WaitGroup
	slowWG.Add(2)

	// Slow writer: 1 to 7 bytes at a time, 8ms apart; each piece must come
	// back (echoed) before the next is written, so Sluice cannot be holding
	// small pieces back to coalesce them.
	var writerElapsed time.Duration
	go func() {
		defer slowWG.Done()
		c, err := net.Dial("tcp", echoAddr)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		rng := rand.New(rand.NewPCG(1, 2))
		start := time.Now()
		total := 0
		for i := 0; i < 160; i++ {
			piece := make([]byte, 1+rng.IntN(7))
			for j := range piece {
				piece[j] = byte(rng.Uint32())
			}
			if _, err := c.Write(piece); err != nil {
				t.Errorf("slow writer: piece %d (offset %d): %v", i, total, err)
				return
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got := make([]byte, len(piece))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Errorf("slow writer: echo of piece %d (offset %d): %v", i, total, err)
				return
			}
			if !bytes.Equal(got, piece) {
				t.Errorf("slow writer: piece %d (offset %d) echoed as %x, sent %x", i, total, got, piece)
				return
			}
			total += len(piece)
			time.Sleep(8 * time.Millisecond)
		}
		writerElapsed = time.Since(start)
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
			t.Errorf("slow writer: after half-close got %q, %v; want a clean EOF", rest, err)
		}
	}()

	// Slow reader: a small receive buffer and 16 KiB every 5ms, while the
	// server sends 4 MiB as fast as it can.
	const readSize = 4 << 20
	var readerElapsed time.Duration
	go func() {
		defer slowWG.Done()
		c, err := net.Dial("tcp", genAddr)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		c.(*net.TCPConn).SetReadBuffer(16 << 10)
		c.SetDeadline(time.Now().Add(60 * time.Second))
		start := time.Now()
		if _, err := c.Write(genReq{seed: 42, length: readSize}.bytes()); err != nil {
			t.Errorf("slow reader: request: %v", err)
			return
		}
		name := make([]byte, 1)
		if _, err := io.ReadFull(c, name); err != nil || name[0] != 'g' {
			t.Errorf("slow reader: greeting %q, %v", name, err)
			return
		}
		n, err := verifyStream(slowReader{c, 16 << 10, 5 * time.Millisecond}, 42, readSize+1)
		readerElapsed = time.Since(start)
		if err != nil || n != readSize {
			t.Errorf("slow reader: got %d of %d bytes intact, then %v", n, readSize, err)
		}
	}()
	go func() { slowWG.Wait(); close(slowDone) }()

	// Fast connections: 1 MiB echoed per connection, over and over, while
	// the slow ones run; none may fail or crawl.
	const workers, fastSize = 4, 1 << 20
	var rounds [workers]atomic.Int64
	var fastWG sync.WaitGroup
	for w := range workers {
		fastWG.Add(1)
		go func() {
			defer fastWG.Done()
			for round := 0; ; round++ {
				select {
				case <-slowDone:
					return
				default:
				}
				if err := fastEcho(echoAddr, uint64(w<<20|round), fastSize); err != nil {
					t.Errorf("fast worker %d, round %d: %v", w, round, err)
					return
				}
				rounds[w].Add(1)
			}
		}()
	}
	fastWG.Wait()
	<-slowDone
	if writerElapsed <= timeout || readerElapsed <= timeout {
		t.Errorf("the slow connections lasted %v (writer) and %v (reader); the test needs both longer than the %v timeouts",
			writerElapsed, readerElapsed, timeout)
	}
	for w := range workers {
		if r := rounds[w].Load(); r < 3 {
			t.Errorf("fast worker %d completed only %d transfers while the slow connections ran", w, r)
		}
	}
	t.Logf("slow writer %v, slow reader %v, fast rounds %d %d %d %d", writerElapsed.Round(time.Millisecond),
		readerElapsed.Round(time.Millisecond), rounds[0].Load(), rounds[1].Load(), rounds[2].Load(), rounds[3].Load())
}

// fastEcho sends size bytes of stream(seed) through an echo, half-closes,
// and checks the echo, all within 5 seconds.
func fastEcho(addr string, seed uint64, size int64) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	werr := make(chan error, 1)
	go func() {
		_, err := writeStream(c, seed, size)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		werr <- err
	}()
	n, err := verifyStream(c, seed, size+1)
	if e := <-werr; e != nil && err == nil {
		err = fmt.Errorf("write: %v", e)
	}
	if err == nil && n != size {
		err = fmt.Errorf("echoed %d bytes, want %d", n, size)
	}
	return err
}

// A server sends 8 MiB and closes at once; the client reads them steadily
// but more slowly than the server sent them. Once the server's last byte is
// in Sluice's buffers the server side has nothing more to say, yet the
// client must still get every byte: HAProxy 2.6 delivers all 8 MiB here
// (it does not run the server's read timeout while its buffer towards the
// client is full), and the client side, the one that sets the pace, is
// never idle.
func TestServerTimeoutWhileClientDrains(t *testing.T) {
	const size = 8 << 20
	gen := startGen(t, 'g', nil)
	_, addr := startEngine(t, "defaults\n mode tcp\n timeout connect 5s\n timeout client 5s\n timeout server 300ms\n"+
		"listen l\n bind %[1]s\n server g "+gen+"\n")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.Write(genReq{seed: 7, length: size}.bytes()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	name := make([]byte, 1)
	if _, err := io.ReadFull(c, name); err != nil {
		t.Fatal(err)
	}
	n, err := verifyStream(slowReader{c, 64 << 10, 10 * time.Millisecond}, 7, size+1)
	if err != nil || n != size {
		t.Fatalf("the client got %d of %d bytes in %v, then %v; want every byte then EOF", n, size,
			time.Since(start).Round(time.Millisecond), err)
	}
}
