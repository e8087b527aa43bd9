package l4test

import (
	"crypto/sha256"
	"io"
	"net"
	"testing"
	"time"
)

// hashedIO is the outcome of one direction at one end.
type hashedIO struct {
	n   int64
	sum [32]byte
	err error
}

// sendHashed writes n bytes of stream(seed) to c, hashing them, then
// half-closes.
func sendHashed(c *net.TCPConn, seed uint64, n int64) hashedIO {
	h := sha256.New()
	s := newStream(seed)
	buf := make([]byte, 256<<10)
	var r hashedIO
	for r.n < n {
		b := buf[:min(int64(len(buf)), n-r.n)]
		s.fill(b)
		h.Write(b)
		m, err := c.Write(b)
		r.n += int64(m)
		if err != nil {
			r.err = err
			break
		}
	}
	if r.err == nil {
		r.err = c.CloseWrite()
	}
	copy(r.sum[:], h.Sum(nil))
	return r
}

// recvHashed reads c to EOF, hashing and counting.
func recvHashed(c *net.TCPConn) hashedIO {
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var r hashedIO
	for {
		m, err := c.Read(buf)
		h.Write(buf[:m])
		r.n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			r.err = err
			break
		}
	}
	copy(r.sum[:], h.Sum(nil))
	return r
}

// 1 GiB goes each way at the same time through the sluice binary; each end
// hashes what it sends and what it receives: the checksums and byte counts
// must match exactly.
func TestIntegrityBothWays(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	const clientSeed, serverSeed = 1, 2

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type serverResult struct{ sent, got hashedIO }
	srvDone := make(chan serverResult, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvDone <- serverResult{got: hashedIO{err: err}}
			return
		}
		defer c.Close()
		tc := c.(*net.TCPConn)
		tc.SetDeadline(time.Now().Add(3 * time.Minute))
		sent := make(chan hashedIO, 1)
		go func() { sent <- sendHashed(tc, serverSeed, size) }()
		got := recvHashed(tc)
		srvDone <- serverResult{<-sent, got}
	}()

	addr := freeAddr(t)
	startSluice(t, "defaults\n mode tcp\n timeout connect 5s\n timeout client 30s\n timeout server 30s\n"+
		"listen big\n bind "+addr+"\n server s1 "+ln.Addr().String()+"\n")

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tc := c.(*net.TCPConn)
	tc.SetDeadline(time.Now().Add(3 * time.Minute))
	start := time.Now()
	sentCh := make(chan hashedIO, 1)
	go func() { sentCh <- sendHashed(tc, clientSeed, size) }()
	got := recvHashed(tc)
	sent := <-sentCh
	srv := <-srvDone
	elapsed := time.Since(start)

	for _, e := range []struct {
		what string
		err  error
	}{{"client send", sent.err}, {"client receive", got.err}, {"server send", srv.sent.err}, {"server receive", srv.got.err}} {
		if e.err != nil {
			t.Errorf("%s: %v", e.what, e.err)
		}
	}
	check := func(dir string, tx, rx hashedIO) {
		if tx.n != size || rx.n != size {
			t.Errorf("%s: sent %d bytes, received %d, want %d each", dir, tx.n, rx.n, size)
		}
		if tx.sum != rx.sum {
			t.Errorf("%s: SHA-256 sent %x, received %x", dir, tx.sum, rx.sum)
		}
	}
	check("client->server", sent, srv.got)
	check("server->client", srv.sent, got)
	t.Logf("%d MiB each way in %v (%.0f MiB/s per direction)", size>>20, elapsed.Round(time.Millisecond),
		float64(size>>20)/elapsed.Seconds())
}
