package audit

import (
	"context"
	"encoding/json"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// batchActivity is the activity whose results hold the log entries.
const batchActivity = "ProvisionBatch"

// ReadHistory calls fn with every provisioning log entry of a job, read from
// the histories of its cycle workflows (every run, across continue-as-new).
// It finds the cycles through the ProvisioningJob search attribute.
func ReadHistory(ctx context.Context, c client.Client, namespace, job string, fn func(Entry) error) error {
	query := fmt.Sprintf("ProvisioningJob = %q AND WorkflowType = %q", job, "ProvisioningCycle")
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: query, NextPageToken: token})
		if err != nil {
			return fmt.Errorf("list cycles of job %s: %w", job, err)
		}
		for _, ex := range resp.GetExecutions() {
			if err := readRun(ctx, c, ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId(), fn); err != nil {
				return err
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return nil
		}
	}
}

func readRun(ctx context.Context, c client.Client, workflowID, runID string, fn func(Entry) error) error {
	dc := converter.GetDefaultDataConverter()
	scheduled := map[int64]string{}
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return fmt.Errorf("read history of %s: %w", workflowID, err)
		}
		if attr := ev.GetActivityTaskScheduledEventAttributes(); attr != nil {
			scheduled[ev.GetEventId()] = attr.GetActivityType().GetName()
			continue
		}
		attr := ev.GetActivityTaskCompletedEventAttributes()
		if attr == nil || scheduled[attr.GetScheduledEventId()] != batchActivity {
			continue
		}
		var res struct {
			Entries []Entry `json:"entries"`
		}
		payloads := attr.GetResult().GetPayloads()
		if len(payloads) == 0 {
			continue
		}
		if err := dc.FromPayload(payloads[0], &res); err != nil {
			raw, _ := json.Marshal(payloads[0])
			return fmt.Errorf("decode batch result in %s event %d: %w (%s)", workflowID, ev.GetEventId(), err, raw)
		}
		for _, e := range res.Entries {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}
