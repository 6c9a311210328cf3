package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
)

// plan is one object's way through scope, mapping, matching and push.
type plan struct {
	*batch
	item  store.StagedItem
	entry *audit.Entry
	state store.ObjectState
	known bool
	prog  *mapping.Program
	acts  config.Actions
	// assigned is whether the object is assigned, in jobs that sync only
	// assigned objects.
	assigned bool
	// references are the source IDs the object's reference attributes
	// point to, to record with its state.
	references map[string]string
	followUp   followUp
	// trace is set when the object is provisioned on demand.
	trace *Trace
	// earlier is the operation the object's state holds: one an earlier
	// attempt recorded, whose outcome may be unknown.
	earlier *store.Operation
	// op is the operation this attempt recorded before pushing.
	op *store.Operation
	// confirming is the create (an earlier attempt's, or this one's whose
	// answer was lost) of the target object matched, or the operation of
	// this change found done: the entry logs it, and the pushes that
	// follow it belong to it.
	confirming *store.Operation
	// resent is set when a create conflicted after the target lost its
	// answer to an earlier try of it.
	resent bool
	// created is set once the target created the object: should the
	// object fail after (its writeback), the create stays pending, to be
	// logged when the object is found.
	created bool
	// planned is what the batch worked out for the object's push as it
	// began; nil when it planned none.
	planned *plannedPush
}

// hash fingerprints the source record for change detection.
func (p *plan) hash() string { return stagedHash(p.item, p.assigned) }

func (p *plan) run(ctx context.Context) store.Record {
	o := p.item.Object
	if o.Invalid != "" {
		return p.fail(CodeInvalidSourceRecord, o.Invalid)
	}
	idx, ok := p.objects[p.item.Type]
	if !ok {
		return p.fail(CodeInternalError, fmt.Sprintf("no mapping for object type %q", p.item.Type))
	}
	prog := p.progs[idx].prog
	if err := p.progs[idx].err; err != nil {
		return p.fail(CodeMappingError, err.Error())
	}
	p.prog, p.acts = prog, p.job.Objects[idx].Actions

	if o.Deleted {
		return p.deleted(ctx)
	}
	// A push planned as the batch began was scoped and mapped then.
	p.planned = p.plans[p.item.Seq]
	var attrs connectors.Attributes
	if p.planned != nil {
		attrs = p.planned.attrs
	} else {
		attrs = sourceAttributes(o)
	}
	p.entry.DisplayName = displayName(attrs)
	// Only a trace and an object out of scope need the scope explained;
	// every other object is only matched, which allocates nothing.
	inScope := p.planned != nil || prog.InScope(attrs)
	if p.trace != nil {
		p.trace.scoped(prog.Scope(attrs))
	}
	switch {
	case o.Disabled:
		return p.deprovision(ctx, "the source object is disabled")
	case p.assign != nil && !p.assigned:
		return p.deprovision(ctx, notAssigned(p.item.Type))
	case !inScope:
		return p.deprovision(ctx, "the source object is out of scope: "+describeScope(prog.Scope(attrs)))
	}
	values, err := p.mapped(attrs)
	if err != nil {
		return p.fail(CodeMappingError, err.Error())
	}
	if err := p.resolveReferences(ctx, values); err != nil {
		return p.fail(CodeOf(err), err.Error())
	}
	var rec store.Record
	if p.state.Linked() {
		rec = p.update(ctx, values)
	} else {
		rec = p.matchOrCreate(ctx, values, p.find)
	}
	if p.entry.Status != audit.Failure && len(p.job.Objects[idx].Writeback) > 0 && p.writesBack {
		if err := p.writeback(ctx, p.job.Objects[idx].Writeback, rec); err != nil {
			return p.fail(CodeOf(err), "writeback to the source: "+err.Error())
		}
	}
	return rec
}

// mapped returns the object's mapped values: those its planned push
// mapped, or the mapping's now.
func (p *plan) mapped(attrs connectors.Attributes) (connectors.Attributes, error) {
	if p.planned != nil {
		return p.planned.values, nil
	}
	return p.prog.Map(attrs, !p.state.Linked())
}

// changes returns what values change of those last pushed: as the
// object's planned update found them, or worked out now.
func (p *plan) changes(values connectors.Attributes) []connectors.Change {
	if p.planned != nil && p.planned.op.Action == audit.Update {
		return p.planned.changes
	}
	return diff(values, p.state.Pushed)
}

// writeback copies target values into the source object when they differ
// from what the source holds, so generated values flow back to the system
// of record.
func (p *plan) writeback(ctx context.Context, wbs []config.Writeback, rec store.Record) error {
	if rec.State == nil || !rec.State.Linked() {
		return nil
	}
	w, ok := p.source.(connectors.Writer)
	if !ok {
		return fmt.Errorf("the source cannot be written")
	}
	id := rec.State.TargetID
	var current connectors.Attributes
	values := connectors.Attributes{}
	for _, wb := range wbs {
		var v any
		if wb.Target == "id" {
			v = id
		} else {
			if current == nil {
				obj, err := p.target.Get(ctx, p.item.Type, id)
				if err != nil {
					return err
				}
				current = obj.Attributes
			}
			v = current[wb.Target]
		}
		if Canon(v) != Canon(p.item.Object.Attributes[wb.Source]) {
			values[wb.Source] = v
			p.entry.Modified = append(p.entry.Modified, audit.Property{Name: "source:" + wb.Source, Old: Canon(p.item.Object.Attributes[wb.Source]), New: Canon(v)})
		}
	}
	if len(values) == 0 {
		return nil
	}
	return w.Write(ctx, p.item.Type, p.item.Object.ID, values)
}

// deleted handles an object gone from the source.
func (p *plan) deleted(ctx context.Context) store.Record {
	e := p.entry
	switch {
	case !p.state.Linked():
		return p.skip("the object was never provisioned", store.Record{Forget: p.known})
	case p.acts.NoDelete:
		// The account stays in the target and is no longer managed.
		return p.skip("the Delete target action is off; the target object is left in place", store.Record{Forget: true})
	}
	e.Action, e.TargetID = audit.Delete, p.state.TargetID
	if err := p.intend(ctx, p.state.TargetID); err != nil {
		return p.fail(CodeOf(err), err.Error())
	}
	if err := p.target.Delete(ctx, p.item.Type, p.state.TargetID); err != nil {
		return p.fail(CodeOf(err), err.Error())
	}
	e.Status = audit.Success
	return store.Record{Forget: true}
}

// deprovision disables the target object of a source object that is out of
// scope or disabled. Unlinked objects are never touched.
func (p *plan) deprovision(ctx context.Context, reason string) store.Record {
	if p.trace != nil {
		p.trace.Unscoped = reason
	}
	if p.item.Type == connectors.Group {
		return p.removeGroup(ctx, reason)
	}
	e, st := p.entry, p.state
	st.SourceHash = p.hash()
	st.Type, st.SourceID, st.Escrow = p.item.Type, p.item.Object.ID, nil
	e.TargetID = st.TargetID
	switch {
	case !st.Linked():
		return p.skip(reason, store.Record{State: &st})
	case !st.Active:
		return p.skip(reason+"; the target object is already disabled", store.Record{State: &st})
	case p.opts.SkipOutOfScopeDeletions:
		return p.skip(reason+"; skipOutOfScopeDeletions is on", store.Record{State: &st})
	}
	e.Action, e.Reason = audit.Disable, reason
	e.Modified = []audit.Property{{Name: "active", Old: "true", New: "false"}}
	if err := p.intend(ctx, st.TargetID); err != nil {
		return p.fail(CodeOf(err), err.Error())
	}
	if err := p.target.SetActive(ctx, p.item.Type, st.TargetID, false); err != nil {
		return p.fail(CodeOf(err), err.Error())
	}
	st.Active = false
	e.Status = audit.Success
	return store.Record{State: &st}
}

// update pushes the differences between the mapped values and the values
// last pushed, and re-enables a disabled account that is back in scope.
func (p *plan) update(ctx context.Context, values connectors.Attributes) store.Record {
	e, st := p.entry, p.state
	e.TargetID = st.TargetID
	changes, pushed, held := p.updateAction(p.changes(values), st.Pushed, values)
	p.trace.matched("linked to target object %s by its object connection", st.TargetID)
	err := p.push(ctx, st.TargetID, changes, !st.Active)
	if errors.Is(err, connectors.ErrNotFound) {
		// The target object was deleted behind the job's back: provision it
		// again, asking the target, which the index may predate.
		p.trace.matched("target object %s is gone from the target; matching again", st.TargetID)
		p.state.TargetID, p.entry.Modified = "", nil
		return p.matchOrCreate(ctx, values, p.findInTarget)
	}
	if err != nil {
		return p.fail(CodeOf(err), err.Error())
	}
	if len(changes) == 0 && st.Active {
		e.Action, e.Status, e.Reason = audit.Other, audit.Skipped, "the target object already has these values"
	}
	if held != "" {
		e.Reason = held
	}
	return p.linked(st.TargetID, pushed)
}

// push sends attribute changes and re-enables the account when asked, and
// fills in the entry's action and modified properties.
func (p *plan) push(ctx context.Context, targetID string, changes []connectors.Change, enable bool) error {
	e := p.entry
	for _, c := range changes {
		e.Modified = append(e.Modified, p.property(c.Attribute, c.Old, c.New))
	}
	if enable {
		e.Modified = append(e.Modified, audit.Property{Name: "active", Old: "false", New: "true"})
	}
	e.Action, e.Status = audit.Update, audit.Success
	if len(changes) == 0 && !enable {
		return nil
	}
	if err := p.intend(ctx, targetID); err != nil {
		return err
	}
	if len(changes) > 0 {
		if err := p.target.Update(ctx, p.item.Type, targetID, changes); err != nil {
			return err
		}
	}
	if enable {
		return p.target.SetActive(ctx, p.item.Type, targetID, true)
	}
	return nil
}

func (p *plan) linked(targetID string, pushed connectors.Attributes) store.Record {
	st := p.state
	if st.TargetID != targetID {
		// A new target object has none of the members pushed to the old one.
		st.Members = nil
	}
	st.Type, st.SourceID, st.TargetID = p.item.Type, p.item.Object.ID, targetID
	st.SourceHash, st.Active, st.Pushed, st.Escrow = p.hash(), true, p.kept(pushed), nil
	st.References = p.references
	st.UpdatedAt = time.Now()
	return store.Record{State: &st}
}

// kept are the values pushed that the state store keeps. Redacted values
// of mappings applied only on creation (an initial password) are left
// out: no later cycle compares them, and a secret is safest not stored.
func (p *plan) kept(pushed connectors.Attributes) connectors.Attributes {
	if p.prog == nil || !p.prog.Redacts() {
		return pushed
	}
	var out connectors.Attributes
	for k := range pushed {
		if p.prog.Redacted(k) && p.prog.CreationOnly(k) {
			if out == nil {
				out = maps.Clone(pushed)
			}
			delete(out, k)
		}
	}
	if out == nil {
		return pushed
	}
	return out
}

func (p *plan) skip(reason string, rec store.Record) store.Record {
	p.entry.Action, p.entry.Status, p.entry.Reason = audit.Other, audit.Skipped, reason
	return rec
}

// property is a modified attribute of the object as the log shows it.
func (p *plan) property(name string, old, new any) audit.Property {
	return property(p.prog, name, old, new)
}
