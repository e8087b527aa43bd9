package l4test

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"
)

// sinkServer serves one mode per connection, chosen by the first byte the
// client sends: 'U' (upload: the server only reads), 'D' (download: the
// server only writes, endlessly), 'B' (both at once). It reports on ended
// when and how it saw each connection end.
type sinkServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	ended chan sinkEnd
	got   chan int64 // bytes the server has read so far, reported once past 256 KiB
}

type sinkEnd struct {
	at  time.Time
	err error // what ended it: the read's or the write's error (nil: EOF)
}

func startSink(t *testing.T) *sinkServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sinkServer{ln: ln, ended: make(chan sinkEnd, 16), got: make(chan int64, 16)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c.(*net.TCPConn))
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *sinkServer) serve(c *net.TCPConn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	mode := make([]byte, 1)
	if _, err := io.ReadFull(c, mode); err != nil {
		return
	}
	end := make(chan error, 2)
	reader := func() {
		buf := make([]byte, 64<<10)
		var n int64
		reported := false
		for {
			m, err := c.Read(buf)
			n += int64(m)
			if !reported && n >= 256<<10 {
				s.got <- n
				reported = true
			}
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				end <- err
				return
			}
		}
	}
	writer := func() {
		_, err := writeStream(c, 9, 1<<40)
		end <- err
	}
	var err error
	switch mode[0] {
	case 'U':
		reader()
		err = <-end
	case 'D':
		writer()
		err = <-end
	case 'B':
		go reader()
		go writer()
		err = <-end
		c.Close() // end the other half, then let it report
		<-end
	}
	s.ended <- sinkEnd{time.Now(), err}
}

// A client that vanishes mid-transfer, with a close or with an RST
// (SO_LINGER 0), while uploading, downloading or both: the server sees its
// connection end promptly (well before any timeout), and afterwards
// Sluice's goroutines and descriptors in this process are back to what
// they were, both while it keeps running and once it is stopped.
//
// The garbage collector is off meanwhile: a socket Sluice forgot to close
// would otherwise be closed by its finalizer and the leak would go unseen.
// splice(2) pipes are the exception: the standard library pools them and
// closes them from finalizers, so they are counted apart, after collecting.
func TestClientGoneMidStream(t *testing.T) {
	sink := startSink(t)
	// Settle what the first network use creates (netpoll, timers), so the
	// baselines only move with connections.
	if c, err := net.Dial("tcp", sink.ln.Addr().String()); err == nil {
		c.Write([]byte{'U'})
		c.Close()
		<-sink.ended
	}
	runtime.GC()
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	base0 := settledCounts(t, nil)

	e, addr := startEngine(t, longTimeouts+"listen l\n bind %[1]s\n server s "+sink.ln.Addr().String()+"\n")
	// One complete connection first, so anything created once per engine
	// (not per connection) already exists.
	if c, err := net.Dial("tcp", addr); err != nil {
		t.Fatal(err)
	} else {
		c.Write([]byte{'U'})
		c.Close()
		<-sink.ended
	}
	base1 := settledCounts(t, nil)

	for _, mode := range []byte{'U', 'D', 'B'} {
		for _, rst := range []bool{false, true} {
			name := fmt.Sprintf("%c/close", mode)
			if rst {
				name = fmt.Sprintf("%c/rst", mode)
			}
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			tc := c.(*net.TCPConn)
			tc.SetDeadline(time.Now().Add(30 * time.Second))
			tc.Write([]byte{mode})
			// Get the transfer going in the mode's direction(s).
			if mode == 'U' || mode == 'B' {
				go writeStream(tc, 3, 1<<40) // ends when the socket closes
				select {
				case <-sink.got:
				case <-time.After(10 * time.Second):
					t.Fatalf("%s: the server never received the upload", name)
				}
			}
			if mode == 'D' || mode == 'B' {
				if n, err := verifyStream(tc, 9, 256<<10); err != nil || n != 256<<10 {
					t.Fatalf("%s: download: %d bytes, %v", name, n, err)
				}
			}
			if rst {
				tc.SetLinger(0)
			}
			gone := time.Now()
			tc.Close()
			select {
			case end := <-sink.ended:
				if d := end.at.Sub(gone); d > 3*time.Second {
					t.Errorf("%s: the server saw the end %v after the client left", name, d)
				}
				// An RST from the client must reach the server as an
				// RST, not as an orderly end.
				if rst && !isReset(end.err) {
					t.Errorf("%s: the server's connection ended with %v, want a reset", name, end.err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: the server's connection still open 10s after the client left (timeouts are 30s)", name)
			}
		}
	}
	settledCounts(t, &base1)

	e.HardStop()
	if !e.Wait(10 * time.Second) {
		t.Fatal("engine did not stop")
	}
	settledCounts(t, &base0)
	// Pooled splice pipes go once collected.
	var fds fdCount
	if !waitFor(10*time.Second, func() bool {
		runtime.GC()
		fds = countFDs(t)
		return fds.pipes <= base0.fds.pipes
	}) {
		t.Errorf("%d pipe descriptors after collecting, %d before the engine started", fds.pipes, base0.fds.pipes)
	}
}

type counts struct {
	goroutines int
	fds        fdCount
}

// settledCounts waits up to 10s for the goroutine count and the count of
// descriptors other than pipes to come down to at most want's, or, with
// want nil, to hold still for a moment; it returns them.
func settledCounts(t *testing.T, want *counts) counts {
	t.Helper()
	var c counts
	ok := waitFor(10*time.Second, func() bool {
		c = counts{runtime.NumGoroutine(), countFDs(t)}
		if want == nil {
			time.Sleep(50 * time.Millisecond)
			return c.goroutines == runtime.NumGoroutine() && c.fds.other == countFDs(t).other
		}
		return c.goroutines <= want.goroutines && c.fds.other <= want.fds.other
	})
	if !ok && want == nil {
		t.Fatalf("goroutines and descriptors still moving after 10s: %d goroutines, %d descriptors besides pipes", c.goroutines, c.fds.other)
	}
	if !ok {
		t.Fatalf("after 10s: %d goroutines (want at most %d), %d descriptors besides pipes (want at most %d)\n%s",
			c.goroutines, want.goroutines, c.fds.other, want.fds.other, goroutineDump())
	}
	return c
}
