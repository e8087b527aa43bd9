//go:build unix

package logsink

import (
	"fmt"
	"os"
	"syscall"
)

// openFD returns a private duplicate of fd as an *os.File. Duplicating
// keeps the caller's descriptor safe: closing (or garbage-collecting) our
// *os.File never closes stdout or an inherited fd, and a bad fd is reported
// at Open time instead of at the first line.
// own is true: the duplicate belongs to the Sink and is closed with it.
func openFD(fd int) (f *os.File, own bool, err error) {
	var nfd int
	syscall.ForkLock.RLock()
	nfd, err = syscall.Dup(fd)
	if err == nil {
		syscall.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, false, fmt.Errorf("cannot use file descriptor %d: %w", fd, err)
	}
	return os.NewFile(uintptr(nfd), fmt.Sprintf("fd@%d", fd)), true, nil
}
