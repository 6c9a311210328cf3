// Package history reads the provisioning log back from workflow history:
// the entries the job's activities returned as their results, across
// every cycle and continue-as-new run. It is the only part of the audit
// trail that speaks to Temporal.
package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/openprovisioning/provisioner/audit"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/openprovisioning/provisioner/codec"
)

// cycleWorkflowType is the workflow type of the job's cycles.
const cycleWorkflowType = "ProvisioningCycle"

// jobWorkflowID is a job's workflow ID, as workflows.JobWorkflowID makes
// it: this package cannot import workflows, which imports it.
func jobWorkflowID(job string) string { return "provisioning-job:" + job }

// WithConverter returns the client, carrying the data converter its
// payloads are encoded with (a payload codec's, see package codec), for
// the functions here to decode activity results with. With any other
// client, or when dc is nil, they use the default codec's, which decodes
// plain and compressed payloads (not encrypted ones).
func WithConverter(c client.Client, dc converter.DataConverter) client.Client {
	if dc == nil {
		return c
	}
	return converterClient{c, dc}
}

type converterClient struct {
	client.Client
	dc converter.DataConverter
}

// converterOf is the data converter of a client from WithConverter.
func converterOf(c client.Client) converter.DataConverter {
	if cc, ok := c.(converterClient); ok {
		return cc.dc
	}
	return defaultConverter
}

var defaultConverter = codec.Codec{}.DataConverter()

// Read calls fn with every provisioning log entry of a job, read from
// the histories of its cycle workflows and, for objects provisioned on
// demand and rollbacks, of the job workflow (every run, across
// continue-as-new).
func Read(ctx context.Context, c client.Client, namespace, job string, fn func(audit.Entry) error) error {
	return ReadSince(ctx, c, namespace, job, time.Time{}, fn)
}

// ReadSince is Read for the runs still open at since (all of
// them when since is zero): runs that closed earlier hold no entry from
// since on, so their histories are not read at all. Entries come in the
// order they were made: cycle runs are read oldest first, and the job
// runs' few entries (on demand, rollback) are read first and merged in.
//
// The runs are found from history, not from visibility, which is
// eventually consistent and can miss runs for a while (after a server
// restart, for example): the job's current run, the runs before it back
// through continue-as-new, the cycles those runs started as children, and
// each cycle's runs through continue-as-new. Visibility only lists the
// executions of a job started afresh under the same workflow ID, which no
// history links to the current one. A run that cannot be read is an error
// naming it, unless the namespace's retention has removed it.
func ReadSince(ctx context.Context, c client.Client, namespace, job string, since time.Time, fn func(audit.Entry) error) error {
	r := &reader{c: c, dc: converterOf(c), namespace: namespace, since: since}
	runs, err := r.jobRuns(ctx, jobWorkflowID(job))
	if err != nil {
		return err
	}
	var jobEntries []audit.Entry
	var cycles []cycleChain
	for _, run := range runs {
		jobEntries = append(jobEntries, run.entries...)
		cycles = append(cycles, run.cycles...)
	}
	sort.SliceStable(jobEntries, func(i, j int) bool { return jobEntries[i].Time.Before(jobEntries[j].Time) })
	sort.SliceStable(cycles, func(i, j int) bool { return cycles[i].started.Before(cycles[j].started) })
	merged := func(e audit.Entry) error {
		for len(jobEntries) > 0 && !jobEntries[0].Time.After(e.Time) {
			if err := fn(jobEntries[0]); err != nil {
				return err
			}
			jobEntries = jobEntries[1:]
		}
		return fn(e)
	}
	for _, cy := range cycles {
		if !since.IsZero() && !cy.closedBy.IsZero() && cy.closedBy.Before(since) {
			continue
		}
		if err := r.readChain(ctx, cy, merged); err != nil {
			return err
		}
	}
	for _, e := range jobEntries {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// ReadRun calls fn with every provisioning log entry of one cycle workflow,
// from run firstRunID to the end of its continue-as-new chain. Unlike
// Read it needs no job, so it also reads cycles run outside a job,
// such as a preview.
func ReadRun(ctx context.Context, c client.Client, workflowID, firstRunID string, fn func(audit.Entry) error) error {
	return (&reader{c: c, dc: converterOf(c)}).readChain(ctx, cycleChain{workflowID: workflowID, firstRunID: firstRunID}, fn)
}

// reader reads a job's runs from one namespace.
type reader struct {
	c         client.Client
	dc        converter.DataConverter
	namespace string
	// since skips runs that closed before it, when set.
	since time.Time
	// retention is the namespace's, once read.
	retention time.Duration
}

// jobRun is what one run of a job workflow holds for the log.
type jobRun struct {
	id      string
	started time.Time
	// prev is the run this one continued, next the run it continued as.
	prev, next string
	closed     time.Time
	entries    []audit.Entry
	cycles     []cycleChain
	// ended are the results of the cycles that ended in this run, as the
	// cycle workflows returned them.
	ended []*commonpb.Payloads
}

// cycleChain is one cycle workflow started by a job run, whose runs follow
// each other through continue-as-new.
type cycleChain struct {
	workflowID, firstRunID string
	started                time.Time
	// closedBy is when the cycle had ended at the latest, zero while it
	// may still run: when the job's history recorded its end, or when the
	// job run that started it closed, since the job waits for its cycle
	// and ends it with the run (ParentClosePolicy TERMINATE).
	closedBy time.Time
}

// runRef names a run to read; closedBy is when it had closed at the
// latest, zero when unknown.
type runRef struct {
	id       string
	closedBy time.Time
}

// jobRuns reads every run of the job workflow, oldest first: the current
// execution's runs, walked back through continue-as-new, and the runs of
// any earlier execution visibility lists under the same ID, walked both
// ways. With since set, the walk back stops at runs that ended before it.
func (r *reader) jobRuns(ctx context.Context, workflowID string) ([]*jobRun, error) {
	todo, err := r.jobExecutions(ctx, workflowID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var runs []*jobRun
	for len(todo) > 0 {
		ref := todo[0]
		todo = todo[1:]
		if seen[ref.id] {
			continue
		}
		seen[ref.id] = true
		run, err := r.readJobRun(ctx, workflowID, ref)
		if err != nil {
			return nil, err
		}
		if run == nil {
			continue
		}
		runs = append(runs, run)
		// The run before this one closed when this one started.
		if run.prev != "" && (r.since.IsZero() || !run.started.Before(r.since)) {
			todo = append(todo, runRef{id: run.prev, closedBy: run.started})
		}
		if run.next != "" {
			todo = append(todo, runRef{id: run.next})
		}
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].started.Before(runs[j].started) })
	return runs, nil
}

// jobExecutions returns the runs to start the walk from: the job
// workflow's latest run, and the runs visibility lists under its ID
// (narrowed to those open at since), which find the executions of a job
// started afresh after an earlier one ended.
func (r *reader) jobExecutions(ctx context.Context, workflowID string) ([]runRef, error) {
	var refs []runRef
	info, err := r.describe(ctx, workflowID, "")
	switch {
	case notFound(err):
		// Never started, or gone with the namespace's retention.
	case err != nil:
		return nil, fmt.Errorf("describe workflow %s: %w", workflowID, err)
	default:
		refs = append(refs, runRef{id: info.GetExecution().GetRunId()})
	}
	query := fmt.Sprintf("WorkflowId = %q", workflowID)
	if !r.since.IsZero() {
		query += fmt.Sprintf(" AND (ExecutionStatus = %q OR CloseTime >= %q)", "Running", r.since.UTC().Format(time.RFC3339Nano))
	}
	var token []byte
	for {
		resp, err := r.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: r.namespace, Query: query, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list executions of workflow %s: %w", workflowID, err)
		}
		for _, ex := range resp.GetExecutions() {
			ref := runRef{id: ex.GetExecution().GetRunId()}
			if ex.GetCloseTime() != nil {
				ref.closedBy = ex.GetCloseTime().AsTime()
			}
			refs = append(refs, ref)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return refs, nil
		}
	}
}

// readJobRun reads one job run's entries, its links to the runs before and
// after it, and the cycles it started. It returns nil for a run the
// namespace's retention removed.
func (r *reader) readJobRun(ctx context.Context, workflowID string, ref runRef) (*jobRun, error) {
	run := &jobRun{id: ref.id}
	initiated := map[int64]string{} // cycle workflow IDs by initiated event, until started
	started := map[int64]int{}      // run.cycles indexes by initiated event
	kept, err := r.history(ctx, workflowID, ref, func(ev *historypb.HistoryEvent) error {
		at := ev.GetEventTime().AsTime()
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			run.started, run.prev = at, a.GetContinuedExecutionRunId()
		}
		if a := ev.GetStartChildWorkflowExecutionInitiatedEventAttributes(); a != nil && a.GetWorkflowType().GetName() == cycleWorkflowType {
			initiated[ev.GetEventId()] = a.GetWorkflowId()
		}
		if a := ev.GetStartChildWorkflowExecutionFailedEventAttributes(); a != nil {
			delete(initiated, a.GetInitiatedEventId())
		}
		if a := ev.GetChildWorkflowExecutionStartedEventAttributes(); a != nil {
			if _, ok := initiated[a.GetInitiatedEventId()]; ok {
				delete(initiated, a.GetInitiatedEventId())
				started[a.GetInitiatedEventId()] = len(run.cycles)
				run.cycles = append(run.cycles, cycleChain{workflowID: a.GetWorkflowExecution().GetWorkflowId(), firstRunID: a.GetWorkflowExecution().GetRunId(), started: at})
			}
		}
		if a := ev.GetChildWorkflowExecutionCompletedEventAttributes(); a != nil && a.GetWorkflowType().GetName() == cycleWorkflowType {
			run.ended = append(run.ended, a.GetResult())
		}
		if i, ok := started[childClosed(ev)]; ok {
			run.cycles[i].closedBy = at
		}
		if closed, next := closing(ev); closed {
			run.closed, run.next = at, next
		}
		entries, err := eventEntries(r.dc, workflowID, ref.id, ev)
		run.entries = append(run.entries, entries...)
		return err
	})
	if err != nil || !kept {
		return nil, err
	}
	for _, id := range slices.Sorted(maps.Keys(initiated)) {
		cy, err := r.startingCycle(ctx, initiated[id], run.id)
		if err != nil {
			return nil, err
		}
		if cy != nil {
			run.cycles = append(run.cycles, *cy)
		}
	}
	for i := range run.cycles {
		if run.cycles[i].closedBy.IsZero() {
			run.cycles[i].closedBy = run.closed
		}
	}
	return run, nil
}

// startingCycle finds a cycle whose start the job run asked for but had
// not recorded when its history was read (the server records it after
// the cycle exists, later still across a restart): the cycle workflow
// under that ID, if the run started it. Nil when it has not started.
func (r *reader) startingCycle(ctx context.Context, workflowID, jobRunID string) (*cycleChain, error) {
	info, err := r.describe(ctx, workflowID, "")
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe workflow %s: %w", workflowID, err)
	}
	if info.GetParentExecution().GetRunId() != jobRunID {
		return nil, nil
	}
	first := info.GetFirstRunId()
	if first == "" {
		first = info.GetExecution().GetRunId()
	}
	return &cycleChain{workflowID: workflowID, firstRunID: first, started: info.GetStartTime().AsTime()}, nil
}

// readChain calls fn with the entries of a cycle's runs, following
// continue-as-new; with since set, runs that closed before it are
// skipped unread.
func (r *reader) readChain(ctx context.Context, cy cycleChain, fn func(audit.Entry) error) error {
	for ref := (runRef{id: cy.firstRunID, closedBy: cy.closedBy}); ref.id != ""; {
		if !r.since.IsZero() {
			skip, next, err := r.closedBefore(ctx, cy.workflowID, ref, r.since)
			if err != nil {
				return err
			}
			if skip {
				ref.id = next
				continue
			}
		}
		var next string
		kept, err := r.history(ctx, cy.workflowID, ref, func(ev *historypb.HistoryEvent) error {
			if _, n := closing(ev); n != "" {
				next = n
			}
			entries, err := eventEntries(r.dc, cy.workflowID, ref.id, ev)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if err := fn(e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || !kept {
			// The rest of the chain closed by the same time: gone too.
			return err
		}
		ref.id = next
	}
	return nil
}

// closedBefore reports whether a run closed before t, and the run it
// continued as. A run the retention removed counts as closed before.
func (r *reader) closedBefore(ctx context.Context, workflowID string, ref runRef, t time.Time) (bool, string, error) {
	info, err := r.describe(ctx, workflowID, ref.id)
	if err != nil {
		gone, err := r.gone(ctx, workflowID, ref, err)
		return gone, "", err
	}
	if info.GetCloseTime() == nil || !info.GetCloseTime().AsTime().Before(t) {
		return false, "", nil
	}
	var next string
	_, err = r.historyFiltered(ctx, workflowID, ref, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT, func(ev *historypb.HistoryEvent) error {
		_, next = closing(ev)
		return nil
	})
	return true, next, err
}

// describe returns a run's execution info; runID "" is the latest run.
func (r *reader) describe(ctx context.Context, workflowID, runID string) (*workflowpb.WorkflowExecutionInfo, error) {
	d, err := r.c.DescribeWorkflow(ctx, workflowID, runID)
	if err != nil {
		return nil, err
	}
	return d.RawResponse.GetWorkflowExecutionInfo(), nil
}

// history calls fn with every event of a run. It returns false, and no
// error, for a run the namespace's retention has removed.
func (r *reader) history(ctx context.Context, workflowID string, ref runRef, fn func(*historypb.HistoryEvent) error) (bool, error) {
	return r.historyFiltered(ctx, workflowID, ref, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT, fn)
}

func (r *reader) historyFiltered(ctx context.Context, workflowID string, ref runRef, filter enumspb.HistoryEventFilterType, fn func(*historypb.HistoryEvent) error) (bool, error) {
	it := r.c.GetWorkflowHistory(ctx, workflowID, ref.id, false, filter)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			gone, err := r.gone(ctx, workflowID, ref, err)
			return !gone, err
		}
		if err := fn(ev); err != nil {
			return true, err
		}
	}
	return true, nil
}

// gone tells a run the namespace's retention removed, which is the
// trail's end, from one that cannot be read, which is an error naming it:
// the run is not found, and it had closed longer ago than the retention.
func (r *reader) gone(ctx context.Context, workflowID string, ref runRef, err error) (bool, error) {
	failed := fmt.Errorf("read history of workflow %s run %s: %w", workflowID, ref.id, err)
	if !notFound(err) || ref.closedBy.IsZero() {
		return false, failed
	}
	if r.retention == 0 {
		ns, nerr := r.c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: r.namespace})
		if nerr != nil {
			return false, fmt.Errorf("%w (and reading namespace %s's retention: %v)", failed, r.namespace, nerr)
		}
		r.retention = ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	}
	if r.retention <= 0 || time.Since(ref.closedBy) <= r.retention {
		return false, fmt.Errorf("%w: it closed at %s, within the namespace's retention of %s", failed, ref.closedBy.UTC().Format(time.RFC3339), r.retention)
	}
	return true, nil
}

func notFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// closing reports whether an event closes its run, and the run it
// continued as (continue-as-new, or a retry), if any.
func closing(ev *historypb.HistoryEvent) (closed bool, next string) {
	switch ev.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		return true, ev.GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
		return true, ev.GetWorkflowExecutionFailedEventAttributes().GetNewExecutionRunId()
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
		return true, ev.GetWorkflowExecutionTimedOutEventAttributes().GetNewExecutionRunId()
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		return true, ev.GetWorkflowExecutionCompletedEventAttributes().GetNewExecutionRunId()
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
		return true, ""
	}
	return false, ""
}

// childClosed returns the initiated event ID of the child workflow an
// event reports closed, or 0.
func childClosed(ev *historypb.HistoryEvent) int64 {
	switch ev.GetEventType() {
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
		return ev.GetChildWorkflowExecutionCompletedEventAttributes().GetInitiatedEventId()
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
		return ev.GetChildWorkflowExecutionFailedEventAttributes().GetInitiatedEventId()
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
		return ev.GetChildWorkflowExecutionCanceledEventAttributes().GetInitiatedEventId()
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
		return ev.GetChildWorkflowExecutionTimedOutEventAttributes().GetInitiatedEventId()
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED:
		return ev.GetChildWorkflowExecutionTerminatedEventAttributes().GetInitiatedEventId()
	}
	return 0
}

// eventEntries returns the log entries an event carries: those of a
// completed activity's result.
func eventEntries(dc converter.DataConverter, workflowID, runID string, ev *historypb.HistoryEvent) ([]audit.Entry, error) {
	attr := ev.GetActivityTaskCompletedEventAttributes()
	if attr == nil {
		return nil, nil
	}
	entries, err := resultEntries(dc, attr.GetResult().GetPayloads())
	if err != nil {
		return nil, fmt.Errorf("decode activity result in workflow %s run %s event %d: %w", workflowID, runID, ev.GetEventId(), err)
	}
	return entries, nil
}

// resultEntries returns the log entries an activity result carries: every
// step that changes a target (object batches, membership and reference
// pages) returns a JSON object whose "entries" field holds them. Other
// results carry none. A result dc cannot decode, such as an encrypted one
// read without the codec keys, is an error: its entries would be missed.
func resultEntries(dc converter.DataConverter, payloads []*commonpb.Payload) ([]audit.Entry, error) {
	if len(payloads) == 0 {
		return nil, nil
	}
	var raw json.RawMessage
	if err := dc.FromPayload(payloads[0], &raw); err != nil {
		if errors.Is(err, converter.ErrEncodingIsNotSupported) && string(payloads[0].GetMetadata()[converter.MetadataEncoding]) == codec.Encoding {
			return nil, fmt.Errorf("%w: the history is encrypted: give the codec keys (codec-keys-file or codec-keys-env) to read it", err)
		}
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, nil // not a JSON object
	}
	raw, ok := fields["entries"]
	if !ok {
		return nil, nil
	}
	var entries []audit.Entry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, err
	}
	return entries, nil
}

// ReadCycleRuns returns the cycles a job's history records as returned,
// one per cycle ID, in the order they started. It reads the job's runs
// only, not its cycles'.
func ReadCycleRuns(ctx context.Context, c client.Client, namespace, job string) ([]audit.CycleRun, error) {
	r := &reader{c: c, dc: converterOf(c), namespace: namespace}
	runs, err := r.jobRuns(ctx, jobWorkflowID(job))
	if err != nil {
		return nil, err
	}
	var results []audit.CycleResult
	for _, run := range runs {
		for _, p := range run.ended {
			if len(p.GetPayloads()) == 0 {
				continue
			}
			var res audit.CycleResult
			if err := r.dc.FromPayload(p.GetPayloads()[0], &res); err != nil {
				return nil, fmt.Errorf("decode a cycle's result in workflow %s run %s: %w", jobWorkflowID(job), run.id, err)
			}
			results = append(results, res)
		}
	}
	return audit.CycleRuns(results), nil
}
