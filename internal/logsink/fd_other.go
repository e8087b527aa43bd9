//go:build !unix

package logsink

import (
	"fmt"
	"os"
)

// openFD supports only stdout and stderr where descriptors cannot be
// duplicated portably; own is false so that Close leaves them open.
func openFD(fd int) (f *os.File, own bool, err error) {
	switch fd {
	case 1:
		return os.Stdout, false, nil
	case 2:
		return os.Stderr, false, nil
	}
	return nil, false, fmt.Errorf("cannot use file descriptor %d on this platform", fd)
}
