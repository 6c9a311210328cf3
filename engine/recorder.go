package engine

import (
	"context"
	"sync"

	"github.com/openprovisioning/provisioner/store"
)

// recorder records the items of a batch that finished.
type recorder struct {
	b         *batch
	items     []store.StagedItem
	records   []store.Record
	followUps []followUp

	mu      sync.Mutex
	pending []int // finished, not recorded yet
}

// finished notes that item i is done.
func (r *recorder) finished(i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, i)
}

// flush records every finished item not recorded yet; those it fails to
// record stay for the next flush.
func (r *recorder) flush(ctx context.Context) error {
	r.mu.Lock()
	due := r.pending
	r.pending = nil
	r.mu.Unlock()
	err := r.record(ctx, due)
	if err != nil {
		r.mu.Lock()
		r.pending = append(r.pending, due...)
		r.mu.Unlock()
	}
	return err
}

// record records the outcomes and states of the items at indexes idx.
func (r *recorder) record(ctx context.Context, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	items := make([]store.StagedItem, len(idx))
	records := make([]store.Record, len(idx))
	fus := make([]followUp, len(idx))
	for j, i := range idx {
		items[j], records[j], fus[j] = r.items[i], r.records[i], r.followUps[i]
	}
	// Follow-up work is marked before the outcomes are recorded: a batch
	// retried after a crash skips recorded items, so their marks must
	// already be there.
	if err := r.b.markFollowUps(ctx, items, records, fus); err != nil {
		return err
	}
	return r.b.store.Record(ctx, r.b.in.Cycle, records)
}
