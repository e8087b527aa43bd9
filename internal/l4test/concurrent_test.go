package l4test

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// 2,000 connections are open through Sluice at the same time, each
// exchanging its own message with an echo server; then all close, and the
// closes reach the server.
func TestTwoThousandConcurrentConnections(t *testing.T) {
	const n = 2000
	// In this process: n client sockets, 2n in the engine, n in the server.
	raiseNofile(t, 4*n+200)
	echo := startEcho(t)
	_, addr := startEngine(t, "global\n maxconn 10000\ndefaults\n mode tcp\n timeout connect 5s\n timeout client 30s\n timeout server 30s\n"+
		"listen many\n bind %[1]s\n server echo "+echo.addr()+"\n")

	conns := make([]net.Conn, n)
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256) // dials in flight: stay within the SYN backlog
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			<-sem
			if err != nil {
				errs <- fmt.Errorf("conn %d: dial: %v", i, err)
				return
			}
			conns[i] = c
			c.SetDeadline(time.Now().Add(30 * time.Second))
			msg := fmt.Sprintf("hello from connection %04d, unique %x\n", i, i*7919)
			if _, err := io.WriteString(c, msg); err != nil {
				errs <- fmt.Errorf("conn %d: write: %v", i, err)
				return
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil {
				errs <- fmt.Errorf("conn %d: read: %v", i, err)
				return
			}
			if string(got) != msg {
				errs <- fmt.Errorf("conn %d: echoed %q, want %q", i, got, msg)
			}
		}()
	}
	wg.Wait()
	close(errs)
	bad := 0
	for err := range errs {
		if bad++; bad <= 10 {
			t.Error(err)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d connections failed", bad, n)
	}
	// Every connection has answered and none is closed yet: the server must
	// be holding all of them at once.
	if live := echo.live.Load(); live != n {
		t.Fatalf("server holds %d connections at once, want %d", live, n)
	}
	for _, c := range conns {
		c.Close()
	}
	if !waitFor(15*time.Second, func() bool { return echo.live.Load() == 0 }) {
		t.Fatalf("%d server connections still open 15s after every client closed", echo.live.Load())
	}
}
