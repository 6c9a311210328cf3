package activities

import (
	"context"
	"encoding/json"
	"strconv"

	"go.temporal.io/sdk/activity"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/engine"
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

// MarshalJSON writes the result headed by its summary and Next, for the
// workflow to read without the entries, then the entries.
func (r BatchResult) MarshalJSON() ([]byte, error) {
	if b, ok := r.EncodedJSON(); ok {
		return b, nil
	}
	summary, err := json.Marshal(Summarize(r.Entries))
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Summary json.RawMessage `json:"summary"`
		Next    int             `json:"next,omitempty"`
		Entries []audit.Entry   `json:"entries"`
	}{summary, r.Next, r.Entries})
}

// EncodedJSON is the result's JSON written from its entries as they were
// encoded for the state store, compact and valid, or false when they were
// not. The data converter (codec.EncodedJSON) sends it as it is, where
// json.Marshal would validate and compact the whole result again.
func (r BatchResult) EncodedJSON() ([]byte, bool) {
	if len(r.Entries) == 0 || len(r.encoded) != len(r.Entries) {
		return nil, false
	}
	summary, err := json.Marshal(Summarize(r.Entries))
	if err != nil {
		return nil, false
	}
	n := len(`{"summary":,"next":,"entries":[]}`) + len(summary) + len(r.encoded) + 20
	for _, e := range r.encoded {
		n += len(e)
	}
	b := make([]byte, 0, n)
	b = append(append(b, `{"summary":`...), summary...)
	if r.Next > 0 {
		b = append(append(b, `,"next":`...), strconv.Itoa(r.Next)...)
	}
	b = append(b, `,"entries":[`...)
	for i, e := range r.encoded {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	return append(b, ']', '}'), true
}

// Codes of failures the engine itself raises.
const (
	CodeInvalidSourceRecord    = engine.CodeInvalidSourceRecord
	CodeMappingError           = engine.CodeMappingError
	CodeDuplicateTargetEntries = engine.CodeDuplicateTargetEntries
	CodeInternalError          = engine.CodeInternalError
)

// SoftDeletedAttribute is the computed source attribute Azure mappings use
// for `active` (see engine.SoftDeletedAttribute).
const SoftDeletedAttribute = engine.SoftDeletedAttribute

// ResultBudget is how many bytes of encoded log entries one activity
// result is filled to (see engine.ResultBudget).
const ResultBudget = engine.ResultBudget

// ProvisionBatch scopes, maps, matches and pushes a batch of staged objects
// (engine.ProvisionBatch). Each object fails alone; its entry says why. It
// heartbeats while calls are in flight and records items as they finish:
// items already done by an earlier attempt return their recorded entry,
// and objects created before a crash are found again by matching, so a
// retried batch never duplicates.
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
func (a *Activities) provisionBatch(ctx context.Context, in BatchInput, traces map[int]*engine.Trace) (BatchResult, error) {
	tgt, err := a.target(ctx, &in.Job)
	if err != nil {
		return BatchResult{}, err
	}
	src, err := a.source(ctx, &in.Job)
	if err != nil {
		return BatchResult{}, err
	}
	b, err := a.engine(&in.Job, src, tgt).ProvisionBatch(ctx, engine.BatchRequest{
		Cycle: in.Cycle, From: in.From, To: in.To, Budget: in.Budget, OnDemand: in.onDemand,
		Retry: activity.GetInfo(ctx).Attempt > 1, Traces: traces,
	})
	if err != nil {
		return BatchResult{}, err
	}
	res := BatchResult{Entries: b.Entries, Next: b.Next, encoded: b.Encoded}
	if refused(res.Entries) {
		a.forgetTarget(&in.Job, tgt)
	}
	return res, nil
}
