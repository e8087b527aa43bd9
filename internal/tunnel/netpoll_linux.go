package tunnel

import (
	"sync"
	_ "unsafe" // go:linkname
)

// Go's network poller, called as the standard library's internal/poll
// calls it (runtime/netpoll.go pushes these functions to that package).
// A Polled uses it directly, instead of through an os.File, for two
// reasons. An os.File costs an fcntl(2), a finalizer and an allocation
// per socket. And its reads start by forgetting readiness the poller
// reported earlier, so that a read must try the socket before it may
// wait; with the poller's own calls, readiness persists until a wait
// consumes it, and a read that expects nothing yet can wait first, as
// HAProxy reads only what epoll reported (Polled.ReadAfterWait).
//
// The signatures are the runtime's, unchanged since Go 1.9;
// TestNetpollCalls exercises each one.

//go:linkname runtimePollServerInit internal/poll.runtime_pollServerInit
func runtimePollServerInit()

//go:linkname runtimePollOpen internal/poll.runtime_pollOpen
func runtimePollOpen(fd uintptr) (uintptr, int)

//go:linkname runtimePollClose internal/poll.runtime_pollClose
func runtimePollClose(pd uintptr)

//go:linkname runtimePollWait internal/poll.runtime_pollWait
func runtimePollWait(pd uintptr, mode int) int

//go:linkname runtimePollSetDeadline internal/poll.runtime_pollSetDeadline
func runtimePollSetDeadline(pd uintptr, d int64, mode int)

//go:linkname runtimePollUnblock internal/poll.runtime_pollUnblock
func runtimePollUnblock(pd uintptr)

// runtimePollWait's results (internal/poll's pollNoError and the rest).
const (
	pollNoError        = 0
	pollErrClosing     = 1
	pollErrTimeout     = 2
	pollErrNotPollable = 3
)

// netpollInit starts Go's poller, once; the net package has usually
// done it already.
var netpollInit sync.Once
