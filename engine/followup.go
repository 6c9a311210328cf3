package engine

import (
	"context"
	"slices"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// followUp is the work one provisioned object leaves to the phases that
// run after the cycle's batches.
type followUp struct {
	// references is set when a reference attribute waits for the object it
	// points to.
	references bool
}

// markFollowUps marks the work a batch leaves: objects whose references
// wait for their objects, and groups whose target members must be
// recomputed — every group provisioned, and the groups (with their
// ancestors when nested groups are flattened) of every object that was
// linked, unlinked, disabled or enabled.
func (b *batch) markFollowUps(ctx context.Context, items []store.StagedItem, records []store.Record, fus []followUp) error {
	refs := map[connectors.ObjectType][]string{}
	for i, f := range fus {
		if f.references {
			refs[items[i].Type] = append(refs[items[i].Type], items[i].Object.ID)
		}
	}
	for t, ids := range refs {
		if err := b.store.MarkPending(ctx, b.job.Name, store.ReferenceWork, t, ids); err != nil {
			return err
		}
	}
	if err := b.markReferrers(ctx, items, records); err != nil {
		return err
	}
	if !b.job.ManagesGroups() {
		return nil
	}
	var changed, groups []string
	for i, it := range items {
		id := it.Object.ID
		if id == "" || it.Object.Invalid != "" {
			continue
		}
		if it.Type == connectors.Group {
			groups = append(groups, id)
			changed = append(changed, id)
			continue
		}
		before, r := b.states[it.Type][id], records[i]
		if r.Forget && before.Linked() || r.State != nil && (r.State.TargetID != before.TargetID || r.State.Active != before.Active) {
			changed = append(changed, id)
		}
	}
	g := newGroupGraph(b.store, b.job)
	if err := g.load(ctx, changed); err != nil {
		return err
	}
	for _, id := range changed {
		groups = append(groups, g.groups(id)...)
	}
	slices.Sort(groups)
	return b.store.MarkPending(ctx, b.job.Name, store.MembershipWork, connectors.Group, slices.Compact(groups))
}

// markReferrers marks for the reference phase the objects that refer to an
// object now linked to a new target object (created again after it was
// deleted in the target), so their references follow it without waiting
// for their own records to change.
func (b *batch) markReferrers(ctx context.Context, items []store.StagedItem, records []store.Record) error {
	if len(b.job.ReferenceTypes()) == 0 {
		return nil
	}
	var moved []string
	for i, it := range items {
		before, r := b.states[it.Type][it.Object.ID], records[i]
		if r.State != nil && before.Linked() && r.State.Linked() && r.State.TargetID != before.TargetID {
			moved = append(moved, it.Object.ID)
		}
	}
	if len(moved) == 0 {
		return nil
	}
	referrers, err := b.store.Referrers(ctx, b.job.Name, moved)
	if err != nil {
		return err
	}
	for t, ids := range referrers {
		if err := b.store.MarkPending(ctx, b.job.Name, store.ReferenceWork, t, ids); err != nil {
			return err
		}
	}
	return nil
}
