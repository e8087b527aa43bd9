package listener

import (
	"context"
	"sync"
)

// Limiter bounds a number of concurrent connections: a bind's or a
// frontend's maxconn, or the global maxconn. Accept loops acquire a slot
// before calling accept(2), so that, as with HAProxy, connections beyond the
// limit wait in the kernel's backlog instead of being accepted and starved
// (or refused). Slots are granted in FIFO order so that several loops
// sharing one limiter (the global one) are served fairly.
//
// The fast path (a free slot) does not allocate; only a waiting Acquire
// allocates its wake-up channel.
type Limiter struct {
	mu      sync.Mutex
	limit   int // <= 0: unlimited
	inUse   int
	waiters []chan struct{} // FIFO; a closed channel means "slot granted"
}

// NewLimiter returns a limiter allowing n concurrent holders; n <= 0 means
// unlimited (the limiter only counts).
func NewLimiter(n int) *Limiter {
	return &Limiter{limit: n}
}

// Acquire takes a slot, waiting until one is free or ctx is done, in which
// case it returns ctx's error and holds nothing.
func (l *Limiter) Acquire(ctx context.Context) error {
	l.mu.Lock()
	if l.limit <= 0 || (l.inUse < l.limit && len(l.waiters) == 0) {
		l.inUse++
		l.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	l.waiters = append(l.waiters, ch)
	l.mu.Unlock()

	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-ch:
		// Granted while giving up: hand the slot on.
		l.releaseLocked()
	default:
		l.removeWaiter(ch)
	}
	return ctx.Err()
}

// TryAcquire takes a slot if one is free now, without waiting.
func (l *Limiter) TryAcquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit <= 0 || (l.inUse < l.limit && len(l.waiters) == 0) {
		l.inUse++
		return true
	}
	return false
}

// Release frees a slot taken by Acquire or TryAcquire, waking the oldest
// waiter if any.
func (l *Limiter) Release() {
	l.mu.Lock()
	l.releaseLocked()
	l.mu.Unlock()
}

func (l *Limiter) releaseLocked() {
	if l.inUse <= 0 {
		panic("listener: Limiter.Release without Acquire")
	}
	if len(l.waiters) > 0 && (l.limit <= 0 || l.inUse <= l.limit) {
		// Transfer the slot: inUse is unchanged.
		close(l.waiters[0])
		l.waiters[0] = nil
		l.waiters = l.waiters[1:]
		return
	}
	l.inUse--
}

func (l *Limiter) removeWaiter(ch chan struct{}) {
	for i, w := range l.waiters {
		if w == ch {
			copy(l.waiters[i:], l.waiters[i+1:])
			l.waiters[len(l.waiters)-1] = nil
			l.waiters = l.waiters[:len(l.waiters)-1]
			return
		}
	}
}

// SetLimit changes the limit at run time (the CLI's "set maxconn"): a
// larger limit wakes waiters at once; a smaller one lets current holders
// finish and admits new ones only below it.
func (l *Limiter) SetLimit(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit = n
	for len(l.waiters) > 0 && (n <= 0 || l.inUse < n) {
		l.inUse++
		close(l.waiters[0])
		l.waiters[0] = nil
		l.waiters = l.waiters[1:]
	}
}

// Limit returns the current limit (<= 0: unlimited).
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// InUse returns the number of slots held. An accept loop waiting in
// accept(2) holds one slot reserved for its next connection, so for a
// count of live connections (stats' scur) subtract the idle loops, or
// count in the handler.
func (l *Limiter) InUse() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inUse
}

// Waiting returns the number of Acquire calls currently blocked.
func (l *Limiter) Waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.waiters)
}
