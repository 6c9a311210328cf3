package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
)

// The log must say what was done even when the attempt that did it died
// before recording it, or lost the target's answer: each change is
// recorded in the object's state as a pending operation (store.Operation)
// before it is pushed. An attempt that takes over and finds the work done
// logs the operation, with the values it pushed, as confirmed after a
// retry, where it would otherwise skip an object that already has its
// values. A create is the one push that cannot simply be made again: its
// operation outlives a failure whose outcome is unknown, so the cycle
// that next finds the object by matching logs the create. The creates a
// batch's target index foretells are recorded together as it starts;
// other operations one by one, just before their push.

// stateWriter writes object states for objects pushed concurrently,
// several in one transaction: while one write is in flight the states
// that arrive queue, and go together in the next, rather than a
// transaction each.
type stateWriter struct {
	store pushRecords
	cycle store.Cycle

	mu      sync.Mutex
	queue   []store.Record
	waiting []chan error
	writing bool
}

func newStateWriter(st pushRecords, c store.Cycle) *stateWriter {
	return &stateWriter{store: st, cycle: c}
}

// put writes st and returns once it is written, or ctx is done.
func (w *stateWriter) put(ctx context.Context, st store.ObjectState) error {
	done := make(chan error, 1)
	w.mu.Lock()
	w.queue = append(w.queue, store.Record{State: &st})
	w.waiting = append(w.waiting, done)
	if !w.writing {
		w.writing = true
		go w.drain(context.WithoutCancel(ctx))
	}
	w.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain writes what is queued until nothing is.
func (w *stateWriter) drain(ctx context.Context) {
	for {
		w.mu.Lock()
		records, waiting := w.queue, w.waiting
		w.queue, w.waiting = nil, nil
		if len(records) == 0 {
			w.writing = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		err := w.store.Record(ctx, w.cycle, records)
		for _, ch := range waiting {
			ch <- err
		}
	}
}

// operation is the change an entry describes, to record before it is pushed.
func operation(e *audit.Entry, targetID string) *store.Operation {
	return &store.Operation{ChangeID: e.ChangeID, Action: e.Action, TargetID: targetID, Modified: slices.Clone(e.Modified), Time: time.Now().UTC()}
}

// ofChange returns op when it is the operation of the change changeID:
// made by an earlier attempt of this very change.
func ofChange(op *store.Operation, changeID string) *store.Operation {
	if op != nil && op.ChangeID == changeID {
		return op
	}
	return nil
}

// confirmed logs in e the operation op, which an earlier attempt made
// and this one found done.
func confirmed(e *audit.Entry, op *store.Operation, how string) {
	e.Action, e.Status, e.ErrorCode = op.Action, audit.Success, ""
	e.Modified = slices.Clone(op.Modified)
	if op.TargetID != "" {
		e.TargetID = op.TargetID
	}
	e.Reason = "confirmed after a retry: " + how
}

// earlierAttempt says which attempt made op, for an entry of change changeID.
func earlierAttempt(op *store.Operation, changeID string) string {
	if op.ChangeID == changeID {
		return "an earlier attempt of this change ended before its outcome was recorded"
	}
	return fmt.Sprintf("an earlier attempt (change %s) ended without knowing whether the target acted", op.ChangeID)
}

// outcomeUnknown reports whether a push that failed with code may have
// been carried out all the same: the target's answer was lost, or came
// from a server that failed midway. Its operation stays pending.
func outcomeUnknown(code string) bool {
	switch connectors.Kind(code) {
	case connectors.KindTimeout, connectors.KindUnavailable, connectors.KindServerError, connectors.KindTooManyRequests:
		return true
	}
	return code == CodeInternalError
}

// also appends a note to a reason.
func also(reason, note string) string {
	if reason == "" {
		return note
	}
	return reason + "; " + note
}

// changeNames lists the attributes of changes.
func changeNames(changes []connectors.Change) string {
	names := make([]string, len(changes))
	for i, c := range changes {
		names[i] = c.Attribute
	}
	return strings.Join(names, ", ")
}

// intend records the operation the entry describes before it is pushed
// to targetID (empty for a create). The pushes that follow a create being
// confirmed belong to its operation, recorded already.
func (p *plan) intend(ctx context.Context, targetID string) error {
	if p.confirming != nil {
		return nil
	}
	if planned := p.plannedOperation(p.item.Seq, p.entry, targetID); planned != nil {
		p.op = planned
		return nil
	}
	op := operation(p.entry, targetID)
	if err := p.putOperation(ctx, op); err != nil {
		return fmt.Errorf("record the pending operation: %w", err)
	}
	return nil
}

// putOperation writes the object's state with op as its pending operation
// (none when nil), this attempt's from now on.
func (p *plan) putOperation(ctx context.Context, op *store.Operation) error {
	st := p.state
	st.Type, st.SourceID, st.Operation = p.item.Type, p.item.Object.ID, op
	if err := p.writer().put(ctx, st); err != nil {
		return err
	}
	p.op = op
	return nil
}

// settle ends the object's way: a retry that found nothing to do while
// its change's operation is recorded logs the operation, and the state to
// record keeps the operation only while its outcome is unknown — or, on
// demand, done, for a request retried after its result was lost.
func (p *plan) settle(rec *store.Record) {
	e := p.entry
	if op := ofChange(p.earlier, e.ChangeID); op != nil && e.Status == audit.Skipped && p.confirming == nil {
		p.confirming = op
		confirmed(e, op, earlierAttempt(op, e.ChangeID))
	}
	if rec.State == nil {
		return
	}
	op := p.op
	if p.confirming != nil {
		op = p.confirming
	}
	switch {
	case e.Status == audit.Failure && op != nil && (p.confirming != nil || p.created || outcomeUnknown(e.ErrorCode)):
		rec.State.Operation = op
	case e.Status == audit.Failure && op == nil && p.earlier != nil && !p.earlier.Done:
		// Nothing was pushed: what the earlier attempt did is still unknown.
		rec.State.Operation = p.earlier
	case p.in.OnDemand && e.Status == audit.Success && op != nil:
		done := *op
		done.Done = true
		rec.State.Operation = &done
	default:
		rec.State.Operation = nil
	}
}

// withdraw removes the operation this attempt recorded, which did not
// happen.
func (p *plan) withdraw(ctx context.Context) error {
	if err := p.putOperation(ctx, nil); err != nil {
		return fmt.Errorf("withdraw the pending operation: %w", err)
	}
	return nil
}

// mappedItem is a staged item that the batch may create, with the
// attributes its scoping and mapping read and its mapped values.
type mappedItem struct {
	item   store.StagedItem
	prog   *mapping.Program
	attrs  connectors.Attributes
	values connectors.Attributes
}

// plannedPush is what planning an item's push worked out as its batch
// began, which the push then uses rather than works out again: the
// operation recorded, the source attributes (in scope) and the mapped
// values, for a create what it sends with the properties the log shows,
// and for an update what the values change of those last pushed. A
// mapping that calls a function such as Guid is so evaluated once, and
// the values pushed are those recorded.
type plannedPush struct {
	op                   *store.Operation
	attrs, values, sends connectors.Attributes
	props                []audit.Property
	changes              []connectors.Change
}

// scopedValues returns the attributes an object's scoping and mapping
// read and its mapped values, when it is in scope and its mapping does
// not fail.
func scopedValues(prog *mapping.Program, o connectors.Object, forCreate bool) (attrs, values connectors.Attributes, ok bool) {
	attrs = sourceAttributes(o)
	if !prog.InScope(attrs) {
		return nil, nil, false
	}
	values, err := prog.Map(attrs, forCreate)
	if err != nil {
		return nil, nil, false
	}
	return attrs, values, true
}

// planCreates records at once the creates the index says the batch will
// make: objects no matching value finds. A create recorded so is not
// recorded again before its push, which spares an initial cycle a write
// per object; one that turns out otherwise is recorded as it is.
func (b *batch) planCreates(ctx context.Context, bi *batchIndex, items []mappedItem) error {
	var records []store.Record
	for _, m := range items {
		it := m.item
		idx := b.objects[it.Type]
		if b.job.Objects[idx].Actions.NoCreate || len(b.job.References(it.Type)) > 0 || b.assign != nil && !b.assign.assigned(it.Type, it.Object) {
			continue
		}
		if !bi.misses(it.Type, m.prog.Matching(), m.values) {
			continue
		}
		sends, props := creation(m.prog, m.values)
		op := &store.Operation{ChangeID: changeID(b.in.Cycle.ID, it.Seq), Action: audit.Create, Modified: props, Time: time.Now().UTC()}
		st := b.states[it.Type][it.Object.ID]
		st.Type, st.SourceID, st.Operation = it.Type, it.Object.ID, op
		records = append(records, store.Record{State: &st})
		b.plan(it.Seq, &plannedPush{op: op, attrs: m.attrs, values: m.values, sends: sends, props: props})
	}
	if len(records) == 0 {
		return nil
	}
	if err := b.records.Record(ctx, b.in.Cycle, records); err != nil {
		return fmt.Errorf("record the batch's pending creates: %w", err)
	}
	return nil
}

// misses reports whether the index tells that no target object has any
// of the matching values: the object is created.
func (bi *batchIndex) misses(t connectors.ObjectType, matching []string, values connectors.Attributes) bool {
	for _, attr := range matching {
		v, ok := values[attr]
		if !ok || Canon(v) == "" {
			continue
		}
		if objs, ok := bi.lookup(t, attr, v); !ok || len(objs) > 0 {
			return false
		}
	}
	return true
}

// planUpdates records at once the updates the batch's linked objects
// will push: what each object's mapped values change of those last
// pushed, and the account's re-enabling, as update pushes them. It spares
// an incremental cycle a transaction per changed object. An object whose
// push turns out otherwise records its operation before its push, as
// every other operation is recorded; so do objects that have an
// operation recorded already, whose earlier attempt it tells of, and
// those whose mapping reads references, resolved only as they are pushed.
func (b *batch) planUpdates(ctx context.Context, items []store.StagedItem) error {
	var records []store.Record
	now := time.Now().UTC()
	for _, it := range items {
		o := it.Object
		st, known := b.states[it.Type][o.ID]
		idx, ok := b.objects[it.Type]
		if !known || !ok || it.Outcome != nil || o.Invalid != "" || o.Deleted || o.Disabled || !st.Linked() || st.Operation != nil {
			continue
		}
		prog := b.progs[idx].prog
		if prog == nil || b.job.Objects[idx].Actions.NoUpdate || len(b.job.References(it.Type)) > 0 || b.assign != nil && !b.assign.assigned(it.Type, o) {
			continue
		}
		attrs, values, ok := scopedValues(prog, o, false)
		if !ok {
			continue
		}
		changes := diff(values, st.Pushed)
		var props []audit.Property
		for _, c := range changes {
			props = append(props, property(prog, c.Attribute, c.Old, c.New))
		}
		if !st.Active {
			props = append(props, audit.Property{Name: "active", Old: "false", New: "true"})
		}
		if len(props) == 0 {
			continue
		}
		op := &store.Operation{ChangeID: changeID(b.in.Cycle.ID, it.Seq), Action: audit.Update, TargetID: st.TargetID, Modified: props, Time: now}
		st.Type, st.SourceID, st.Operation = it.Type, o.ID, op
		records = append(records, store.Record{State: &st})
		b.plan(it.Seq, &plannedPush{op: op, attrs: attrs, values: values, changes: changes})
	}
	if len(records) == 0 {
		return nil
	}
	if err := b.records.Record(ctx, b.in.Cycle, records); err != nil {
		return fmt.Errorf("record the batch's pending updates: %w", err)
	}
	return nil
}

// plan notes the push planned for the item Seq, its operation recorded.
func (b *batch) plan(seq int, push *plannedPush) {
	if b.plans == nil {
		b.plans = map[int]*plannedPush{}
	}
	b.plans[seq] = push
}

// plannedOperation returns the operation recorded for the item Seq as the
// batch began, when it is the one the entry e describes, on targetID.
func (b *batch) plannedOperation(seq int, e *audit.Entry, targetID string) *store.Operation {
	var planned *store.Operation
	if push := b.plans[seq]; push != nil {
		planned = push.op
	}
	if planned == nil || planned.ChangeID != e.ChangeID || planned.Action != e.Action || planned.TargetID != targetID || !slices.Equal(planned.Modified, e.Modified) {
		return nil
	}
	return planned
}
