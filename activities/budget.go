package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/openprovisioning/provisioner/audit"
)

// ResultBudget is the most bytes of encoded log entries one activity
// result holds. Temporal refuses a payload over 2 MB, and would refuse it
// after the changes it logs were pushed; the budget leaves room for the
// rest of the result and for an entry larger than it should be.
const ResultBudget = 1 << 20

// valueLimit is the longest value a log entry holds whole; a longer one
// (a photo, a huge multi-valued attribute) is logged as its audit.Summary.
const valueLimit = 4 << 10

// entryLimit bounds one encoded log entry: an object with very many
// large values has its longest ones logged as their audit.Summary until
// its entry fits. A result keeps room for one such entry per item in
// flight, so it never outgrows its budget.
const entryLimit = 32 << 10

// reasonKept is how much of a reason longer than valueLimit (an error page
// quoted whole) the entry keeps before the whole reason's Summary.
const reasonKept = 1 << 10

// fitEntry bounds what one log entry holds: values longer than valueLimit
// are logged as their length and hash, and, while the entry is over
// entryLimit, so are its longest values. Nothing is cut silently: every
// value left out is named by its Summary.
func fitEntry(e *audit.Entry) {
	e.DisplayName = loggedValue(e.DisplayName)
	if len(e.Reason) > valueLimit {
		kept := reasonKept
		for !utf8.RuneStart(e.Reason[kept]) {
			kept--
		}
		e.Reason = e.Reason[:kept] + "… " + audit.Summary(e.Reason)
	}
	summarizeLong(e.Modified)
	shed(e.Modified, encodedSize(e)-entryLimit)
}

// fitProperties bounds a list of values shown beside the log entries (an
// on-demand import step) as fitEntry bounds an entry's.
func fitProperties(props []audit.Property) {
	summarizeLong(props)
	shed(props, encodedSize(props)-entryLimit)
}

// summarizeLong logs each value longer than valueLimit as its Summary.
func summarizeLong(props []audit.Property) {
	for i := range props {
		props[i].Old, props[i].New = loggedValue(props[i].Old), loggedValue(props[i].New)
	}
}

// shed logs the longest values of props as their Summary until their
// encoding is over bytes shorter, or no value is longer than its Summary.
func shed(props []audit.Property, over int) {
	if over <= 0 {
		return
	}
	type value struct {
		s    *string
		size int
	}
	var values []value
	for i := range props {
		for _, s := range []*string{&props[i].Old, &props[i].New} {
			values = append(values, value{s, encodedSize(*s)})
		}
	}
	slices.SortStableFunc(values, func(a, b value) int { return cmp.Compare(b.size, a.size) })
	for _, v := range values {
		s := audit.Summary(*v.s)
		saved := v.size - encodedSize(s)
		if over <= 0 || saved <= 0 {
			return
		}
		over -= saved
		*v.s = s
	}
}

// loggedValue is how a value appears in the log: whole, or as its Summary
// when longer than valueLimit.
func loggedValue(v string) string {
	if len(v) > valueLimit {
		return audit.Summary(v)
	}
	return v
}

// encodedSize is the length of v's JSON encoding.
func encodedSize(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}

// budget decides which items of an activity go into its result: items in
// order, while their entries fit. Room is kept for an entry of entryLimit
// per item in flight, so the entries never outgrow the budget; an item
// waits while those in flight may leave no room, and the first that finds
// none with nothing in flight, and every later one, is left out.
type budget struct {
	limit int // bytes; 0 takes every item

	mu       sync.Mutex
	cond     *sync.Cond
	used     int // bytes of the entries of the items done
	inflight int
	next     int // the next item to decide
	stop     int // the first item left out; -1 while none is
}

func newBudget(limit int) *budget {
	b := &budget{limit: limit, stop: -1}
	b.cond = sync.NewCond(&b.mu)
	return b
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
		case b.limit <= 0 || b.used+(b.inflight+1)*entryLimit <= b.limit:
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
	b.cond.Broadcast()
}

// wake has waiting items look again, as when ctx is done.
func (b *budget) wake() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cond.Broadcast()
}

// parallelWithin is parallelSaving for items whose log entries make up
// one result: it takes items in order while their entries fit the
// budget of limit bytes (0: every item), and returns how many it took,
// from the first. fn provisions item i and returns the encoded size of
// its entry.
func parallelWithin(ctx context.Context, concurrency, n, limit int, fn func(i int) int, save func()) int {
	b := newBudget(limit)
	defer context.AfterFunc(ctx, b.wake)()
	parallelSaving(ctx, concurrency, n, func(i int) {
		if b.take(ctx, i) {
			b.done(fn(i))
		}
	}, save)
	if b.stop >= 0 {
		return b.stop
	}
	return b.next
}
