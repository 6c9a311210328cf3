package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/engine"
	"github.com/openprovisioning/provisioner/store"
)

// RollbackInput asks for target objects to be restored as a rollback plan
// computed from the job's log says.
type RollbackInput struct {
	Job  config.Job         `json:"job"`
	Plan audit.RollbackPlan `json:"plan"`
	// RequestID names the rollback's log entries.
	RequestID string `json:"requestId"`
}

// RollBack restores target objects: properties back to their values
// before the rollback point, accounts re-enabled or disabled. Each object
// fails alone. The values pushed are recorded as the object's state, so a
// restored object stays so until its source record changes. Restores are
// taken in order while their entries fit the result's budget.
func (a *Activities) RollBack(ctx context.Context, in RollbackInput) (_ api.RollbackResult, err error) {
	defer classify(&err)
	tgt, err := a.target(ctx, &in.Job)
	if err != nil {
		return api.RollbackResult{}, err
	}
	ids := map[connectors.ObjectType][]string{}
	for _, r := range in.Plan.Restores {
		ids[connectors.ObjectType(r.ObjectType)] = append(ids[connectors.ObjectType(r.ObjectType)], r.SourceID)
	}
	states := map[connectors.ObjectType]map[string]store.ObjectState{}
	for t, list := range ids {
		if states[t], err = a.Store.Objects(ctx, in.Job.Name, t, list); err != nil {
			return api.RollbackResult{}, err
		}
	}
	entries := make([]audit.Entry, len(in.Plan.Restores))
	newStates := make([]*store.ObjectState, len(in.Plan.Restores))
	pool := engine.Pool{Workers: in.Job.Options.WithDefaults().Concurrency, Heartbeat: heartbeat{}}
	taken := pool.RunWithin(ctx, len(in.Plan.Restores), ResultBudget, func(i int) int {
		r := in.Plan.Restores[i]
		st := states[connectors.ObjectType(r.ObjectType)][r.SourceID]
		entries[i], newStates[i] = a.restore(ctx, tgt, in, r, st)
		return engine.EncodedSize(entries[i])
	})
	if err := ctx.Err(); err != nil {
		return api.RollbackResult{}, err
	}
	res := api.RollbackResult{Entries: entries[:taken]}
	if taken < len(entries) {
		res.Next = taken
	}
	for _, st := range newStates {
		if st != nil {
			if err := a.Store.PutObject(ctx, in.Job.Name, *st); err != nil {
				return api.RollbackResult{}, err
			}
		}
	}
	if refused(res.Entries) {
		a.forgetTarget(&in.Job, tgt)
	}
	a.countEntries(in.Job.Name, res.Entries)
	return res, nil
}

// restore rolls one object back and returns its entry and, when the job
// still links the object, its new state. The entry is a named result so
// that the deferred duration reaches the caller.
func (a *Activities) restore(ctx context.Context, tgt connectors.Target, in RollbackInput, r audit.Restore, st store.ObjectState) (e audit.Entry, _ *store.ObjectState) {
	start := time.Now()
	t := connectors.ObjectType(r.ObjectType)
	e = audit.Entry{
		Job: in.Job.Name, CycleID: "rollback-" + in.RequestID, ChangeID: "rollback-" + in.RequestID + "-" + r.SourceID,
		ObjectType: r.ObjectType, SourceID: r.SourceID, TargetID: r.TargetID, DisplayName: r.DisplayName,
		Action: r.Action, Time: start.UTC(),
		Reason: "rolled back to before " + in.Plan.Since.UTC().Format(time.RFC3339),
	}
	if len(r.Unrestorable) > 0 {
		e.Reason += "; not restored: " + strings.Join(r.Unrestorable, "; ")
	}
	defer func() {
		e.DurationMs = time.Since(start).Milliseconds()
		engine.FitEntry(&e)
	}()
	if len(r.Properties) == 0 && !r.Enable && r.Action != audit.Disable {
		e.Action, e.Status = audit.Other, audit.Skipped
		return e, nil
	}
	changes := make([]connectors.Change, 0, len(r.Properties))
	for _, p := range r.Properties {
		c := connectors.Change{Attribute: p.Name, Old: p.Old, New: p.New}
		if p.New == "" {
			c.New = nil // it had no value: clear it
		}
		changes = append(changes, c)
		e.Modified = append(e.Modified, p)
	}
	var err error
	if len(changes) > 0 {
		err = tgt.Update(ctx, t, r.TargetID, changes)
	}
	active := st.Active
	switch {
	case err != nil:
	case r.Enable:
		err, active = tgt.SetActive(ctx, t, r.TargetID, true), true
		e.Modified = append(e.Modified, audit.Property{Name: "active", Old: "false", New: "true"})
	case r.Action == audit.Disable:
		err, active = tgt.SetActive(ctx, t, r.TargetID, false), false
		e.Modified = append(e.Modified, audit.Property{Name: "active", Old: "true", New: "false"})
	}
	if err != nil {
		e.Status, e.ErrorCode = audit.Failure, engine.CodeOf(err)
		e.Reason = fmt.Sprintf("%s: %v", e.Reason, err)
		if errors.Is(err, connectors.ErrNotFound) {
			e.Reason = "the target object no longer exists"
		}
		return e, nil
	}
	e.Status = audit.Success
	if !st.Linked() || st.TargetID != r.TargetID {
		return e, nil // the job no longer manages this target object
	}
	pushed := connectors.Attributes{}
	for _, p := range r.Properties {
		pushed[p.Name] = p.New
	}
	st.Pushed, st.Active, st.UpdatedAt = engine.Merge(st.Pushed, pushed), active, time.Now()
	return e, &st
}
