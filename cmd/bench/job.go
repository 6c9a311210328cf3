package main

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/examples/hrexport"
	"github.com/openprovisioning/provisioner/secrets"
)

const (
	jobName  = "bench"
	tokenEnv = "PROVISIONING_SECRET_BENCH_SAMPLEAPP"
	// faultsJobName is the job of the run through the fault proxy, a job
	// of its own so that the first job's measurements stay its own.
	faultsJobName = "bench-faults"
	// faultsMaxRetries lets a call meet a fault several times over: at a
	// 15% fault rate, one in 20 million calls still fails.
	faultsMaxRetries = 8
)

// benchJob is the demo job's mapping (examples/hr-to-sampleapp.yaml) over
// the generated export. The interval is long so that only sync-now starts
// the incremental cycle. maxRetries of 0 keeps the connector's default.
func benchJob(name, hrPath, scimURL string, maxRetries int, o options) config.Job {
	return config.Job{
		Name:     name,
		Interval: config.Duration(24 * time.Hour),
		Source: config.Source{Connector: &file.Config{
			Path: hrPath, IDColumn: "employeeId", DisabledColumn: "status", DisabledValues: []string{"Inactive"},
		}},
		Target: config.Target{Application: "sampleapp", Connector: &scim.Config{
			BaseURL: scimURL, Token: secrets.Ref{Env: tokenEnv}, MaxConcurrency: o.concurrency, MaxRetries: maxRetries,
		}},
		Objects: []config.Object{{ObjectMapping: hrexport.UserMapping()}},
		// Each batch may use every target connection, so the job is held
		// back by the shared limit of o.concurrency, as the baseline is.
		Options: config.Options{BatchSize: o.batchSize, Batches: o.batches, Concurrency: o.concurrency},
	}
}

// startJob starts the job workflow as the starter command does, with the
// search attributes the history listing relies on.
func startJob(ctx context.Context, c client.Client, job config.Job) error {
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    api.JobWorkflowID(job.Name),
		TaskQueue:             api.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			api.AttrJob.ValueSet(job.Name),
			api.AttrApplication.ValueSet(job.Target.Application),
			api.AttrState.ValueSet(string(api.Running)),
		),
	}, api.JobWorkflow, api.JobStart{Config: job})
	if err != nil {
		return fmt.Errorf("start job: %w", err)
	}
	return nil
}

const pollEvery = 100 * time.Millisecond

// waitCycle polls the status query until cycle n has finished. A failed
// cycle, a quarantine or a dead worker ends the wait with an error.
func waitCycle(ctx context.Context, c client.Client, job string, n int, timeout time.Duration, w *workerProc) (api.Status, error) {
	var out api.Status
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		if err := w.exited(); err != nil {
			return out, err
		}
		st, err := queryStatus(ctx, c, job)
		if err == nil {
			lastErr = nil
			if st.LastCycle != nil && st.LastCycle.Number >= n && st.Current == nil {
				return st, nil
			}
			switch {
			case st.State == api.Quarantined:
				return out, fmt.Errorf("cycle %d: the job is quarantined: %s", n, st.LastError)
			case st.LastError != "" && st.Current == nil && st.CycleNumber >= n:
				return out, fmt.Errorf("cycle %d failed: %s", n, st.LastError)
			}
		} else {
			lastErr = err
		}
		if time.Now().After(deadline) {
			return out, fmt.Errorf("cycle %d did not finish in %s (last query error: %v)", n, timeout, lastErr)
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

func queryStatus(ctx context.Context, c client.Client, job string) (api.Status, error) {
	var st api.Status
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := c.QueryWorkflow(qctx, api.JobWorkflowID(job), "", api.QueryStatus)
	if err != nil {
		return st, err
	}
	return st, v.Get(&st)
}
