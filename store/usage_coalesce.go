package store

import "sync"

// A coalescer queues the work of one merchant while that merchant's slots are busy, so that the
// queued items go together when a slot frees up (single events in one statement, limit checks in
// one read). Nothing waits on a timer: with a free slot an item runs at once, alone; queues form
// only under load, and grow with it. Its zero value is ready.
type coalescer[T any] struct {
	mu sync.Mutex
	m  map[string]*slotQueue[T]
}

// slotQueue is one merchant's work in flight and the items waiting for the next group.
type slotQueue[T any] struct {
	mu       sync.Mutex
	slots    int // how many runs may be in flight at once
	inflight int
	waiting  []T
}

func (c *coalescer[T]) of(merchant string, slots int) *slotQueue[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*slotQueue[T]{}
	}
	q := c.m[merchant]
	if q == nil {
		q = &slotQueue[T]{slots: slots}
		c.m[merchant] = q
	}
	return q
}

// enter takes a slot (own: run the item now, then call handOn) or queues the item for the next
// group.
func (q *slotQueue[T]) enter(item T) (own bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.inflight < q.slots {
		q.inflight++
		return true
	}
	q.waiting = append(q.waiting, item)
	return false
}

// leave is called by a slot's holder when its run is done: it hands over up to max queued items
// as the next group, which the holder then runs on the same slot, or frees the slot.
func (q *slotQueue[T]) leave(max int) []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiting) == 0 {
		q.inflight--
		return nil
	}
	n := min(len(q.waiting), max)
	next := q.waiting[:n:n]
	q.waiting = append([]T(nil), q.waiting[n:]...)
	return next
}

// handOn gives a finished slot to the items queued meanwhile: run takes them as groups of at
// most max, in a goroutine of its own, so that the caller that held the slot can answer now.
func (q *slotQueue[T]) handOn(max int, run func([]T)) {
	next := q.leave(max)
	if next == nil {
		return
	}
	go func() {
		for ; next != nil; next = q.leave(max) {
			run(next)
		}
	}()
}
