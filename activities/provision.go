package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
)

// BatchInput asks for staged items From..To of a cycle to be provisioned.
type BatchInput struct {
	Job     config.Job  `json:"job"`
	Cycle   store.Cycle `json:"cycle"`
	From    int         `json:"from"`
	To      int         `json:"to"`
	Initial bool        `json:"initial,omitempty"`
	// Budget is the most bytes the result's entries may take: the batch
	// takes items in order while their entries fit, and its result's Next
	// says where the rest start. Zero takes every item, as cycles recorded
	// before the budget expect.
	Budget int `json:"budget,omitempty"`
	// onDemand keeps each object's operation, done, in its state: a
	// request retried after its result was lost stages its objects again,
	// and finds what its first attempt did.
	onDemand bool
}

// BatchResult holds one provisioning log entry per staged item. It is the
// activity's result, so the entries are kept in workflow history.
type BatchResult struct {
	Entries []audit.Entry `json:"entries"`
	// Next is the Seq of the first item left to a later batch, the result
	// being full; 0 when the batch took every item.
	Next int `json:"next,omitempty"`
	// encoded holds each entry as recorded in the state store, so that an
	// entry is encoded once for both.
	encoded [][]byte
}

// MarshalJSON writes the entries as they were encoded for the state store.
func (r BatchResult) MarshalJSON() ([]byte, error) {
	if len(r.Entries) == 0 || len(r.encoded) != len(r.Entries) {
		type plain BatchResult
		return json.Marshal(plain(r))
	}
	n := len(`{"entries":[],"next":}`) + len(r.encoded) + 20
	for _, e := range r.encoded {
		n += len(e)
	}
	b := make([]byte, 0, n)
	b = append(b, `{"entries":[`...)
	for i, e := range r.encoded {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	b = append(b, ']')
	if r.Next > 0 {
		b = append(append(b, `,"next":`...), strconv.Itoa(r.Next)...)
	}
	return append(b, '}'), nil
}

// Codes of failures the engine itself raises.
const (
	CodeInvalidSourceRecord    = "InvalidSourceRecord"
	CodeMappingError           = "MappingError"
	CodeDuplicateTargetEntries = "DuplicateTargetEntries"
	CodeInternalError          = "InternalError"
)

// SoftDeletedAttribute is the computed source attribute Azure mappings use
// for `active`: true when the source object is disabled.
const SoftDeletedAttribute = "IsSoftDeleted"

// ProvisionBatch scopes, maps, matches and pushes a batch of staged objects.
// Each object fails alone; its entry says why. It heartbeats while calls
// are in flight and records items as they finish: items already done by an
// earlier attempt return their recorded entry, and objects created before a
// crash are found again by matching, so a retried batch never duplicates.
func (a *Activities) ProvisionBatch(ctx context.Context, in BatchInput) (_ BatchResult, err error) {
	defer classify(&err)
	res, err := a.forCycle(in.Job.Options.DryRun, in.Cycle).provisionBatch(ctx, in, nil)
	if err == nil {
		a.countEntries(in.Job.Name, res.Entries)
	}
	return res, err
}

// provisionBatch is ProvisionBatch; traces, by Seq, collect how the items
// they are given for went through scope and matching.
func (a *Activities) provisionBatch(ctx context.Context, in BatchInput, traces map[int]*trace) (BatchResult, error) {
	items, err := a.Store.Staged(ctx, in.Cycle, in.From, in.To)
	if err != nil {
		return BatchResult{}, err
	}
	tgt, err := a.target(ctx, &in.Job)
	if err != nil {
		return BatchResult{}, err
	}
	src, err := a.source(ctx, &in.Job)
	if err != nil {
		return BatchResult{}, err
	}
	b := &batch{a: a, in: in, target: tgt, source: src, opts: in.Job.Options.WithDefaults(), objects: map[connectors.ObjectType]int{}, states: map[connectors.ObjectType]map[string]store.ObjectState{}, stagedIDs: map[connectors.ObjectType][]string{}, traces: traces}
	b.programs = make([]compiled, len(in.Job.Objects))
	for i, o := range in.Job.Objects {
		b.objects[connectors.ObjectType(o.SourceObject)] = i
		b.programs[i].prog, b.programs[i].err = a.program(&in.Job, i)
	}
	if err := b.loadStates(ctx, items); err != nil {
		return BatchResult{}, err
	}
	if b.assign, err = a.assignment(ctx, &in.Job); err != nil {
		return BatchResult{}, err
	}
	if err := b.assign.load(ctx, connectors.User, b.ids(connectors.User)); err != nil {
		return BatchResult{}, err
	}
	if b.index, err = b.loadIndex(ctx, items); err != nil {
		return BatchResult{}, err
	}

	entries := make([]audit.Entry, len(items))
	rec := &recorder{b: b, items: items, records: make([]store.Record, len(items)), followUps: make([]followUp, len(items))}
	done := make([]bool, len(items))
	for i := range items {
		done[i] = items[i].Outcome != nil && json.Unmarshal(items[i].Outcome, &entries[i]) == nil
	}
	// What finished is recorded at every heartbeat, so that a batch started
	// again (its worker stopped, or its attempt timed out) resumes after it
	// rather than pushing it again; a failure to record leaves it for the
	// end. Items of an attempt that is ending are not recorded: they may
	// have failed only because it ends. Items are taken while their
	// entries fit the budget; those done earlier count as they were
	// recorded.
	taken := parallelWithin(ctx, b.opts.Concurrency, len(items), in.Budget, func(i int) int {
		if done[i] {
			return len(items[i].Outcome)
		}
		entries[i], rec.records[i], rec.followUps[i] = b.item(ctx, items[i])
		if ctx.Err() == nil {
			rec.finished(i)
		}
		return len(rec.records[i].Outcome)
	}, func() { _ = rec.flush(ctx) })
	if err := ctx.Err(); err != nil {
		return BatchResult{}, err
	}
	if err := rec.flush(ctx); err != nil {
		return BatchResult{}, err
	}
	res := BatchResult{Entries: entries[:taken], encoded: make([][]byte, taken)}
	if taken < len(items) {
		res.Next = items[taken].Seq
	}
	if refused(res.Entries) {
		a.forgetTarget(&in.Job, tgt)
	}
	for i := range res.encoded {
		res.encoded[i] = rec.records[i].Outcome
		if res.encoded[i] == nil {
			res.encoded[i] = items[i].Outcome
		}
	}
	return res, nil
}

// recorder records the items of a batch that finished.
type recorder struct {
	b         *batch
	items     []store.StagedItem
	records   []store.Record
	followUps []followUp

	mu      sync.Mutex
	pending []int // finished, not recorded yet
}

// finished notes that item i is done.
func (r *recorder) finished(i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, i)
}

// flush records every finished item not recorded yet; those it fails to
// record stay for the next flush.
func (r *recorder) flush(ctx context.Context) error {
	r.mu.Lock()
	due := r.pending
	r.pending = nil
	r.mu.Unlock()
	err := r.record(ctx, due)
	if err != nil {
		r.mu.Lock()
		r.pending = append(r.pending, due...)
		r.mu.Unlock()
	}
	return err
}

// record records the outcomes and states of the items at indexes idx.
func (r *recorder) record(ctx context.Context, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	items := make([]store.StagedItem, len(idx))
	records := make([]store.Record, len(idx))
	fus := make([]followUp, len(idx))
	for j, i := range idx {
		items[j], records[j], fus[j] = r.items[i], r.records[i], r.followUps[i]
	}
	// Follow-up work is marked before the outcomes are recorded: a batch
	// retried after a crash skips recorded items, so their marks must
	// already be there.
	if err := r.b.markFollowUps(ctx, items, records, fus); err != nil {
		return err
	}
	return r.b.a.Store.Record(ctx, r.b.in.Cycle, records)
}

type batch struct {
	a       *Activities
	in      BatchInput
	target  connectors.Target
	source  connectors.Source
	opts    config.Options
	objects map[connectors.ObjectType]int
	// programs are the compiled mappings of the job's objects, looked up
	// once per batch rather than per item.
	programs []compiled
	states   map[connectors.ObjectType]map[string]store.ObjectState
	// stagedIDs are the source IDs of the batch's items, by type.
	stagedIDs map[connectors.ObjectType][]string
	assign    *assignment
	// index answers matching from the cycle's target index; nil when the
	// batch asks the target.
	index *batchIndex
	// traces are set by Seq for the items provisioned on demand.
	traces map[int]*trace
	// intents records the objects' operations before they are pushed.
	intents     *stateWriter
	intentsOnce sync.Once
}

// writer returns the batch's writer of pending operations.
func (b *batch) writer() *stateWriter {
	b.intentsOnce.Do(func() { b.intents = newStateWriter(b.a.Store, b.in.Cycle) })
	return b.intents
}

// compiled is an object's mapping, or why it does not compile.
type compiled struct {
	prog *mapping.Program
	err  error
}

// ids returns the source IDs of the batch's objects of one type.
func (b *batch) ids(t connectors.ObjectType) []string { return b.stagedIDs[t] }

func (b *batch) loadStates(ctx context.Context, items []store.StagedItem) error {
	ids := map[connectors.ObjectType][]string{}
	for _, it := range items {
		ids[it.Type] = append(ids[it.Type], it.Object.ID)
	}
	for t, list := range ids {
		m, err := b.a.Store.Objects(ctx, b.in.Job.Name, t, list)
		if err != nil {
			return err
		}
		b.states[t] = m
		b.stagedIDs[t] = list
	}
	return nil
}

// item provisions one staged object and returns its log entry, the state
// to record and the work it leaves for the phases after the batches.
func (b *batch) item(ctx context.Context, it store.StagedItem) (audit.Entry, store.Record, followUp) {
	start := time.Now()
	o := it.Object
	e := audit.Entry{
		Job: b.in.Job.Name, CycleID: b.in.Cycle.ID, ChangeID: fmt.Sprintf("%s-%d", b.in.Cycle.ID, it.Seq),
		ObjectType: string(it.Type), SourceID: o.ID, Locator: o.Locator, Time: start.UTC(), DryRun: b.opts.DryRun,
	}
	st, known := b.states[it.Type][o.ID]
	p := &plan{batch: b, item: it, entry: &e, state: st, known: known, earlier: st.Operation, assigned: b.assign.assigned(it.Type, o), trace: b.traces[it.Seq]}
	rec := p.run(ctx)
	p.settle(&rec)
	e.DurationMs = time.Since(start).Milliseconds()
	fitEntry(&e)
	rec.Seq, rec.Type, rec.SourceID = it.Seq, it.Type, o.ID
	rec.Outcome, _ = json.Marshal(e)
	// A dry run keeps its planned states even out of its own state: a
	// planned create has no target object, which its later phases must not
	// take for a link.
	if b.opts.DryRun {
		rec.State, rec.Forget = nil, false
	}
	return e, rec, p.followUp
}

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
	trace *trace
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
}

// hash fingerprints the source record for change detection.
func (p *plan) hash() string { return sourceHash(p.item.Object, p.assigned) }

func (p *plan) run(ctx context.Context) store.Record {
	o := p.item.Object
	if o.Invalid != "" {
		return p.fail(CodeInvalidSourceRecord, o.Invalid)
	}
	idx, ok := p.objects[p.item.Type]
	if !ok {
		return p.fail(CodeInternalError, fmt.Sprintf("no mapping for object type %q", p.item.Type))
	}
	prog := p.programs[idx].prog
	if err := p.programs[idx].err; err != nil {
		return p.fail(CodeMappingError, err.Error())
	}
	p.prog, p.acts = prog, p.in.Job.Objects[idx].Actions

	if o.Deleted {
		return p.deleted(ctx)
	}
	attrs := sourceAttributes(o)
	p.entry.DisplayName = displayName(attrs)
	scope := prog.Scope(attrs)
	p.trace.scoped(scope)
	switch {
	case o.Disabled:
		return p.deprovision(ctx, "the source object is disabled")
	case p.assign != nil && !p.assigned:
		return p.deprovision(ctx, notAssigned(p.item.Type))
	case !scope.InScope:
		return p.deprovision(ctx, "the source object is out of scope: "+describeScope(scope))
	}
	values, err := prog.Map(attrs, !p.state.Linked())
	if err != nil {
		return p.fail(CodeMappingError, err.Error())
	}
	if err := p.resolveReferences(ctx, values); err != nil {
		return p.fail(codeOf(err), err.Error())
	}
	var rec store.Record
	if p.state.Linked() {
		rec = p.update(ctx, values)
	} else {
		rec = p.matchOrCreate(ctx, values, p.find)
	}
	if p.entry.Status != audit.Failure && len(p.in.Job.Objects[idx].Writeback) > 0 && !p.opts.DryRun {
		if err := p.writeback(ctx, p.in.Job.Objects[idx].Writeback, rec); err != nil {
			return p.fail(codeOf(err), "writeback to the source: "+err.Error())
		}
	}
	return rec
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
		if canon(v) != canon(p.item.Object.Attributes[wb.Source]) {
			values[wb.Source] = v
			p.entry.Modified = append(p.entry.Modified, audit.Property{Name: "source:" + wb.Source, Old: canon(p.item.Object.Attributes[wb.Source]), New: canon(v)})
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
	if !p.opts.DryRun {
		if err := p.intend(ctx, p.state.TargetID); err != nil {
			return p.fail(codeOf(err), err.Error())
		}
		if err := p.target.Delete(ctx, p.item.Type, p.state.TargetID); err != nil {
			return p.fail(codeOf(err), err.Error())
		}
	}
	e.Status = audit.Success
	return store.Record{Forget: true}
}

// deprovision disables the target object of a source object that is out of
// scope or disabled. Unlinked objects are never touched.
func (p *plan) deprovision(ctx context.Context, reason string) store.Record {
	if p.trace != nil {
		p.trace.unscoped = reason
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
	if !p.opts.DryRun {
		if err := p.intend(ctx, st.TargetID); err != nil {
			return p.fail(codeOf(err), err.Error())
		}
		if err := p.target.SetActive(ctx, p.item.Type, st.TargetID, false); err != nil {
			return p.fail(codeOf(err), err.Error())
		}
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
	changes, pushed, held := p.updateAction(diff(values, st.Pushed), st.Pushed, values)
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
		return p.fail(codeOf(err), err.Error())
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
	if p.opts.DryRun || len(changes) == 0 && !enable {
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
	var out connectors.Attributes
	for k := range pushed {
		if p.prog != nil && p.prog.Redacted(k) && p.prog.CreationOnly(k) {
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

// fail records a failure and puts the object in escrow: it is retried in a
// later cycle, after a back-off that doubles with every failed attempt.
func (p *plan) fail(code, reason string) store.Record {
	e := p.entry
	if e.Action == "" || e.Action == audit.Other {
		e.Action = audit.Other
	}
	e.Status, e.ErrorCode, e.Reason = audit.Failure, code, reason
	if p.item.Object.Invalid != "" || p.item.Object.ID == "" {
		return store.Record{}
	}
	st := p.state
	st.Type, st.SourceID = p.item.Type, p.item.Object.ID
	attempts := 1
	if st.Escrow != nil {
		attempts = st.Escrow.Attempts + 1
	}
	st.Escrow = &store.Escrow{Attempts: attempts, RetryAfter: time.Now().Add(escrowBackoff(attempts)), Code: code, Reason: reason, Object: p.item.Object}
	st.UpdatedAt = time.Now()
	return store.Record{State: &st}
}

// escrowBackoff is the wait before retry attempt n+1: one minute, doubling,
// at most a day (Azure retries escrows at 6 h, 12 h, then daily).
func escrowBackoff(attempts int) time.Duration {
	d := time.Minute * time.Duration(math.Pow(2, float64(min(attempts-1, 11))))
	return min(d, 24*time.Hour)
}

func (p *plan) property(name string, old, new any) audit.Property {
	return property(p.prog, name, old, new)
}

// property is a modified attribute as the log shows it, hidden when the
// mapping redacts it.
func property(prog *mapping.Program, name string, old, new any) audit.Property {
	if prog != nil && prog.Redacted(name) {
		return audit.Property{Name: name, Old: redact(old), New: redact(new)}
	}
	return audit.Property{Name: name, Old: canon(old), New: canon(new)}
}

func redact(v any) string {
	if canon(v) == "" {
		return ""
	}
	return audit.Redacted
}

func codeOf(err error) string {
	var dup *duplicateTargets
	if errors.As(err, &dup) {
		return CodeDuplicateTargetEntries
	}
	if k := connectors.KindOf(err); k != "" {
		return string(k)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return string(connectors.KindTimeout)
	}
	return CodeInternalError
}

// diff lists the attributes whose mapped value differs from the current
// one. A value that became empty is sent as nil, which clears it.
func diff(values, current connectors.Attributes) []connectors.Change {
	var out []connectors.Change
	for k, v := range values {
		old, had := current[k]
		if had && canon(old) == canon(v) || !had && canon(v) == "" {
			continue
		}
		c := connectors.Change{Attribute: k, Old: old, New: v}
		if canon(v) == "" {
			c.New = nil
		}
		out = append(out, c)
	}
	sortChanges(out)
	return out
}

// sourceAttributes are the attributes scoping and mappings read: the
// record's, and IsSoftDeleted.
func sourceAttributes(o connectors.Object) connectors.Attributes {
	attrs := make(connectors.Attributes, len(o.Attributes)+1)
	maps.Copy(attrs, o.Attributes)
	attrs[SoftDeletedAttribute] = o.Disabled
	return attrs
}

func merge(base, values connectors.Attributes) connectors.Attributes {
	out := make(connectors.Attributes, len(base)+len(values))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range values {
		if canon(v) == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// canon renders a value for comparison and for the log, so that values that
// went through JSON (numbers as float64, lists as []any) compare equal.
func canon(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []string:
		return strings.Join(x, ", ")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = canon(e)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

func displayName(attrs connectors.Attributes) string {
	for _, k := range []string{"displayName", "userName", "mail", "email"} {
		if s := canon(attrs[k]); s != "" {
			return s
		}
	}
	return ""
}

func describeScope(r mapping.ScopeResult) string {
	var failed []string
	for _, g := range r.Groups {
		for _, c := range g.Clauses {
			if !c.Passed {
				failed = append(failed, fmt.Sprintf("%s %s %q is false (value %q)", c.Clause.Attribute, c.Clause.Operator, c.Clause.Value, c.Actual))
			}
		}
	}
	if len(failed) == 0 {
		return "no scoping filter group passed"
	}
	return strings.Join(failed, "; ")
}
