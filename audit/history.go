package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// ReadHistory calls fn with every provisioning log entry of a job, read from
// the histories of its cycle workflows and, for objects provisioned on
// demand, of the job workflow (every run, across continue-as-new). It finds
// them through the ProvisioningJob search attribute.
func ReadHistory(ctx context.Context, c client.Client, namespace, job string, fn func(Entry) error) error {
	return ReadHistorySince(ctx, c, namespace, job, time.Time{}, fn)
}

// ReadHistorySince is ReadHistory for the runs still open at since (all of
// them when since is zero): runs that closed earlier hold no entry from
// since on, so their histories are not read at all. Entries come in the
// order they were made: cycle runs are read oldest first, and the job
// runs' few entries (on demand, rollback) are read first and merged in.
func ReadHistorySince(ctx context.Context, c client.Client, namespace, job string, since time.Time, fn func(Entry) error) error {
	query := fmt.Sprintf("ProvisioningJob = %q AND WorkflowType IN (%q, %q)", job, "ProvisioningCycle", "ProvisioningJob")
	if !since.IsZero() {
		query += fmt.Sprintf(" AND (ExecutionStatus = %q OR CloseTime >= %q)", "Running", since.UTC().Format(time.RFC3339Nano))
	}
	var runs []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: query, NextPageToken: token})
		if err != nil {
			return fmt.Errorf("list cycles of job %s: %w", job, err)
		}
		runs = append(runs, resp.GetExecutions()...)
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].GetStartTime().AsTime().Before(runs[j].GetStartTime().AsTime()) })
	var jobEntries []Entry
	for _, r := range runs {
		if r.GetType().GetName() != "ProvisioningJob" {
			continue
		}
		_, err := readRun(ctx, c, r.GetExecution().GetWorkflowId(), r.GetExecution().GetRunId(), func(e Entry) error {
			jobEntries = append(jobEntries, e)
			return nil
		})
		if err != nil {
			return err
		}
	}
	sort.SliceStable(jobEntries, func(i, j int) bool { return jobEntries[i].Time.Before(jobEntries[j].Time) })
	merged := func(e Entry) error {
		for len(jobEntries) > 0 && !jobEntries[0].Time.After(e.Time) {
			if err := fn(jobEntries[0]); err != nil {
				return err
			}
			jobEntries = jobEntries[1:]
		}
		return fn(e)
	}
	for _, r := range runs {
		if r.GetType().GetName() == "ProvisioningJob" {
			continue
		}
		if _, err := readRun(ctx, c, r.GetExecution().GetWorkflowId(), r.GetExecution().GetRunId(), merged); err != nil {
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
// ReadHistory it needs no search attribute, so it also reads cycles run
// outside a job, such as a preview.
func ReadRun(ctx context.Context, c client.Client, workflowID, firstRunID string, fn func(Entry) error) error {
	for runID := firstRunID; runID != ""; {
		next, err := readRun(ctx, c, workflowID, runID, fn)
		if err != nil {
			return err
		}
		runID = next
	}
	return nil
}

// readRun reads the entries of one run and returns the ID of the run it
// continued as, if any.
func readRun(ctx context.Context, c client.Client, workflowID, runID string, fn func(Entry) error) (next string, err error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("read history of %s: %w", workflowID, err)
		}
		if attr := ev.GetWorkflowExecutionContinuedAsNewEventAttributes(); attr != nil {
			next = attr.GetNewExecutionRunId()
			continue
		}
		attr := ev.GetActivityTaskCompletedEventAttributes()
		if attr == nil {
			continue
		}
		entries, err := resultEntries(attr.GetResult().GetPayloads())
		if err != nil {
			return "", fmt.Errorf("decode activity result in %s event %d: %w", workflowID, ev.GetEventId(), err)
		}
		for _, e := range entries {
			if err := fn(e); err != nil {
				return "", err
			}
		}
	}
	return next, nil
}

// resultEntries returns the log entries an activity result carries: every
// step that changes a target (object batches, membership and reference
// pages) returns a JSON object whose "entries" field holds them. Other
// results carry none.
func resultEntries(payloads []*commonpb.Payload) ([]Entry, error) {
	if len(payloads) == 0 {
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if err := converter.GetDefaultDataConverter().FromPayload(payloads[0], &fields); err != nil {
		return nil, nil // not a JSON object
	}
	raw, ok := fields["entries"]
	if !ok {
		return nil, nil
	}
	var entries []Entry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, err
	}
	return entries, nil
}
