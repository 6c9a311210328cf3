package activities

import (
	"context"

	"github.com/openprovisioning/provisioner/store"
)

// ResolveReferences is the reference phase (engine.ResolveReferences): for
// one page of the objects marked for it, it writes each reference
// attribute whose object is now linked. References still waiting keep their object marked, and are tried
// again every cycle until their object is provisioned: no restart needed.
// Objects are taken in order while their entries fit the result's budget;
// the next page starts after the last one taken.
func (a *Activities) ResolveReferences(ctx context.Context, in PhaseInput) (_ PhaseResult, err error) {
	defer classify(&err)
	a = a.forCycle(in.Job.Options.DryRun, in.Cycle)
	types := in.Job.ReferenceTypes()
	if in.Cursor.Type >= len(types) {
		return PhaseResult{Done: true}, nil
	}
	t, limit := types[in.Cursor.Type], phasePage(&in.Job)
	ids, err := a.Store.Pending(ctx, in.Job.Name, store.ReferenceWork, t, in.Cursor.After, limit)
	if err != nil {
		return PhaseResult{}, err
	}
	res := PhaseResult{Next: PhaseCursor{Type: in.Cursor.Type + 1}}
	if len(ids) == limit {
		res.Next = PhaseCursor{Type: in.Cursor.Type, After: ids[len(ids)-1]}
	}
	res.Done = res.Next.Type >= len(types)
	if len(ids) == 0 {
		return res, nil
	}
	tgt, err := a.target(ctx, &in.Job)
	if err != nil {
		return PhaseResult{}, err
	}
	page, err := a.engine(&in.Job, nil, tgt).ResolveReferences(ctx, in.Cycle, t, ids, ResultBudget)
	if err != nil {
		return PhaseResult{}, err
	}
	if page.Taken < len(ids) {
		res.Next, res.Done = PhaseCursor{Type: in.Cursor.Type, After: ids[page.Taken-1]}, false
	}
	res.Entries = page.Entries
	if refused(res.Entries) {
		a.forgetTarget(&in.Job, tgt)
	}
	a.countEntries(in.Job.Name, res.Entries)
	return res, nil
}
