package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/workflows"
)

// A cycle of 500 batches of 10 seconds each, 2,500 of the old progress
// periods, sends its job nothing while it runs: the progress query answers
// how far it is instead.
func TestLongCycleSignalsNothingAndAnswersProgress(t *testing.T) {
	const staged = 500
	env := (&testsuite.WorkflowTestSuite{}).NewTestWorkflowEnvironment()
	var mu sync.Mutex
	signals := 0
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(func(_, _, _, _ string, _ any) error {
		mu.Lock()
		defer mu.Unlock()
		signals++
		return nil
	})
	env.OnActivity(acts.FetchChanges, mock.Anything, mock.Anything).Return(activities.FetchResult{Staged: staged, Read: staged}, nil)
	env.OnActivity(acts.ProvisionBatch, mock.Anything, mock.Anything).After(10 * time.Second).Return(func(_ context.Context, in activities.BatchInput) (activities.BatchResult, error) {
		var res activities.BatchResult
		for range in.To - in.From + 1 {
			res.Entries = append(res.Entries, audit.Entry{Action: audit.Create, Status: audit.Success})
		}
		return res, nil
	})
	env.OnActivity(acts.FinishCycle, mock.Anything, mock.Anything).Return(nil)

	var mid api.CycleProgress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(api.QueryProgress)
		require.NoError(t, err)
		require.NoError(t, v.Get(&mid))
	}, 1000*time.Second)
	in := cycleInput()
	in.Job.Options.BatchSize, in.Job.Options.Batches = 1, 1
	env.ExecuteWorkflow(workflows.ProvisioningCycle, in)
	require.NoError(t, env.GetWorkflowError())

	require.Zero(t, signals, "the cycle signalled its job")
	require.Equal(t, "Provisioning", mid.Phase)
	require.Equal(t, staged, mid.Total)
	require.InDelta(t, 100, mid.Processed, 2, "a batch every 10 seconds")
	require.Equal(t, mid.Processed, mid.Counts.Of(audit.Create, audit.Success))
	var res workflows.CycleResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, staged, res.Summary.Counts.Of(audit.Create, audit.Success))
}

// While a cycle runs, the job's status names the cycle's workflow, which
// answers the progress query.
func TestStatusNamesTheRunningCycle(t *testing.T) {
	env := (&testsuite.WorkflowTestSuite{}).NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.ProvisioningCycle)
	env.OnActivity(acts.ValidateJob, mock.Anything, mock.Anything).Return(activities.ValidatedJob{MappingVersion: "v1"}, nil)
	env.OnActivity(acts.FetchChanges, mock.Anything, mock.Anything).Return(activities.FetchResult{Staged: 100, Read: 100}, nil)
	env.OnActivity(acts.ProvisionBatch, mock.Anything, mock.Anything).After(time.Minute).Return(func(_ context.Context, in activities.BatchInput) (activities.BatchResult, error) {
		return activities.BatchResult{Entries: make([]audit.Entry, in.To-in.From+1)}, nil
	})
	env.OnActivity(acts.FinishCycle, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(acts.ExportLog, mock.Anything, mock.Anything).Return(activities.ExportResult{}, nil)
	var during api.Status
	var progress api.CycleProgress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(api.QueryStatus)
		require.NoError(t, err)
		require.NoError(t, v.Get(&during))
		require.NotNil(t, during.Current, "a cycle runs")
		v, err = env.QueryWorkflowByID(during.Current.Workflow, api.QueryProgress)
		require.NoError(t, err)
		require.NoError(t, v.Get(&progress))
	}, 150*time.Second)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Hour)
	env.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: testJob()})

	require.Equal(t, api.PhaseRunning, during.Current.Phase)
	require.Regexp(t, "/cycle-1$", during.Current.Workflow)
	require.Equal(t, 1, progress.Number)
	require.Equal(t, "Provisioning", progress.Phase)
	require.Equal(t, 100, progress.Total)
	require.Equal(t, 40, progress.Processed, "two batches of ten at a time, a minute each")
}
