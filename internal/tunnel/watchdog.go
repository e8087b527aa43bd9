package tunnel

import "time"

// The watchdog enforces the inactivity timeouts without touching the data
// path. It is a single timer per relay that fires only when, given the last
// activity known at the previous wake-up, a side's timeout could have
// expired. On wake-up the kernel tells how long each socket has been idle
// (TCP_INFO), so the timer is simply re-armed for the remaining time while
// data keeps flowing. Its precision is the kernel's (a few milliseconds).

// minRearm bounds how often the timer can fire when the kernel's
// millisecond-rounded idle time lags just behind the timeout.
const minRearm = 2 * time.Millisecond

// check is the timer callback.
func (r *relay) check() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rearm()
}

// rearm aborts the relay if a side has been idle for its whole timeout, and
// otherwise schedules the next check for the earliest possible expiry.
// Caller holds r.mu.
func (r *relay) rearm() {
	if r.stopped || r.aborted {
		return
	}
	now := time.Now()
	next := time.Duration(-1)
	expired, overdue := -1, time.Duration(-1)
	for i := range r.conns {
		to := r.t.forSide(i, r.half)
		if to <= 0 {
			continue
		}
		// Idle time can never exceed the relay's age: while that is below
		// the timeout it bounds the idle time well enough to schedule the
		// next check, and the kernel need not be asked (no syscall at the
		// start of every relay).
		idle := now.Sub(r.start)
		if idle >= to {
			idle = r.idle(i, now)
		}
		left := to - idle
		if left <= 0 {
			// Both sides may be overdue (e.g. the one blocked writing to
			// the other): blame the one idle for longer.
			if -left > overdue {
				expired, overdue = i, -left
			}
			continue
		}
		if next < 0 || left < next {
			next = left
		}
	}
	switch {
	case expired >= 0:
		r.abort(expired, CauseTimeout, nil)
	case next < 0:
		if r.timer != nil {
			r.timer.Stop()
		}
	case r.timer == nil:
		r.timer = time.AfterFunc(max(next, minRearm), r.check)
	default:
		r.timer.Reset(max(next, minRearm))
	}
}

// idle returns how long side i has gone without data in either direction,
// counting from the start of the relay at most (traffic before the relay,
// e.g. a handshake done by the caller, is not inactivity of the tunnel).
// Data of side i still being delivered to the other side counts as
// activity of side i: when a slow client reads what the server already
// sent, the server socket is quiet but the relay is not waiting for the
// server, so its timeout does not run (HAProxy arms timeout server for
// reading only while its buffer has room). A unix socket has no TCP_INFO:
// its idle time is the other side's, since every byte it moves also
// crosses the TCP side. When the kernel cannot tell at all, the side is
// considered active.
func (r *relay) idle(i int, now time.Time) time.Duration {
	d, _, _, ok := sockInfo(r.conns[i])
	_, otherSent, _, otherOK := sockInfo(r.conns[1-i])
	switch {
	case !ok && !otherOK:
		return 0
	case !ok:
		d, _, _, _ = sockInfo(r.conns[1-i])
	case otherOK:
		d = min(d, otherSent)
	}
	return min(d, now.Sub(r.start))
}
