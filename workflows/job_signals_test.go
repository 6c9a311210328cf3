package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/workflows"
)

// signalEnv runs testJob in the in-memory test environment: cycles that
// find nothing to change, a validation and one fetch that can be slowed
// down, and a record of the fetches and resets.
type signalEnv struct {
	*testsuite.TestWorkflowEnvironment
	t       *testing.T
	mu      sync.Mutex
	fetches []activities.FetchInput
	resets  []activities.ResetInput
}

// slowness says which activities of a signalEnv take long: validation,
// and the fetch of cycle SlowCycle (counting from 1).
type slowness struct {
	Validation time.Duration
	SlowCycle  int
	Fetch      time.Duration
}

func newSignalEnv(t *testing.T, slow slowness) *signalEnv {
	e := &signalEnv{TestWorkflowEnvironment: (&testsuite.WorkflowTestSuite{}).NewTestWorkflowEnvironment(), t: t}
	e.RegisterWorkflow(workflows.ProvisioningCycle)
	// The mapping version counts the mappings, so adding one changes it.
	e.OnActivity(acts.ValidateJob, mock.Anything, mock.Anything).After(slow.Validation).Return(func(_ context.Context, cfg config.Job) (activities.ValidatedJob, error) {
		return activities.ValidatedJob{MappingVersion: string(rune('0' + len(cfg.Objects[0].Attributes)))}, nil
	})
	fetch := func(_ context.Context, in activities.FetchInput) (activities.FetchResult, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.fetches = append(e.fetches, in)
		return activities.FetchResult{}, nil
	}
	if slow.SlowCycle > 1 {
		e.OnActivity(acts.FetchChanges, mock.Anything, mock.Anything).Times(slow.SlowCycle - 1).Return(fetch)
	}
	if slow.SlowCycle > 0 {
		e.OnActivity(acts.FetchChanges, mock.Anything, mock.Anything).Once().After(slow.Fetch).Return(fetch)
	}
	e.OnActivity(acts.FetchChanges, mock.Anything, mock.Anything).Return(fetch)
	e.OnActivity(acts.FinishCycle, mock.Anything, mock.Anything).Return(nil)
	e.OnActivity(acts.ExportLog, mock.Anything, mock.Anything).Return(activities.ExportResult{}, nil)
	e.OnActivity(acts.ResetJob, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ResetInput) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.resets = append(e.resets, in)
		return nil
	})
	return e
}

func (e *signalEnv) at(d time.Duration, fn func()) { e.RegisterDelayedCallback(fn, d) }

func (e *signalEnv) status() api.Status {
	e.t.Helper()
	v, err := e.QueryWorkflow(api.QueryStatus)
	require.NoError(e.t, err)
	var st api.Status
	require.NoError(e.t, v.Get(&st))
	return st
}

// update sends an update and records how it ended in *done (nil until
// then), and its result in *result.
func (e *signalEnv) update(name, id string, arg any, done *error, result any) {
	e.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { *done = err },
		OnComplete: func(v any, err error) {
			*done = err
			if st, ok := result.(*api.Status); ok && err == nil {
				*st = v.(api.Status)
			}
		},
	}, arg)
}

// continuedState runs the job to its end and returns the state it
// continued as new with.
func (e *signalEnv) continuedState() workflows.JobState {
	e.t.Helper()
	e.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: testJob()})
	var can *workflow.ContinueAsNewError
	require.True(e.t, errors.As(e.GetWorkflowError(), &can), "got %v", e.GetWorkflowError())
	var in workflows.JobInput
	require.NoError(e.t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
	require.NotNil(e.t, in.State)
	return *in.State
}

func remappedJob() config.Job {
	job := testJob()
	job.Objects[0].Attributes = append(job.Objects[0].Attributes, mapping.AttributeMapping{Target: "title", Type: mapping.Constant, Value: "Staff"})
	return job
}

// New mappings sent while a long cycle runs, initial or incremental, are
// followed by an initial cycle with them at once: the cycle's end does not
// schedule an incremental one over it.
func TestUpdateDuringCycleKeepsInitialCycle(t *testing.T) {
	for _, slow := range []int{1, 2} {
		t.Run(map[int]string{1: "initial", 2: "incremental"}[slow], func(t *testing.T) {
			// Cycle 1 starts at once, cycle 2 after the 10-minute interval;
			// the slow one takes 30 minutes.
			start := time.Duration(slow-1) * 10 * time.Minute
			e := newSignalEnv(t, slowness{SlowCycle: slow, Fetch: 30 * time.Minute})
			var updated error = errors.New("the update did not complete")
			var during api.Status
			e.at(start+10*time.Minute, func() {
				e.update(api.UpdateConfiguration, "remap", remappedJob(), &updated, &during)
			})
			var after api.Status
			// The interval after the slow cycle has not passed yet.
			e.at(start+35*time.Minute, func() { after = e.status(); e.CancelWorkflow() })
			e.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: testJob()})

			require.NoError(t, updated)
			require.NotNil(t, during.Current, "the update completed while the cycle ran")
			require.Equal(t, api.Initial, during.NextKind)
			require.Len(t, e.fetches, slow+1, "the next cycle ran at once")
			next := e.fetches[slow]
			require.True(t, next.Initial, "the cycle after the update is initial")
			require.Len(t, next.Job.Objects[0].Attributes, 2, "with the new mappings")
			require.Equal(t, api.Initial, after.LastCycle.Kind)
			require.Equal(t, api.Incremental, after.NextKind)
		})
	}
}

// A cycle stopped while new mappings arrived is not resumed with the old
// ones: start runs an initial cycle with the new mappings.
func TestUpdateDuringStoppedCycleStartsAfresh(t *testing.T) {
	e := newSignalEnv(t, slowness{SlowCycle: 1, Fetch: 30 * time.Minute})
	var updated error
	e.at(5*time.Minute, func() { e.SignalWorkflow(api.SignalStop, nil) })
	e.at(10*time.Minute, func() { e.update(api.UpdateConfiguration, "remap", remappedJob(), &updated, nil) })
	var stopped, started api.Status
	e.at(40*time.Minute, func() { stopped = e.status(); e.SignalWorkflow(api.SignalStart, nil) })
	e.at(41*time.Minute, func() { started = e.status(); e.CancelWorkflow() })
	e.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: testJob()})

	require.NoError(t, updated)
	require.Equal(t, api.Paused, stopped.State)
	require.Len(t, e.fetches, 2, "a new cycle, not the stopped one resumed")
	require.True(t, e.fetches[1].Initial)
	require.Len(t, e.fetches[1].Job.Objects[0].Attributes, 2)
	require.Equal(t, 2, started.CycleNumber)
}

// onDemandEnv is a signalEnv whose on-demand provisioning takes five
// minutes, sent one minute in; at two minutes the history is long enough
// to continue as new, and a sync-now wakes the job to notice.
func onDemandEnv(t *testing.T, done *error) *signalEnv {
	e := newSignalEnv(t, slowness{})
	e.OnActivity(acts.ProvisionOnDemand, mock.Anything, mock.Anything).After(5*time.Minute).Return(api.OnDemandResult{SourceID: "E1"}, nil)
	e.at(time.Minute, func() {
		e.update(api.UpdateProvisionOnDemand, "req", api.OnDemandRequest{Type: "User", ID: "E1"}, done, nil)
	})
	e.at(2*time.Minute, func() {
		e.SetContinueAsNewSuggested(true)
		e.SignalWorkflow(api.SignalSyncNow, nil)
	})
	return e
}

// A stop sent while the job waits for an on-demand update to finish before
// continuing as new stops the job: the next run starts paused.
func TestStopDuringUpdateBeforeContinueAsNew(t *testing.T) {
	var done error = errors.New("the update did not complete")
	e := onDemandEnv(t, &done)
	e.at(3*time.Minute, func() { e.SignalWorkflow(api.SignalStop, nil) })
	st := e.continuedState()
	require.NoError(t, done)
	require.Equal(t, api.Paused, st.State, "the stop reached the next run")
}

// A restart sent while the job waits for an update is applied before the
// run continues as new.
func TestRestartDuringUpdateBeforeContinueAsNew(t *testing.T) {
	var done error = errors.New("the update did not complete")
	e := onDemandEnv(t, &done)
	e.at(3*time.Minute, func() {
		e.SignalWorkflow(api.SignalRestart, api.RestartRequest{Scopes: []string{"Full"}})
	})
	st := e.continuedState()
	require.NoError(t, done)
	require.Len(t, e.resets, 1, "the restart was applied")
	require.True(t, e.resets[0].Scope.ConnectorDataStore)
	require.Equal(t, api.Initial, st.NextKind)
}

// While a new job validates its configuration, status answers that it
// does, a rollback is refused, and provisioning on demand waits for the
// validation.
func TestStatusWhileValidating(t *testing.T) {
	e := newSignalEnv(t, slowness{Validation: 5 * time.Minute})
	var ran []time.Time
	e.OnActivity(acts.ProvisionOnDemand, mock.Anything, mock.Anything).Return(func(context.Context, activities.OnDemandInput) (api.OnDemandResult, error) {
		ran = append(ran, e.Now())
		return api.OnDemandResult{Entries: []audit.Entry{{Action: audit.Create, Status: audit.Success}}}, nil
	})
	begin := e.Now()
	var validating, running api.Status
	var onDemand, rollback error = errors.New("the update did not complete"), nil
	e.at(time.Minute, func() {
		validating = e.status()
		e.update(api.UpdateProvisionOnDemand, "early", api.OnDemandRequest{Type: "User", ID: "E1"}, &onDemand, nil)
		e.update(api.UpdateRollback, "rollback", audit.RollbackPlan{Restores: []audit.Restore{{ObjectType: "User", SourceID: "E1"}}}, &rollback, nil)
	})
	e.at(10*time.Minute, func() { running = e.status(); e.CancelWorkflow() })
	e.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: testJob()})

	require.Equal(t, api.Validating, validating.State)
	require.Equal(t, "hr", validating.Job)
	require.Zero(t, validating.CycleNumber)
	require.True(t, validating.NextRun.IsZero())
	require.NoError(t, onDemand)
	require.Len(t, ran, 1)
	require.GreaterOrEqual(t, ran[0].Sub(begin), 5*time.Minute, "on demand waited for the validation")
	require.Error(t, rollback)
	require.Contains(t, rollback.Error(), "is Validating")
	require.Equal(t, api.Running, running.State)
	require.Equal(t, 1, running.CycleNumber)
}
