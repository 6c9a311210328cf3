package engine

import (
	"context"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// PhasePage is what one page of a phase after the batches did: the log
// entries of the objects it took, and how many of the page's objects it
// took, from the first, while their entries fit the result's budget.
type PhasePage struct {
	Entries []audit.Entry
	Taken   int
}

// page runs one page of a phase: fn handles object ids[i] and returns its
// entry (nil when it did nothing) and whether its mark for work w can go.
// Objects are taken in order while their entries fit budget bytes; the
// marks of those finished are cleared.
func (e *Engine) page(ctx context.Context, w store.Work, t connectors.ObjectType, ids []string, budget int, fn func(i int) (*audit.Entry, bool)) (PhasePage, error) {
	entries := make([]*audit.Entry, len(ids))
	finished := make([]bool, len(ids))
	pool := Pool{Workers: e.opts.Concurrency, Heartbeat: e.beat}
	taken := pool.RunWithin(ctx, len(ids), budget, func(i int) int {
		entries[i], finished[i] = fn(i)
		if entries[i] == nil {
			return 0
		}
		return EncodedSize(entries[i])
	})
	if err := ctx.Err(); err != nil {
		return PhasePage{}, err
	}
	page := PhasePage{Taken: taken}
	var clear []string
	for i, id := range ids {
		if entries[i] != nil {
			page.Entries = append(page.Entries, *entries[i])
		}
		if finished[i] {
			clear = append(clear, id)
		}
	}
	return page, e.store.ClearPending(ctx, e.job.Name, w, t, clear)
}
