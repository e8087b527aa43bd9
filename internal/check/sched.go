package check

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Scheduler runs periodic checks from one goroutine holding a timer heap;
// a check only has a goroutine of its own while it runs. Thousands of
// servers checked every second cost a heap operation and a short-lived
// goroutine per check, nothing while they wait.
type Scheduler struct {
	mu      sync.Mutex
	tasks   taskHeap
	wake    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
}

// Task is one periodic check. Run performs it and returns the delay until
// the next one, counted from when this one finished, as HAProxy does.
type Task struct {
	Run  func(ctx context.Context) time.Duration
	due  time.Time
	idx  int
	busy bool
}

// NewScheduler returns a stopped scheduler.
func NewScheduler() *Scheduler {
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
}

// Add schedules t to first run after delay.
func (s *Scheduler) Add(t *Task, delay time.Duration) {
	s.mu.Lock()
	t.due = time.Now().Add(delay)
	heap.Push(&s.tasks, t)
	s.mu.Unlock()
	s.poke()
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start runs the scheduler's loop.
func (s *Scheduler) Start() {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.mu.Unlock()
	s.wg.Add(1)
	go s.loop()
}

// Stop ends the loop and waits for the checks under way, which see their
// context cancelled and end at once.
func (s *Scheduler) Stop() {
	s.cancel()
	s.wg.Wait()
}

func (s *Scheduler) loop() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		now := time.Now()
		for len(s.tasks) > 0 && !s.tasks[0].due.After(now) {
			t := heap.Pop(&s.tasks).(*Task)
			t.busy = true
			s.wg.Add(1)
			go s.run(t)
		}
		wait := time.Hour
		if len(s.tasks) > 0 {
			wait = time.Until(s.tasks[0].due)
		}
		s.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

func (s *Scheduler) run(t *Task) {
	defer s.wg.Done()
	d := t.Run(s.ctx)
	if s.ctx.Err() != nil {
		return
	}
	if d <= 0 {
		d = time.Millisecond
	}
	s.mu.Lock()
	t.due, t.busy = time.Now().Add(d), false
	heap.Push(&s.tasks, t)
	s.mu.Unlock()
	s.poke()
}

type taskHeap []*Task

func (h taskHeap) Len() int           { return len(h) }
func (h taskHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h taskHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *taskHeap) Push(x any) {
	t := x.(*Task)
	t.idx = len(*h)
	*h = append(*h, t)
}
func (h *taskHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

// Hurry brings t's next run forward to at most d from now (HAProxy's
// fastinter after observed errors). A check under way is left alone.
func (s *Scheduler) Hurry(t *Task, d time.Duration) {
	s.mu.Lock()
	if !t.busy && t.idx >= 0 && t.idx < len(s.tasks) && s.tasks[t.idx] == t {
		if at := time.Now().Add(d); at.Before(t.due) {
			t.due = at
			heap.Fix(&s.tasks, t.idx)
		}
	}
	s.mu.Unlock()
	s.poke()
}
