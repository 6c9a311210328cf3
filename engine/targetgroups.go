package engine

import (
	"context"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/store"
)

// removeGroup handles a group that left scope or is disabled in the
// source. Groups have no disabled state, so the target group is deleted
// when the job deletes what leaves its source (deleteAbsent); otherwise,
// or with the Delete target action off or skipOutOfScopeDeletions on, it
// is left in place and no longer managed. Either way the object connection
// ends, and the group is matched again should it come back.
func (p *plan) removeGroup(ctx context.Context, reason string) store.Record {
	e, st := p.entry, p.state
	unlinked := store.ObjectState{Type: p.item.Type, SourceID: p.item.Object.ID, SourceHash: p.hash()}
	e.TargetID = st.TargetID
	switch {
	case !st.Linked():
		return p.skip(reason, store.Record{State: &unlinked})
	case p.acts.NoDelete:
		return p.skip(reason+"; the Delete target action is off; the target group is left in place", store.Record{State: &unlinked})
	case p.opts.SkipOutOfScopeDeletions:
		return p.skip(reason+"; skipOutOfScopeDeletions is on; the target group is left in place", store.Record{State: &unlinked})
	case !p.opts.DeleteAbsent:
		return p.skip(reason+"; deleteAbsent is off, so groups are never deleted; the target group is left in place", store.Record{State: &unlinked})
	}
	e.Action, e.Reason = audit.Delete, reason
	if err := p.intend(ctx, st.TargetID); err != nil {
		return p.fail(CodeOf(err), err.Error())
	}
	if err := p.target.Delete(ctx, p.item.Type, st.TargetID); err != nil {
		return p.fail(CodeOf(err), err.Error())
	}
	e.Status = audit.Success
	return store.Record{State: &unlinked}
}
