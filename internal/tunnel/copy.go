package tunnel

import (
	"io"
	"sync"

	"golang.org/x/sys/unix"
)

// bufSize is HAProxy's default tune.bufsize: messages up to this size are
// moved with read and write through a pooled buffer; a read that fills it
// switches the direction to splice.
const bufSize = 16384

var bufs = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// copyAdaptive moves bytes from src to dst as HAProxy does with splice-auto:
// small messages (request/response exchanges) go through a buffer, which
// costs two system calls per message, while splice(2) costs two per
// message plus pipe management. A buffer is only taken once data is
// readable and given back after each message, so an idle connection holds
// none. Once a read fills the buffer the stream is bulk, and the rest is
// spliced kernel to kernel. It returns the bytes copied; a nil error means
// src reached EOF.
func copyAdaptive(dst, src Conn) (int64, error) {
	if _, ok := src.(Layered); ok {
		return copyLayered(dst, src)
	}
	_, toLayered := dst.(Layered)
	rc, err := src.SyscallConn()
	if err != nil {
		return 0, err
	}
	var total int64
	for {
		var buf *[]byte
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			buf = bufs.Get().(*[]byte)
			for {
				n, rerr = unix.Read(int(fd), *buf)
				if rerr != unix.EINTR {
					break
				}
			}
			if rerr == unix.EAGAIN {
				bufs.Put(buf)
				return false // wait for readiness without holding the buffer
			}
			return true
		})
		if err != nil {
			return total, err
		}
		if rerr != nil {
			bufs.Put(buf)
			return total, rerr
		}
		if n <= 0 {
			bufs.Put(buf)
			return total, nil // EOF
		}
		w, werr := dst.Write((*buf)[:n])
		total += int64(w)
		full := n == len(*buf)
		bufs.Put(buf)
		if werr != nil {
			return total, werr
		}
		if full && !toLayered {
			m, err := copyBulk(dst, src)
			return total + m, err
		}
	}
}

// copyLayered moves bytes from a layered source (TLS) with plain reads,
// which block holding a pooled buffer: the layer decodes whole records,
// so there is no readiness to wait for without one. A nil error means src
// reached EOF.
func copyLayered(dst, src Conn) (int64, error) {
	buf := bufs.Get().(*[]byte)
	defer bufs.Put(buf)
	var total int64
	for {
		n, rerr := src.Read(*buf)
		if n > 0 {
			w, werr := dst.Write((*buf)[:n])
			total += int64(w)
			if werr != nil {
				return total, werr
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}
