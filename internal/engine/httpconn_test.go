package engine

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair is a connected pair of TCP sockets on loopback.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// TestSendThenFill: the message reaches the peer whole, and the answer's
// first bytes are in the buffer when sendThenFill returns; an answer
// that does not come in time, or a peer that closes, is the next fill's
// error; a message too large for the socket's buffers is sent whole all
// the same, its answer left to the next fill.
func TestSendThenFill(t *testing.T) {
	t.Run("answered", func(t *testing.T) {
		a, peer := tcpPair(t)
		h := newClientConn(a)
		if h.raw == nil {
			t.Fatal("a TCP connection has no raw connection")
		}
		go func() {
			buf := make([]byte, 5)
			if _, err := io.ReadFull(peer, buf); err == nil && string(buf) == "hello" {
				peer.Write([]byte("world"))
			}
		}()
		if n, err := h.sendThenFill([]byte("hello"), 5*time.Second); n != 5 || err != nil {
			t.Fatalf("sendThenFill: %d, %v", n, err)
		}
		if got := string(h.pending()); got != "world" {
			t.Fatalf("buffered after sendThenFill: %q, want the answer", got)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		a, peer := tcpPair(t)
		h := newClientConn(a)
		start := time.Now()
		if n, err := h.sendThenFill([]byte("hello"), 50*time.Millisecond); n != 5 || err != nil {
			t.Fatalf("sendThenFill: %d, %v", n, err)
		}
		if d := time.Since(start); d < 40*time.Millisecond {
			t.Errorf("returned after %v, before its timeout", d)
		}
		buf := make([]byte, 5)
		if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "hello" {
			t.Fatalf("peer read %q, %v", buf, err)
		}
		if _, err := h.fill(time.Now().Add(5 * time.Second)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("next fill: %v, want the wait's timeout", err)
		}
		// The error is reported once: the fill after reads again.
		peer.Write([]byte("late"))
		if _, err := h.fill(time.Now().Add(5 * time.Second)); err != nil || string(h.pending()) != "late" {
			t.Fatalf("fill after: %q, %v", h.pending(), err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		a, peer := tcpPair(t)
		h := newClientConn(a)
		go func() {
			io.ReadFull(peer, make([]byte, 5))
			peer.Close()
		}()
		if _, err := h.sendThenFill([]byte("hello"), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := h.fill(time.Now().Add(5 * time.Second)); err != io.EOF {
			t.Fatalf("next fill: %v, want EOF", err)
		}
	})
	t.Run("large", func(t *testing.T) {
		a, peer := tcpPair(t)
		h := newClientConn(a)
		msg := make([]byte, 16<<20)
		for i := range msg {
			msg[i] = byte(i)
		}
		got := make(chan error, 1)
		go func() {
			buf := make([]byte, len(msg))
			time.Sleep(20 * time.Millisecond) // the socket fills first
			if _, err := io.ReadFull(peer, buf); err != nil {
				got <- err
				return
			}
			for i := range buf {
				if buf[i] != byte(i) {
					got <- errors.New("the message arrived altered")
					return
				}
			}
			peer.Write([]byte("done"))
			got <- nil
		}()
		if n, err := h.sendThenFill(msg, 5*time.Second); n != len(msg) || err != nil {
			t.Fatalf("sendThenFill: %d, %v", n, err)
		}
		if err := <-got; err != nil {
			t.Fatal(err)
		}
		for len(h.pending()) < 4 {
			if _, err := h.fill(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		if string(h.pending()) != "done" {
			t.Fatalf("answer %q", h.pending())
		}
	})
}
