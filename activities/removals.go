package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// removal returns what provisioning a staged object does to the target
// object linked to it — Delete, Disable, or "" when it removes nothing —
// as the batches would decide it. leaves reports whether the object is
// out of scope or unassigned; nil when only the record itself can tell
// (an object absent from the source).
func removal(t connectors.ObjectType, o connectors.Object, f store.Fingerprint, acts config.Actions, opts config.Options, leaves func() bool) audit.Action {
	switch {
	case !f.Linked || o.Invalid != "":
		return ""
	case o.Deleted:
		if acts.NoDelete {
			return ""
		}
		return audit.Delete
	case !o.Disabled && (leaves == nil || !leaves()):
		return ""
	case t == connectors.Group:
		// Groups have no disabled state: one that leaves is deleted, but
		// only when the job deletes what leaves its source.
		if acts.NoDelete || opts.SkipOutOfScopeDeletions || !opts.DeleteAbsent {
			return ""
		}
		return audit.Delete
	case !f.Active || opts.SkipOutOfScopeDeletions:
		return ""
	}
	return audit.Disable
}

// HeldInput asks for the removals the accidental-deletion guard held in a
// cycle, among its staged items From..To.
type HeldInput struct {
	Job   config.Job  `json:"job"`
	Cycle store.Cycle `json:"cycle"`
	From  int         `json:"from"`
	To    int         `json:"to"`
	// Reason is the guard's verdict, repeated in every entry.
	Reason string `json:"reason"`
}

// HeldResult lists held removals as StagedDelete log entries, so the
// trail shows what an approval would do. Next is the first staged item
// not looked at yet; past To once all were.
type HeldResult struct {
	Entries []audit.Entry `json:"entries"`
	Next    int           `json:"next"`
}

// Bounds of one ListHeldRemovals call: staged items read per page, and
// entries per result, which keep the result far below Temporal's payload
// limit.
const (
	heldPageSize   = 1000
	heldMaxEntries = 1000
)

// ListHeldRemovals records the removals a held cycle would make, as
// StagedDelete entries. It reads the staged items in pages and stops once
// its result holds enough entries; the cycle calls it again from Next.
func (a *Activities) ListHeldRemovals(ctx context.Context, in HeldInput) (HeldResult, error) {
	res := HeldResult{Entries: []audit.Entry{}, Next: in.From}
	as, err := a.assignment(ctx, &in.Job)
	if err != nil {
		return res, err
	}
	for res.Next <= in.To && len(res.Entries) < heldMaxEntries {
		items, err := a.Store.Staged(ctx, in.Cycle, res.Next, min(res.Next+heldPageSize-1, in.To))
		if err != nil {
			return res, err
		}
		entries, err := a.heldEntries(ctx, in, as, items)
		if err != nil {
			return res, err
		}
		res.Entries = append(res.Entries, entries...)
		res.Next = min(res.Next+heldPageSize-1, in.To) + 1
		activity.RecordHeartbeat(ctx, res.Next)
	}
	a.countEntries(in.Job.Name, res.Entries)
	return res, nil
}

// heldEntries returns the StagedDelete entries of the items that remove
// a linked target object.
func (a *Activities) heldEntries(ctx context.Context, in HeldInput, as *assignment, items []store.StagedItem) ([]audit.Entry, error) {
	ids := map[connectors.ObjectType][]string{}
	for _, it := range items {
		ids[it.Type] = append(ids[it.Type], it.Object.ID)
	}
	known := map[connectors.ObjectType]map[string]store.ObjectState{}
	for t, list := range ids {
		states, err := a.Store.Objects(ctx, in.Job.Name, t, list)
		if err != nil {
			return nil, err
		}
		known[t] = states
		if err := as.load(ctx, t, list); err != nil {
			return nil, err
		}
	}
	var entries []audit.Entry
	for _, it := range items {
		idx, ok := in.Job.ObjectIndex(it.Type)
		if !ok {
			continue
		}
		prog, err := a.program(&in.Job, idx)
		if err != nil {
			continue // the batch fails the object; it removes nothing
		}
		o, st := it.Object, known[it.Type][it.Object.ID]
		f := store.Fingerprint{Linked: st.Linked(), Active: st.Active}
		attrs := sourceAttributes(o)
		action := removal(it.Type, o, f, in.Job.Objects[idx].Actions, in.Job.Options, func() bool {
			return as != nil && !as.assigned(it.Type, o) || !prog.InScope(attrs)
		})
		if action == "" {
			continue
		}
		e := audit.Entry{
			Job: in.Job.Name, CycleID: in.Cycle.ID, ChangeID: fmt.Sprintf("%s-%d-held", in.Cycle.ID, it.Seq),
			ObjectType: string(it.Type), SourceID: o.ID, Locator: o.Locator, DisplayName: displayName(attrs),
			TargetID: st.TargetID, Action: audit.StagedDelete, Status: audit.Skipped, DryRun: in.Job.Options.DryRun,
			Reason: fmt.Sprintf("%s held by the accidental-deletion guard: %s; restart with ForceDeletes to apply", action, in.Reason),
			Time:   activity.GetInfo(ctx).StartedTime.UTC(),
		}
		if action == audit.Disable {
			e.Modified = []audit.Property{{Name: "active", Old: "true", New: "false"}}
		}
		entries = append(entries, e)
	}
	return entries, nil
}
