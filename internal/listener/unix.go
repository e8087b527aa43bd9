package listener

import (
	"net"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"sluice/internal/netaddr"
)

// openUnix opens a UNIX stream socket at path the way HAProxy does, so that
// replacing the socket of a running process (a reload, or a stale file
// left by a crash) never leaves the path missing or pointing to a socket
// that refuses connections:
//
//  1. bind and listen on "<path>.<pid>.tmp", apply mode and ownership;
//  2. keep a hard link "<path>.<pid>.bak" to any existing socket;
//  3. rename the temporary name over path (atomic);
//  4. remove the backup, or on failure put it back.
//
// The returned listener does not remove path when closed: after a reload
// the path belongs to the new process.
func openUnix(path string, opt Options) (net.Listener, error) {
	if path == "" {
		return nil, sockErr("cannot bind UNIX socket", unix.ENOENT, "[]")
	}
	pid := strconv.Itoa(os.Getpid())
	tmp, bak := path+"."+pid+".tmp", path+"."+pid+".bak"
	for _, stale := range []string{tmp, bak} {
		if err := unix.Unlink(stale); err != nil && err != unix.ENOENT {
			return nil, sockErr("error when trying to unlink previous UNIX socket", err, "["+stale+"]")
		}
	}
	backedUp := true
	if err := unix.Link(path, bak); err != nil {
		if err != unix.ENOENT {
			return nil, sockErr("error when trying to preserve previous UNIX socket", err, "["+path+"]")
		}
		backedUp = false
	}
	fd, err := bindUnixTemp(tmp, path, opt)
	if err == nil {
		if err = unix.Rename(tmp, path); err != nil {
			err = sockErr("cannot switch final and temporary UNIX sockets", err, "["+path+"]")
		}
	}
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		unix.Unlink(tmp)
		if backedUp {
			unix.Rename(bak, path)
		}
		return nil, err
	}
	if backedUp {
		unix.Unlink(bak)
	}
	ln, err := fileListener(fd, path)
	if err != nil {
		return nil, err
	}
	return &renamedListener{Listener: ln, addr: &net.UnixAddr{Name: path, Net: "unix"}}, nil
}

// renamedListener reports the socket's final path: the kernel still knows it
// by the temporary name it was bound to before the rename.
type renamedListener struct {
	net.Listener
	addr net.Addr
}

// Addr returns the path clients connect to.
func (l *renamedListener) Addr() net.Addr { return l.addr }

// bindUnixTemp creates the socket under its temporary name. It returns the
// descriptor (or -1) even on error so that the caller can clean up.
func bindUnixTemp(tmp, path string, opt Options) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, sockErr("cannot create receiving socket", err, "["+path+"]")
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: tmp}); err != nil {
		return fd, sockErr("cannot bind UNIX socket", err, "["+path+"]")
	}
	if opt.UnixUID != -1 || opt.UnixGID != -1 {
		if err := unix.Chown(tmp, opt.UnixUID, opt.UnixGID); err != nil {
			return fd, sockErr("cannot change UNIX socket ownership", err, "["+path+"]")
		}
	}
	if opt.UnixMode != 0 {
		if err := unix.Chmod(tmp, uint32(opt.UnixMode.Perm())); err != nil {
			return fd, sockErr("cannot change UNIX socket permissions", err, "["+path+"]")
		}
	}
	// Listen before the rename (HAProxy listens after it): clients that
	// find the new path then never get ECONNREFUSED.
	if err := unix.Listen(fd, opt.backlog()); err != nil {
		return fd, sockErr("cannot listen to UNIX socket", err, "["+path+"]")
	}
	return fd, nil
}

// openABNS opens a Linux abstract socket, with the NUL-padded name HAProxy
// uses (see netaddr.ABNSName).
func openABNS(name string, opt Options) (net.Listener, error) {
	where := "[abns@" + name + "]"
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, sockErr("cannot create receiving socket", err, where)
	}
	// syscall (not x/sys/unix) accepts a name filling all of sun_path.
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: netaddr.ABNSName(name)}); err != nil {
		unix.Close(fd)
		return nil, sockErr("cannot bind UNIX socket", err, where)
	}
	if err := unix.Listen(fd, opt.backlog()); err != nil {
		unix.Close(fd)
		return nil, sockErr("cannot listen to UNIX socket", err, where)
	}
	return fileListener(fd, "abns@"+name)
}
