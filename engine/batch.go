package engine

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
)

// BatchRequest asks for staged items From..To of a cycle to be provisioned.
type BatchRequest struct {
	Cycle store.Cycle
	From  int
	To    int
	// Budget is the most bytes the result's entries may take: the batch
	// takes items in order while their entries fit, and Batch.Next says
	// where the rest start. Zero takes every item.
	Budget int
	// OnDemand keeps each object's operation, done, in its state: a
	// request retried after its result was lost stages its objects again,
	// and finds what its first attempt did.
	OnDemand bool
	// Retry is set when an earlier attempt of the batch may have pushed:
	// the batch then asks the target rather than the cycle's target index,
	// read before that attempt's creates.
	Retry bool
	// Traces, by Seq, collect how the items they are given for went
	// through scope and matching.
	Traces map[int]*Trace
}

// Batch is what provisioning a batch did: one log entry per item taken.
type Batch struct {
	Entries []audit.Entry
	// Encoded holds each entry as recorded in the state store, so that an
	// entry is encoded once for both.
	Encoded [][]byte
	// Next is the Seq of the first item left to a later batch, the result
	// being full; 0 when the batch took every item.
	Next int
}

// ProvisionBatch scopes, maps, matches and pushes a batch of staged
// objects. Each object fails alone; its entry says why. It records items
// as they finish, at every heartbeat: items already done by an earlier
// attempt return their recorded entry, and objects created before a
// crash are found again by matching, so a retried batch never
// duplicates.
func (e *Engine) ProvisionBatch(ctx context.Context, in BatchRequest) (Batch, error) {
	items, err := e.store.Staged(ctx, in.Cycle, in.From, in.To)
	if err != nil {
		return Batch{}, err
	}
	b := &batch{Engine: e, in: in, objects: map[connectors.ObjectType]int{}, states: map[connectors.ObjectType]map[string]store.ObjectState{}, stagedIDs: map[connectors.ObjectType][]string{}}
	b.progs = make([]compiled, len(e.job.Objects))
	for i, o := range e.job.Objects {
		b.objects[connectors.ObjectType(o.SourceObject)] = i
		b.progs[i].prog, b.progs[i].err = e.programs(i)
	}
	if err := b.loadStates(ctx, items); err != nil {
		return Batch{}, err
	}
	if b.assign, err = e.assignment(ctx); err != nil {
		return Batch{}, err
	}
	if err := b.assign.load(ctx, connectors.User, b.ids(connectors.User)); err != nil {
		return Batch{}, err
	}
	if b.index, err = b.loadIndex(ctx, items); err != nil {
		return Batch{}, err
	}
	if err := b.planUpdates(ctx, items); err != nil {
		return Batch{}, err
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
	pool := Pool{Workers: e.opts.Concurrency, Heartbeat: e.beat, Save: func() { _ = rec.flush(ctx) }}
	calls := ctx
	if crew := e.crew(); crew != nil {
		// A call waiting to retry makes a place in the crew and in the
		// step for one more: twice the workers take the items meanwhile.
		pool.Workers, pool.Crew, pool.step = 2*e.opts.Concurrency, crew, newStepLimit(e.opts.Concurrency)
		calls = connectors.WithRetryWaits(ctx, pool.step)
	}
	taken := pool.RunWithin(ctx, len(items), in.Budget, func(i int) int {
		if done[i] {
			return len(items[i].Outcome)
		}
		entries[i], rec.records[i], rec.followUps[i] = b.item(calls, items[i])
		if ctx.Err() == nil {
			rec.finished(i)
		}
		return len(rec.records[i].Outcome)
	})
	if err := ctx.Err(); err != nil {
		return Batch{}, err
	}
	if err := rec.flush(ctx); err != nil {
		return Batch{}, err
	}
	res := Batch{Entries: entries[:taken], Encoded: make([][]byte, taken)}
	if taken < len(items) {
		res.Next = items[taken].Seq
	}
	for i := range res.Encoded {
		res.Encoded[i] = rec.records[i].Outcome
		if res.Encoded[i] == nil {
			res.Encoded[i] = items[i].Outcome
		}
	}
	return res, nil
}

// batch is one ProvisionBatch call.
type batch struct {
	*Engine
	in      BatchRequest
	objects map[connectors.ObjectType]int
	// progs are the compiled mappings of the job's objects, looked up
	// once per batch rather than per item.
	progs  []compiled
	states map[connectors.ObjectType]map[string]store.ObjectState
	// stagedIDs are the source IDs of the batch's items, by type.
	stagedIDs map[connectors.ObjectType][]string
	assign    *assignment
	// index answers matching from the cycle's target index; nil when the
	// batch asks the target.
	index *batchIndex
	// intents records the objects' operations before they are pushed;
	// plans holds, by Seq, the pushes planned as the batch began, with
	// the operations recorded for them together.
	intents     *stateWriter
	intentsOnce sync.Once
	plans       map[int]*plannedPush
}

// changeID names the change a cycle's item Seq makes.
func changeID(cycle string, seq int) string { return cycle + "-" + strconv.Itoa(seq) }

// writer returns the batch's writer of pending operations.
func (b *batch) writer() *stateWriter {
	b.intentsOnce.Do(func() { b.intents = newStateWriter(b.records, b.in.Cycle) })
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
		m, err := b.store.Objects(ctx, b.job.Name, t, list)
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
		Job: b.job.Name, CycleID: b.in.Cycle.ID, ChangeID: changeID(b.in.Cycle.ID, it.Seq),
		ObjectType: string(it.Type), SourceID: o.ID, Locator: o.Locator, Time: start.UTC(), DryRun: b.opts.DryRun,
	}
	st, known := b.states[it.Type][o.ID]
	p := &plan{batch: b, item: it, entry: &e, state: st, known: known, earlier: st.Operation, assigned: b.assign.assigned(it.Type, o), trace: b.in.Traces[it.Seq]}
	rec := p.run(ctx)
	p.settle(&rec)
	e.DurationMs = time.Since(start).Milliseconds()
	rec.Outcome = FitEntry(&e)
	rec.Seq, rec.Type, rec.SourceID = it.Seq, it.Type, o.ID
	// A dry run keeps its planned states even out of its own state: a
	// planned create has no target object, which its later phases must not
	// take for a link.
	if b.opts.DryRun {
		rec.State, rec.Forget = nil, false
	}
	return e, rec, p.followUp
}
