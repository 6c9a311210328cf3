package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
)

// runSize is the history of one workflow run.
type runSize struct {
	workflowID, runID, kind string
	closed                  enumspb.WorkflowExecutionStatus
	start                   time.Time
	events, bytes           int64
}

// historySizes lists every run of the job and its cycles through the
// ProvisioningJob search attribute and describes each. Visibility lags
// behind, so it waits until the last cycle's run is listed as closed.
func historySizes(ctx context.Context, c client.Client, lastCycle int) ([]runSize, error) {
	want := fmt.Sprintf("%s/cycle-%d", api.JobWorkflowID(jobName), lastCycle)
	query := fmt.Sprintf("%s = %q", api.AttrJob.GetName(), jobName)
	deadline := time.Now().Add(30 * time.Second)
	for {
		runs, err := listRuns(ctx, c, query)
		if err != nil {
			return nil, err
		}
		done := slices.ContainsFunc(runs, func(r runSize) bool {
			return r.workflowID == want && r.closed == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
		})
		if done || time.Now().After(deadline) {
			for i := range runs {
				d, err := c.DescribeWorkflow(ctx, runs[i].workflowID, runs[i].runID)
				if err != nil {
					return nil, fmt.Errorf("describe %s: %w", runs[i].workflowID, err)
				}
				info := d.RawResponse.GetWorkflowExecutionInfo()
				runs[i].events, runs[i].bytes = info.GetHistoryLength(), info.GetHistorySizeBytes()
			}
			slices.SortFunc(runs, func(a, b runSize) int { return a.start.Compare(b.start) })
			return runs, nil
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func listRuns(ctx context.Context, c client.Client, query string) ([]runSize, error) {
	var (
		out   []runSize
		token []byte
	)
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		for _, ex := range resp.GetExecutions() {
			out = append(out, runSize{
				workflowID: ex.GetExecution().GetWorkflowId(),
				runID:      ex.GetExecution().GetRunId(),
				kind:       ex.GetType().GetName(),
				closed:     ex.GetStatus(),
				start:      ex.GetStartTime().AsTime(),
			})
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}
