package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSockRelay runs the main cases with the server side dialed by Dial,
// with the event relay and with a goroutine per direction.
func TestSockRelay(t *testing.T) {
	dialSock = true
	defer func() { dialSock = false }()
	cases := relayCases()
	cases["SpliceUsed"], cases["SmallMessages"] = TestSpliceUsed, TestSmallMessages
	for name, f := range cases {
		t.Run(name, f)
	}
	useEvents = false
	defer func() { useEvents = true }()
	for name, f := range cases {
		if name != "SmallMessages" {
			t.Run("Goroutines"+name, f)
		}
	}
}

// TestDialRefused: a refused connection is reported as such and leaves
// no socket behind, whether Dial or DialPolled made it.
func TestDialRefused(t *testing.T) {
	for name, dial := range map[string]func(context.Context, netip.AddrPort, time.Duration) (Conn, error){
		"Dial": Dial, "DialPolled": DialPolled,
	} {
		t.Run(name, func(t *testing.T) {
			checkLeaks(t)
			ln := listen(t)
			addr := ln.Addr().(*net.TCPAddr).AddrPort()
			ln.Close()
			c, err := dial(context.Background(), addr, 5*time.Second)
			if err == nil {
				c.Close()
				t.Fatal("dial to a closed port succeeded")
			}
			var ne net.Error
			if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &ne) || ne.Timeout() {
				t.Fatalf("error %v, want a refusal", err)
			}
		})
	}
}

// TestSockBannerBeforeRelay: what the server sends before the relay
// starts (a banner) reaches the client, although its event came first.
func TestSockBannerBeforeRelay(t *testing.T) {
	checkLeaks(t)
	ln := listen(t)
	defer ln.Close()
	up, err := Dial(context.Background(), ln.Addr().(*net.TCPAddr).AddrPort(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if _, err := server.Write([]byte("220 hello\r\n")); err != nil {
		t.Fatal(err)
	}
	// Wait until the banner is in the proxy's socket, so its event has
	// come and gone before the relay starts.
	rc, _ := up.SyscallConn()
	for n := 0; n == 0; time.Sleep(time.Millisecond) {
		rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
	}
	if up.RemoteAddr().String() != ln.Addr().String() || up.LocalAddr().String() != server.RemoteAddr().String() {
		t.Errorf("addresses %v -> %v, want %v -> %v", up.LocalAddr(), up.RemoteAddr(), server.RemoteAddr(), ln.Addr())
	}
	client, front := pair(t)
	defer client.Close()
	res := make(chan Result, 1)
	Start(front, up, Timeouts{}, func(r Result) { res <- r })
	got := make([]byte, 11)
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil || string(got) != "220 hello\r\n" {
		t.Fatalf("client read %q, %v", got, err)
	}
	client.Close()
	server.CloseWrite()
	select {
	case r := <-res:
		if r.ServerToClient != 11 {
			t.Errorf("result %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("relay did not end")
	}
}
