package engine

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// resolveReferences replaces the value of each reference attribute (the
// source ID of another object, such as a manager's employee ID) with that
// object's target ID when the object is linked. A reference whose object is
// not linked yet is left out of the values and the object is marked for the
// reference phase, which writes it once the object exists, in this cycle or
// a later one.
func (p *plan) resolveReferences(ctx context.Context, values connectors.Attributes) error {
	refs := p.job.References(p.item.Type)
	if len(refs) == 0 {
		return nil
	}
	p.references = maps.Clone(p.state.References)
	if p.references == nil {
		p.references = map[string]string{}
	}
	wanted := map[connectors.ObjectType][]string{}
	for attr, t := range refs {
		v, ok := values[attr]
		if !ok {
			continue // not applied now (creation only): the recorded one stands
		}
		id := Canon(v)
		p.references[attr] = id
		if id != "" {
			wanted[t] = append(wanted[t], id)
		}
	}
	found := map[connectors.ObjectType]map[string]store.ObjectState{}
	for t, ids := range wanted {
		m, err := p.store.Objects(ctx, p.job.Name, t, ids)
		if err != nil {
			return err
		}
		found[t] = m
	}
	for attr, t := range refs {
		if _, ok := values[attr]; !ok {
			continue
		}
		switch id := p.references[attr]; {
		case id == "":
			values[attr] = nil
		case found[t][id].Linked():
			values[attr] = found[t][id].TargetID
		default:
			delete(values, attr)
			p.followUp.references = true
		}
	}
	return nil
}

// ResolveReferences writes, for the objects ids of type t marked for the
// reference phase, each reference attribute whose object is now linked.
// An object whose references are all written has its mark cleared;
// references still waiting keep it marked, and are tried again every
// cycle until their object is provisioned. Objects are taken in order
// while their entries fit budget bytes.
func (e *Engine) ResolveReferences(ctx context.Context, c store.Cycle, t connectors.ObjectType, ids []string, budget int) (PhasePage, error) {
	r := &referencePage{e: e, cycle: c, t: t, refs: e.job.References(t)}
	if err := r.load(ctx, ids); err != nil {
		return PhasePage{}, err
	}
	return e.page(ctx, store.ReferenceWork, t, ids, budget, func(i int) (*audit.Entry, bool) {
		return r.object(ctx, r.states[ids[i]])
	})
}

// referencePage is one page of the reference phase for one object type.
type referencePage struct {
	e      *Engine
	cycle  store.Cycle
	t      connectors.ObjectType
	refs   map[string]connectors.ObjectType // target attribute → referenced type
	states map[string]store.ObjectState
	found  map[connectors.ObjectType]map[string]store.ObjectState
	// writer writes the page's objects' operations and states.
	writer     *stateWriter
	writerOnce sync.Once
}

// stateWriter returns the page's writer of object states.
func (r *referencePage) stateWriter() *stateWriter {
	r.writerOnce.Do(func() { r.writer = newStateWriter(r.e.records, r.cycle) })
	return r.writer
}

// load reads the page's objects and the objects they reference.
func (r *referencePage) load(ctx context.Context, ids []string) error {
	var err error
	if r.states, err = r.e.store.Objects(ctx, r.e.job.Name, r.t, ids); err != nil {
		return err
	}
	wanted := map[connectors.ObjectType][]string{}
	for _, st := range r.states {
		for attr, id := range st.References {
			if t, ok := r.refs[attr]; ok && id != "" {
				wanted[t] = append(wanted[t], id)
			}
		}
	}
	r.found = map[connectors.ObjectType]map[string]store.ObjectState{}
	for t, list := range wanted {
		if r.found[t], err = r.e.store.Objects(ctx, r.e.job.Name, t, list); err != nil {
			return err
		}
	}
	return nil
}

// object writes one object's resolvable references. It returns the log
// entry (nil when nothing was written) and whether every reference is done.
func (r *referencePage) object(ctx context.Context, st store.ObjectState) (*audit.Entry, bool) {
	if !st.Linked() || !st.Active {
		// Gone or disabled: re-enabling provisions the object, references included.
		return nil, true
	}
	var changes []connectors.Change
	resolved := true
	for _, attr := range slices.Sorted(maps.Keys(st.References)) {
		t, ok := r.refs[attr]
		if !ok {
			continue // no longer a reference mapping
		}
		var want any
		if id := st.References[attr]; id != "" {
			ref := r.found[t][id]
			if !ref.Linked() {
				resolved = false
				continue
			}
			want = ref.TargetID
		}
		if Canon(want) != Canon(st.Pushed[attr]) {
			changes = append(changes, connectors.Change{Attribute: attr, Old: st.Pushed[attr], New: want})
		}
	}
	start := time.Now()
	e := &audit.Entry{
		Job: r.e.job.Name, CycleID: r.cycle.ID, ChangeID: r.cycle.ID + "-references-" + st.SourceID,
		ObjectType: string(r.t), SourceID: st.SourceID, TargetID: st.TargetID, DisplayName: displayName(st.Pushed),
		Action: audit.Update, Status: audit.Success, Time: start.UTC(), DryRun: r.e.opts.DryRun,
	}
	// An earlier attempt of this change that wrote the references before
	// its result was kept left its operation: the change is logged.
	prior := ofChange(st.Operation, e.ChangeID)
	if len(changes) == 0 && prior == nil {
		return nil, resolved
	}
	defer func() {
		e.DurationMs = time.Since(start).Milliseconds()
		FitEntry(e)
	}()
	if len(changes) == 0 {
		confirmed(e, prior, earlierAttempt(prior, e.ChangeID))
		return e, resolved
	}
	for _, c := range changes {
		e.Modified = append(e.Modified, audit.Property{Name: c.Attribute, Old: Canon(c.Old), New: Canon(c.New)})
	}
	st.Operation = operation(e, st.TargetID)
	if err := r.stateWriter().put(ctx, st); err != nil {
		e.Status, e.ErrorCode, e.Reason = audit.Failure, CodeInternalError, "record the pending operation: "+err.Error()
		return e, false
	}
	if err := r.e.target.Update(ctx, r.t, st.TargetID, changes); err != nil {
		e.Status, e.ErrorCode, e.Reason = audit.Failure, CodeOf(err), err.Error()
		return e, false
	}
	st.Pushed = Merge(st.Pushed, changeValues(changes))
	st.Operation.Done = true
	st.UpdatedAt = time.Now()
	if err := r.stateWriter().put(ctx, st); err != nil {
		e.Status, e.ErrorCode, e.Reason = audit.Failure, CodeInternalError, "record the written reference: "+err.Error()
		return e, false
	}
	return e, resolved
}

func changeValues(changes []connectors.Change) connectors.Attributes {
	out := connectors.Attributes{}
	for _, c := range changes {
		out[c.Attribute] = c.New
	}
	return out
}
