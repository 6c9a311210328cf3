package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/openprovisioning/provisioner/connectors"
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
			// giving its place back.
			for ctx.Err() == nil && int(next.Load()) < n {
				m, err := p.join(ctx)
				if err != nil {
					return
				}
				for {
					i, ok := take()
					if !ok {
						m.leave()
						if p.step != nil {
							p.step.end()
						}
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

// places are a worker's place in its step's limit, when the pool has
// one, and in the target's crew.
type places struct {
	step  *stepLimit
	place connectors.CrewPlace
}

// join takes a place in the step's limit, then in the crew: a worker
// waiting for its step holds no place others could use.
func (p Pool) join(ctx context.Context) (places, error) {
	m := places{step: p.step}
	if m.step != nil {
		if err := m.step.join(ctx); err != nil {
			return m, err
		}
	}
	place, err := p.Crew.JoinCrew(ctx)
	if err != nil {
		if m.step != nil {
			m.step.leave()
		}
		return m, err
	}
	m.place = place
	return m, nil
}

// keep reports whether both places are still held after an item; when
// either was given back, so is the other.
func (m places) keep() bool {
	if m.step != nil && !m.step.keep() {
		m.place.Leave()
		return false
	}
	if !m.place.Keep() {
		if m.step != nil {
			m.step.leave()
		}
		return false
	}
	return true
}

func (m places) leave() {
	m.place.Leave()
	if m.step != nil {
		m.step.leave()
	}
}

// stepLimit holds a push step's workers taking items to its concurrency,
// and one more for each of its calls waiting to retry: it is the step's
// connectors.RetryWaits. Its workers are more than its concurrency, so
// that those beyond it take the items of calls waiting to retry.
type stepLimit struct {
	mu     sync.Mutex
	cond   *sync.Cond
	size   int
	active int
	// over is set once every item is taken: the workers still waiting
	// stop.
	over bool
}

// errStepOver is join's answer once every item is taken.
var errStepOver = errors.New("every item is taken")

// end lets the workers still waiting stop.
func (l *stepLimit) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.over = true
	l.cond.Broadcast()
}

func newStepLimit(size int) *stepLimit {
	l := &stepLimit{size: size}
	l.cond = sync.NewCond(&l.mu)
	return l
}

func (l *stepLimit) Waiting() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.size++
	l.cond.Broadcast()
}

func (l *stepLimit) Resumed() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.size--
}

// join waits until fewer workers than the limit take items, or every
// item is taken, or ctx ends.
func (l *stepLimit) join(ctx context.Context) error {
	defer context.AfterFunc(ctx, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.cond.Broadcast()
	})()
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.active >= l.size {
		if err := ctx.Err(); err != nil {
			return err
		}
		if l.over {
			return errStepOver
		}
		l.cond.Wait()
	}
	l.active++
	return nil
}

// keep reports whether a worker may take another item: not when more
// take items than the limit, as after a call's wait ended; its place is
// then given back.
func (l *stepLimit) keep() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.active <= l.size {
		return true
	}
	l.active--
	l.cond.Broadcast()
	return false
}

func (l *stepLimit) leave() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.active--
	l.cond.Broadcast()
}

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
