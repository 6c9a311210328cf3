package activities

import (
	"context"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// SyncMemberships is the membership phase (engine.SyncMemberships): for
// one page of the groups marked for it, it computes the target IDs of the members the group
// should have — its source members (through nested groups when the job
// flattens them) that are linked and active — and sends the target only
// the difference from the members last pushed, in batches. A group that
// fails stays marked and is tried again next cycle. Groups are taken in
// order while their entries fit the result's budget; the next page starts
// after the last one taken.
func (a *Activities) SyncMemberships(ctx context.Context, in PhaseInput) (_ PhaseResult, err error) {
	defer classify(&err)
	a = a.forCycle(in.Job.Options.DryRun, in.Cycle)
	limit := phasePage(&in.Job)
	ids, err := a.Store.Pending(ctx, in.Job.Name, store.MembershipWork, connectors.Group, in.Cursor.After, limit)
	if err != nil || len(ids) == 0 {
		return PhaseResult{Done: true}, err
	}
	tgt, err := a.target(ctx, &in.Job)
	if err != nil {
		return PhaseResult{}, err
	}
	page, err := a.engine(&in.Job, nil, tgt).SyncMemberships(ctx, in.Cycle, ids, ResultBudget)
	if err != nil {
		return PhaseResult{}, err
	}
	res := PhaseResult{Entries: page.Entries}
	if refused(res.Entries) {
		a.forgetTarget(&in.Job, tgt)
	}
	res.Next = PhaseCursor{After: ids[page.Taken-1]}
	res.Done = len(ids) < limit && page.Taken == len(ids)
	a.countEntries(in.Job.Name, res.Entries)
	return res, nil
}
