//go:build !linux

package tunnel

import (
	"context"
	"errors"
	"io"
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

func copyBulk(dst, src Conn) (int64, error) { return io.Copy(dst, src) }
