package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
)

// finder returns the target objects whose attribute equals a value.
type finder func(ctx context.Context, attribute string, value any) ([]connectors.TargetObject, error)

// matchOrCreate links an unlinked in-scope object to an existing target
// object found by the matching attributes in precedence order, or creates it.
func (p *plan) matchOrCreate(ctx context.Context, values connectors.Attributes, find finder) store.Record {
	found, err := p.match(ctx, values, find)
	switch {
	case err != nil:
		return p.fail(CodeOf(err), err.Error())
	case found == nil:
		return p.create(ctx, values)
	}
	return p.link(ctx, *found, values)
}

// match tries the matching attributes in precedence order and returns the
// one target object the first attribute with a value finds, or nil.
func (p *plan) match(ctx context.Context, values connectors.Attributes, find finder) (*connectors.TargetObject, error) {
	for _, attr := range p.prog.Matching() {
		v, ok := values[attr]
		if !ok || Canon(v) == "" {
			continue
		}
		objs, err := find(ctx, attr, v)
		if err != nil {
			return nil, err
		}
		if p.trace != nil { // its arguments are not worked out for every object
			p.trace.matched("%s %q: %s", attr, p.shown(attr, v), plural(len(objs), "target object"))
		}
		if len(objs) > 1 {
			return nil, &duplicateTargets{n: len(objs), attribute: attr, value: Canon(v)}
		}
		if len(objs) == 1 {
			return &objs[0], nil
		}
	}
	return nil, nil
}

// shown is a matching value as a trace may show it.
func (p *plan) shown(attr string, v any) string {
	if p.prog.Redacted(attr) {
		return audit.Redacted
	}
	return Canon(v)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// find answers from the cycle's target index when it can, else asks the
// target.
func (p *plan) find(ctx context.Context, attribute string, value any) ([]connectors.TargetObject, error) {
	if objs, ok := p.index.lookup(p.item.Type, attribute, value); ok {
		return objs, nil
	}
	return p.findInTarget(ctx, attribute, value)
}

func (p *plan) findInTarget(ctx context.Context, attribute string, value any) ([]connectors.TargetObject, error) {
	return p.target.Find(ctx, p.item.Type, attribute, value)
}

// link connects the object to a matched target object and pushes what
// differs from the mapped values. A target object that a create in doubt
// made is logged as created.
func (p *plan) link(ctx context.Context, found connectors.TargetObject, values connectors.Attributes) store.Record {
	e := p.entry
	e.TargetID = found.ID
	p.confirming = p.createInDoubt()
	if p.confirming == nil {
		values = p.notCreating(values)
	}
	changes, pushed, held := p.updateAction(diff(values, found.Attributes), found.Attributes, values)
	if err := p.push(ctx, found.ID, changes, !found.Active); err != nil {
		return p.fail(CodeOf(err), err.Error())
	}
	switch {
	case p.confirming != nil:
		p.confirmCreate(changes)
	case len(changes) == 0 && found.Active:
		e.Action, e.Status, e.Reason = audit.Other, audit.Skipped, "matched an existing target object that already has these values"
	}
	switch {
	case held == "":
	case p.confirming != nil:
		e.Reason = also(e.Reason, held)
	default:
		e.Reason = held
	}
	return p.linked(found.ID, pushed)
}

// notCreating leaves out the values of mappings applied only on creation:
// an object the job matches, not creates, keeps what it holds (an initial
// password is never set on an account that exists).
func (p *plan) notCreating(values connectors.Attributes) connectors.Attributes {
	out := make(connectors.Attributes, len(values))
	for k, v := range values {
		if !p.prog.CreationOnly(k) {
			out[k] = v
		}
	}
	return out
}

// createInDoubt returns the create that may have made the target object
// matched: one an earlier attempt left pending, or this attempt's, when
// the target lost its answer and found the create sent again conflicting.
func (p *plan) createInDoubt() *store.Operation {
	if p.resent && p.op != nil && p.op.Action == audit.Create {
		return p.op
	}
	if o := p.earlier; o != nil && o.Action == audit.Create && !o.Done {
		return o
	}
	return nil
}

// confirmCreate logs the create being confirmed, with the values it
// pushed; changes are what the object did not hold and were pushed after.
func (p *plan) confirmCreate(changes []connectors.Change) {
	op, e := p.confirming, p.entry
	how := "the target lost its answer to the create, and the create sent again found the object made"
	if op != p.op {
		how = earlierAttempt(op, e.ChangeID) + "; the object it created was found in the target by matching"
	}
	confirmed(e, op, how)
	if len(changes) > 0 {
		e.Reason = also(e.Reason, "the values it did not hold were pushed: "+changeNames(changes))
	}
}

// updateAction applies the Update target action to the changes for an
// object whose target holds current: the changes to push, the values to
// record as pushed, and why changes are held back. With updates off the
// recorded values stay what the target holds, so the changes go out once
// updates are on again.
func (p *plan) updateAction(changes []connectors.Change, current, values connectors.Attributes) ([]connectors.Change, connectors.Attributes, string) {
	if !p.acts.NoUpdate || len(changes) == 0 {
		return changes, Merge(current, values), ""
	}
	names := make([]string, len(changes))
	for i, c := range changes {
		names[i] = c.Attribute
	}
	return nil, current, "the Update target action is off; not pushed: " + strings.Join(names, ", ")
}

func (p *plan) create(ctx context.Context, values connectors.Attributes) store.Record {
	e := p.entry
	if p.acts.NoCreate {
		return p.skip("the Create target action is off", store.Record{})
	}
	var attrs connectors.Attributes
	var props []audit.Property
	if p.planned != nil && p.planned.sends != nil {
		// The log shares the recorded operation's properties: nothing
		// changes an entry's properties in place (FitEntry copies them
		// before it shortens any).
		attrs, props = p.planned.sends, p.planned.props
	} else {
		attrs, props = creation(p.prog, values)
	}
	if len(e.Modified) == 0 {
		e.Modified = props // sorted already
	} else {
		e.Modified = append(e.Modified, props...)
		sortProperties(e.Modified)
	}
	e.Action = audit.Create
	if err := p.intend(ctx, ""); err != nil {
		return p.fail(CodeOf(err), err.Error())
	}
	id, err := p.target.Create(ctx, p.item.Type, attrs)
	if err != nil {
		if connectors.KindOf(err) == connectors.KindConflict {
			p.resent = connectors.Resent(err)
			return p.conflicted(ctx, values, err)
		}
		return p.fail(CodeOf(err), err.Error())
	}
	e.TargetID, e.Status, p.created = id, audit.Success, true
	return p.linked(id, attrs)
}

// creation returns the values a create sends, those that have one, and
// their properties as the log shows them, sorted.
//
// It runs for every object created: each value is rendered once, the
// names, unique, sort without reflection, and values none of which is
// empty are sent as they are (nothing changes them after mapping).
func creation(prog *mapping.Program, values connectors.Attributes) (connectors.Attributes, []audit.Property) {
	props := make([]audit.Property, 0, len(values))
	for k, v := range values {
		c := Canon(v)
		if c == "" {
			continue
		}
		if prog != nil && prog.Redacted(k) {
			c = audit.Redacted
		}
		props = append(props, audit.Property{Name: k, New: c})
	}
	attrs := values
	if len(props) < len(values) {
		attrs = make(connectors.Attributes, len(props))
		for k, v := range values {
			if Canon(v) != "" {
				attrs[k] = v
			}
		}
	}
	if len(props) == 0 {
		return attrs, nil // as the log has always shown no properties
	}
	slices.SortFunc(props, func(a, b audit.Property) int { return strings.Compare(a.Name, b.Name) })
	return attrs, props
}

// conflicted handles a create the target refused because the object
// exists: it was created after the index was read, or by an earlier
// attempt whose answer was lost, which is then logged as the create. The
// target is asked once and the object linked when exactly one matches;
// otherwise the conflict stands.
func (p *plan) conflicted(ctx context.Context, values connectors.Attributes, conflict error) store.Record {
	found, err := p.match(ctx, values, p.findInTarget)
	switch {
	case err != nil:
		return p.fail(CodeOf(err), err.Error())
	case found == nil:
		return p.fail(CodeOf(conflict), conflict.Error())
	}
	p.entry.Modified = nil
	if p.createInDoubt() == nil && p.op != nil {
		// The object was there before the create: its operation goes, lest
		// an attempt that takes over after a crash log it as created.
		if err := p.withdraw(ctx); err != nil {
			return p.fail(CodeOf(err), err.Error())
		}
	}
	return p.link(ctx, *found, values)
}
