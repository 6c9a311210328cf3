package engine

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/places"
)

// budget decides which items of a call go into its result: items in
// order, while their entries fit. An item is taken while the entries done,
// and for each item in flight one as large as the largest done so far
// (EntryLimit before any is done), fit the budget; and while, were every
// item in flight to end with an entry of EntryLimit, the entries would
// stay within half a budget more (see hardLimit). Keeping room for an entry
// of EntryLimit per item in flight within the budget itself left a
// three-quarters full result with a few items in flight, which calls
// waiting to retry then held up. An item waits while those in flight may
// leave no room, and the first that finds none with nothing in flight,
// and every later one, is left out.
type budget struct {
	limit int // bytes; 0 takes every item

	mu       sync.Mutex
	cond     *sync.Cond
	used     int // bytes of the entries of the items done
	largest  int // bytes of the largest of those entries
	inflight int
	next     int // the next item to decide
	stop     int // the first item left out; -1 while none is
}

// hardLimit is the most bytes of entries a result of budget limit may
// hold, should every item in flight end with an entry of EntryLimit:
// half a budget more, which keeps a result of ResultBudget well within
// the 2 MB Temporal accepts.
func hardLimit(limit int) int { return limit + limit/2 }

func newBudget(limit int) *budget {
	b := &budget{limit: limit, stop: -1}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// fits reports whether one more item in flight fits; the caller holds mu.
func (b *budget) fits() bool {
	if b.limit <= 0 {
		return true
	}
	expected := EntryLimit
	if b.largest > 0 {
		expected = b.largest
	}
	n := b.inflight + 1
	return b.used+n*expected <= b.limit && b.used+n*EntryLimit <= hardLimit(b.limit)
}

// take reports whether item i goes into the result, deciding items in
// order. It refuses when ctx is done.
func (b *budget) take(ctx context.Context, i int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		switch {
		case ctx.Err() != nil || b.stop >= 0 && i >= b.stop:
			return false
		case i != b.next:
		case b.fits():
			b.next++
			b.inflight++
			b.cond.Broadcast()
			return true
		case b.inflight == 0:
			b.stop = i
			b.cond.Broadcast()
			return false
		}
		b.cond.Wait()
	}
}

// done records that an item taken ended with an entry of size bytes.
func (b *budget) done(size int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inflight--
	b.used += size
	b.largest = max(b.largest, size)
	b.cond.Broadcast()
}

// wake has waiting items look again, as when ctx is done.
func (b *budget) wake() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cond.Broadcast()
}

// Pool runs a call for each of n items, a few at once: every place that
// works through objects concurrently (a batch, a phase's page, a
// rollback, a group's members read on demand) goes through it.
type Pool struct {
	// Workers is how many calls run at once.
	Workers int
	// Heartbeat reports how many calls are done, on a clock, while they
	// run; nil reports nothing.
	Heartbeat Heartbeat
	// Save, when set, is called before each report, so that what the
	// calls finished is kept should the work be started again.
	Save func()
	// Crew, when set, is the target's: a worker takes items only while it
	// holds a place in it (see connectors.Crew).
	Crew connectors.Crew
	// step, when set, also holds the workers taking items to a number that
	// grows while their calls wait to retry (see stepLimit).
	step *stepLimit
}

// Run calls fn for 0..n-1 with at most Workers calls at once. It stops
// starting calls once ctx is done. Workers take the next item from a
// shared counter: handing each item over a channel woke the goroutine
// feeding it once per item.
func (p Pool) Run(ctx context.Context, n int, fn func(i int)) {
	var (
		wg         sync.WaitGroup
		next, done atomic.Int64
	)
	if p.Heartbeat != nil {
		defer p.Heartbeat.While(ctx, func() any {
			if p.Save != nil {
				p.Save()
			}
			return done.Load()
		})()
	}
	joining, allTaken := context.WithCancel(ctx)
	defer allTaken()
	take := func() (int, bool) {
		if ctx.Err() != nil {
			return 0, false
		}
		i := int(next.Add(1) - 1)
		return i, i < n
	}
	for range min(p.Workers, n) {
		wg.Go(func() {
			if p.Crew == nil {
				for i, ok := take(); ok; i, ok = take() {
					fn(i)
					done.Add(1)
				}
				return
			}
			// The worker joins before its first item, and again after
			// giving its place back; those still waiting stop once every
			// item is taken.
			for ctx.Err() == nil && int(next.Load()) < n {
				m, err := p.join(joining)
				if err != nil {
					return
				}
				for {
					i, ok := take()
					if !ok {
						m.leave()
						allTaken()
						break
					}
					fn(i)
					done.Add(1)
					if !m.keep() {
						break
					}
				}
			}
		})
	}
	wg.Wait()
}

// seats are a worker's place in its step's limit, when the pool has
// one, and in the target's crew.
type seats struct {
	step  *stepLimit
	place connectors.CrewPlace
}

// join takes a place in the step's limit, then in the crew: a worker
// waiting for its step holds no place others could use.
func (p Pool) join(ctx context.Context) (seats, error) {
	m := seats{step: p.step}
	if m.step != nil {
		if err := m.step.Acquire(ctx); err != nil {
			return m, err
		}
	}
	place, err := p.Crew.JoinCrew(ctx)
	if err != nil {
		if m.step != nil {
			m.step.Release()
		}
		return m, err
	}
	m.place = place
	return m, nil
}

// keep reports whether both places are still held after an item; when
// either was given back, so is the other.
func (m seats) keep() bool {
	if m.step != nil && !m.step.Keep() {
		m.place.Leave()
		return false
	}
	if !m.place.Keep() {
		if m.step != nil {
			m.step.Release()
		}
		return false
	}
	return true
}

func (m seats) leave() {
	m.place.Leave()
	if m.step != nil {
		m.step.Release()
	}
}

// stepLimit holds a push step's workers taking items to its concurrency,
// and one more for each of its calls waiting to retry: it is the step's
// connectors.RetryWaits. Its workers are more than its concurrency, so
// that those beyond it take the items of calls waiting to retry.
type stepLimit struct{ places.Limit }

func newStepLimit(size int) *stepLimit {
	l := &stepLimit{}
	l.Resize(size)
	return l
}

func (l *stepLimit) Waiting() { l.Grow(1) }
func (l *stepLimit) Resumed() { l.Grow(-1) }

// RunWithin is Run for items whose log entries make up one result: it
// takes items in order while their entries fit the budget of limit bytes
// (0: every item), and returns how many it took, from the first. fn
// handles item i and returns the encoded size of its entry.
func (p Pool) RunWithin(ctx context.Context, n, limit int, fn func(i int) int) int {
	b := newBudget(limit)
	defer context.AfterFunc(ctx, b.wake)()
	p.Run(ctx, n, func(i int) {
		if b.take(ctx, i) {
			b.done(fn(i))
		}
	})
	if b.stop >= 0 {
		return b.stop
	}
	return b.next
}
