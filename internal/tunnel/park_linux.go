package tunnel

import (
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Parked is a connection waiting in a relay poller for its next bytes:
// an idle HTTP keep-alive client between two requests, say. It holds no
// goroutine and no buffer while it waits, as an idle relay does; its
// owner's goroutine can end, and a new one takes over when it wakes.
type Parked struct {
	p     *poller
	slot  uint32
	rc    syscall.RawConn
	timer *time.Timer
	wake  func(timedOut bool)
	done  atomic.Bool
}

// Park waits, without a goroutine, until c has something to read (data, a
// close or an error) or until deadline, then calls wake on a goroutine of
// its own: timedOut tells the deadline (or Cancel) from readiness. The
// caller must neither read nor close c until wake runs. Park returns nil,
// having changed nothing, when c cannot wait in a poller; the caller then
// waits itself.
func Park(c syscall.Conn, deadline time.Time, wake func(timedOut bool)) *Parked {
	if !useEvents {
		return nil
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	p := pickPoller()
	if p == nil {
		return nil
	}
	k := &Parked{p: p, rc: rc, wake: wake}
	// k is complete before the poller can see it (under p.mu), and the
	// timer is armed only then.
	k.timer = time.AfterFunc(time.Hour, func() { k.fire(true) })
	p.mu.Lock()
	k.slot = p.takeSlot(nil)
	p.slots[k.slot].park = k
	gen := p.slots[k.slot].gen
	p.mu.Unlock()
	k.timer.Reset(time.Until(deadline))
	// Level-triggered and one-shot: bytes already waiting wake it at once,
	// and it wakes once.
	e := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: int32(k.slot), Pad: int32(gen)}
	var aerr error
	if cerr := rc.Control(func(fd uintptr) { aerr = rawEpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), &e) }); cerr != nil || aerr != nil {
		if k.done.CompareAndSwap(false, true) {
			k.timer.Stop()
			k.release(false)
			return nil
		}
		return k // the timer fired already and wakes the owner
	}
	return k
}

// Cancel wakes the owner at once, as a timeout does, if it still waits.
func (k *Parked) Cancel() { k.fire(true) }

// fire ends the wait once: the socket leaves the poller before the owner
// is woken, so that the owner finds it as it left it.
func (k *Parked) fire(timedOut bool) {
	if !k.done.CompareAndSwap(false, true) {
		return
	}
	k.timer.Stop()
	k.release(true)
	go k.wake(timedOut)
}

func (k *Parked) release(registered bool) {
	if registered {
		_ = k.rc.Control(func(fd uintptr) { _ = rawEpollCtl(k.p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil) })
	}
	k.p.mu.Lock()
	k.p.freeSlot(k.slot)
	k.p.mu.Unlock()
	k.p.unref()
}
