//go:build !linux

package tunnel

import (
	"syscall"
	"time"
)

// Parked is a connection waiting for its next bytes without a goroutine;
// only Linux has one.
type Parked struct{}

// Park cannot park outside Linux: the caller waits itself.
func Park(c syscall.Conn, deadline time.Time, wake func(timedOut bool)) *Parked { return nil }

// Cancel does nothing outside Linux.
func (k *Parked) Cancel() {}
