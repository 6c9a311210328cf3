package engine

import (
	"context"
	"fmt"
	"time"

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

// Bounds of one HeldRemovals call: staged items read per page, and
// entries per result, which keep the result far below the limit of an
// activity's result.
const (
	heldPageSize   = 1000
	heldMaxEntries = 1000
)

// HeldRemovals returns, as StagedDelete entries, the removals that
// staged items from..to of a held cycle would make, reason being the
// guard's verdict and at the entries' time. It reads the staged items in
// pages and stops once it holds enough entries; next is the first item
// not looked at yet, past to once all were.
func (e *Engine) HeldRemovals(ctx context.Context, c store.Cycle, from, to int, reason string, at time.Time) (entries []audit.Entry, next int, err error) {
	entries, next = []audit.Entry{}, from
	as, err := e.assignment(ctx)
	if err != nil {
		return entries, next, err
	}
	for next <= to && len(entries) < heldMaxEntries {
		items, err := e.store.Staged(ctx, c, next, min(next+heldPageSize-1, to))
		if err != nil {
			return entries, next, err
		}
		held, err := e.heldEntries(ctx, c, reason, at, as, items)
		if err != nil {
			return entries, next, err
		}
		entries = append(entries, held...)
		next = min(next+heldPageSize-1, to) + 1
		e.beat.Beat(ctx, next)
	}
	return entries, next, nil
}

// heldEntries returns the StagedDelete entries of the items that remove
// a linked target object.
func (e *Engine) heldEntries(ctx context.Context, c store.Cycle, reason string, at time.Time, as *assignment, items []store.StagedItem) ([]audit.Entry, error) {
	ids := map[connectors.ObjectType][]string{}
	for _, it := range items {
		ids[it.Type] = append(ids[it.Type], it.Object.ID)
	}
	known := map[connectors.ObjectType]map[string]store.ObjectState{}
	for t, list := range ids {
		states, err := e.store.Objects(ctx, e.job.Name, t, list)
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
		idx, ok := e.job.ObjectIndex(it.Type)
		if !ok {
			continue
		}
		prog, err := e.programs(idx)
		if err != nil {
			continue // the batch fails the object; it removes nothing
		}
		o, st := it.Object, known[it.Type][it.Object.ID]
		f := store.Fingerprint{Linked: st.Linked(), Active: st.Active}
		attrs := sourceAttributes(o)
		action := removal(it.Type, o, f, e.job.Objects[idx].Actions, e.job.Options, func() bool {
			return as != nil && !as.assigned(it.Type, o) || !prog.InScope(attrs)
		})
		if action == "" {
			continue
		}
		entry := audit.Entry{
			Job: e.job.Name, CycleID: c.ID, ChangeID: fmt.Sprintf("%s-%d-held", c.ID, it.Seq),
			ObjectType: string(it.Type), SourceID: o.ID, Locator: o.Locator, DisplayName: displayName(attrs),
			TargetID: st.TargetID, Action: audit.StagedDelete, Status: audit.Skipped, DryRun: e.job.Options.DryRun,
			Reason: fmt.Sprintf("%s held by the accidental-deletion guard: %s; restart with ForceDeletes to apply", action, reason),
			Time:   at,
		}
		if action == audit.Disable {
			entry.Modified = []audit.Property{{Name: "active", Old: "true", New: "false"}}
		}
		entries = append(entries, entry)
	}
	return entries, nil
}
