//go:build !linux

package tunnel

// evRelay is a relay's membership of an event poller; other systems
// relay with a goroutine per direction.
type evRelay struct{}

func startEvents(*relay) bool { return false }
func (*evRelay) release()     {}
func (*evRelay) abort()       {}
