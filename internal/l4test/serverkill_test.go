package l4test

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

const longTimeouts = "defaults\n mode tcp\n timeout connect 5s\n timeout client 30s\n timeout server 30s\n"

// genConn dials addr, sends the request and reads the server's name.
func genConn(t *testing.T, addr string, r genReq) (net.Conn, byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, 0, err
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.Write(r.bytes()); err != nil {
		return nil, 0, err
	}
	name := make([]byte, 1)
	if _, err := io.ReadFull(c, name); err != nil {
		return nil, 0, fmt.Errorf("reading the server's name: %v", err)
	}
	return c, name[0], nil
}

// A server that ends some connections in the middle of a transfer, with a
// FIN or with an RST: each affected client sees exactly that promptly (all
// bytes sent before a FIN, then EOF; a reset after an RST), while other
// connections through the same Sluice, mid-transfer at that moment, finish
// intact.
func TestServerClosesMidStream(t *testing.T) {
	var mu sync.Mutex
	cutAt := map[uint64]time.Time{}
	gen := startGen(t, 'g', func(r genReq) {
		mu.Lock()
		cutAt[r.seed] = time.Now()
		mu.Unlock()
	})
	_, addr := startEngine(t, longTimeouts+"listen l\n bind %[1]s\n server g "+gen+"\n")

	const survivorSize = 16 << 20
	const head = 1 << 20 // what survivors read before the cuts
	victims := []genReq{
		{seed: 200, length: 64 << 20, cutAfter: 1<<20 + 123, cut: 'F'},
		{seed: 201, length: 64 << 20, cutAfter: 3<<20 + 1, cut: 'F'},
		{seed: 300, length: 64 << 20, cutAfter: 1<<20 + 77, cut: 'R'},
		{seed: 301, length: 64 << 20, cutAfter: 2 << 20, cut: 'R'},
	}
	var survivors []genReq
	for i := range 4 {
		survivors = append(survivors, genReq{seed: uint64(100 + i), length: survivorSize})
	}

	var headWG, victimWG, survivorWG sync.WaitGroup
	victimsDone := make(chan struct{})
	for _, r := range survivors {
		headWG.Add(1)
		survivorWG.Add(1)
		go func() {
			defer survivorWG.Done()
			c, _, err := genConn(t, addr, r)
			if err != nil {
				headWG.Done()
				t.Errorf("survivor %d: %v", r.seed, err)
				return
			}
			// Read the head, wait for the cuts, then read the rest: these
			// connections are mid-transfer while the others end.
			pr, pw := io.Pipe()
			verified := make(chan error, 1)
			var n int64
			go func() {
				var err error
				n, err = verifyStream(pr, r.seed, survivorSize+1)
				pr.CloseWithError(err)
				verified <- err
			}()
			_, err = io.CopyN(pw, c, head)
			headWG.Done()
			if err != nil {
				t.Errorf("survivor %d: reading the first MiB: %v", r.seed, err)
				pw.Close()
				<-verified
				return
			}
			<-victimsDone
			_, err = io.Copy(pw, c)
			pw.CloseWithError(err)
			if verr := <-verified; verr != nil || err != nil || n != survivorSize {
				t.Errorf("survivor %d: %d of %d bytes intact; copy %v, verify %v", r.seed, n, survivorSize, err, verr)
			}
		}()
	}
	headWG.Wait()

	for _, r := range victims {
		victimWG.Add(1)
		go func() {
			defer victimWG.Done()
			c, _, err := genConn(t, addr, r)
			if err != nil {
				t.Errorf("victim %d: %v", r.seed, err)
				return
			}
			n, err := verifyStream(c, r.seed, int64(r.length)+1)
			seen := time.Now()
			mu.Lock()
			cut, ok := cutAt[r.seed]
			mu.Unlock()
			switch {
			case !ok:
				t.Errorf("victim %d: connection ended (%d bytes, %v) before the server cut it", r.seed, n, err)
			case seen.Sub(cut) > 3*time.Second:
				t.Errorf("victim %d: the client saw the end %v after the server's cut", r.seed, seen.Sub(cut))
			}
			switch r.cut {
			case 'F':
				if err != nil || n != int64(r.cutAfter) {
					t.Errorf("victim %d (FIN after %d bytes): got %d bytes then %v; want every byte then EOF", r.seed, r.cutAfter, n, err)
				}
			case 'R':
				if !isReset(err) || n > int64(r.cutAfter) {
					t.Errorf("victim %d (RST after %d bytes): got %d bytes then %v; want a reset", r.seed, r.cutAfter, n, err)
				}
			}
		}()
	}
	victimWG.Wait()
	close(victimsDone)
	survivorWG.Wait()
}

// A real server process killed with SIGKILL mid-transfer: the clients it
// served see their connections end promptly with the bytes it had sent
// intact, and the clients of the other server, mid-transfer through the
// same sluice process, finish intact.
func TestServerProcessKilled(t *testing.T) {
	procA, addrA := startHelper(t, 'A')
	_, addrB := startHelper(t, 'B')
	addr := freeAddr(t)
	startSluice(t, longTimeouts+"listen l\n bind "+addr+"\n balance roundrobin\n server a "+addrA+"\n server b "+addrB+"\n")

	const size = 32 << 20
	const head = 1 << 20
	type conn struct {
		c    net.Conn
		name byte
		seed uint64
		pw   *io.PipeWriter
		done chan struct{}
		n    int64
		err  error
	}
	var conns []*conn
	for i := range 6 {
		r := genReq{seed: uint64(500 + i), length: size}
		c, name, err := genConn(t, addr, r)
		if err != nil {
			t.Fatalf("conn %d: %v", i, err)
		}
		pr, pw := io.Pipe()
		k := &conn{c: c, name: name, seed: r.seed, pw: pw, done: make(chan struct{})}
		go func() {
			defer close(k.done)
			k.n, k.err = verifyStream(pr, k.seed, size+1)
			pr.CloseWithError(k.err)
		}()
		if _, err := io.CopyN(pw, c, head); err != nil {
			t.Fatalf("conn %d (server %c): reading the first MiB: %v", i, name, err)
		}
		conns = append(conns, k)
	}
	perServer := map[byte]int{}
	for _, k := range conns {
		perServer[k.name]++
	}
	if perServer['A'] == 0 || perServer['B'] == 0 {
		t.Fatalf("connections per server %v: roundrobin must use both", perServer)
	}

	procA.cmd.Process.Kill()
	killed := time.Now()
	var wg sync.WaitGroup
	for _, k := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := io.Copy(k.pw, k.c)
			k.pw.CloseWithError(err)
			<-k.done
			took := time.Since(killed)
			if k.name == 'A' {
				if !closedErr(err) || k.n >= size || (k.err != nil && !isReset(k.err)) {
					t.Errorf("client of the killed server: %d of %d bytes, copy %v, verify %v; want a close (EOF or reset) with the bytes before it intact",
						k.n, size, err, k.err)
				}
				if took > 5*time.Second {
					t.Errorf("client of the killed server saw the close %v after the kill", took)
				}
				return
			}
			if err != nil || k.err != nil || k.n != size {
				t.Errorf("client of the live server: %d of %d bytes intact; copy %v, verify %v", k.n, size, err, k.err)
			}
		}()
	}
	wg.Wait()
}
