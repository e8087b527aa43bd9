//go:build !linux

package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"
)

// evRelay is a relay's membership of an event poller; other systems
// relay with a goroutine per direction.
type evRelay struct{}

func startEvents(*relay) bool { return false }
func (*evRelay) release()     {}
func (*evRelay) abort()       {}

// Dial is only available on Linux: errors.ErrUnsupported says to dial
// with the net package.
func Dial(context.Context, netip.AddrPort, time.Duration) (Conn, error) {
	return nil, errors.ErrUnsupported
}

// DialNear is Dial's twin, for the same reason.
func DialNear(context.Context, netip.AddrPort, time.Duration, Conn) (Conn, error) {
	return nil, errors.ErrUnsupported
}

// DialPolled is only available on Linux, for the same reason.
func DialPolled(context.Context, netip.AddrPort, time.Duration) (Conn, error) {
	return nil, errors.ErrUnsupported
}

// Listening is only available on Linux.
type Listening struct{}

// Watch is only available on Linux: errors.ErrUnsupported says to accept
// with the net package.
func Watch(*net.TCPListener, func()) (*Listening, error) { return nil, errors.ErrUnsupported }

// Accept is never called: Watch fails.
func (*Listening) Accept() (Conn, error) { return nil, errors.ErrUnsupported }

// Close is never called: Watch fails.
func (*Listening) Close() {}

func copyBulk(dst, src Conn) (int64, error) { return io.Copy(dst, src) }

// Polled is only made on Linux.
type Polled struct{ *net.TCPConn }

// PolledListener is only available on Linux.
type PolledListener struct{}

// ListenPolled is only available on Linux: errors.ErrUnsupported says to
// accept with the net package.
func ListenPolled(*net.TCPListener) (*PolledListener, error) { return nil, errors.ErrUnsupported }

// Accept is never called: ListenPolled fails.
func (*PolledListener) Accept() (Conn, error) { return nil, errors.ErrUnsupported }

// Close is never called: ListenPolled fails.
func (*PolledListener) Close() error { return nil }
