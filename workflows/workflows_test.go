package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/workflows"
)

var acts *activities.Activities

type jobSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment

	fetches  []activities.FetchInput
	indexes  []activities.IndexInput
	batches  []activities.BatchInput
	resets   []activities.ResetInput
	finishes []activities.FinishInput
	exports  []activities.ExportInput
	staged   int
	// unlinked is how many staged items each fetch reports unlinked.
	unlinked int
	// indexedAfter is how many batches had run when each index was built.
	indexedAfter []int
	// deleted is how many staged items the fetch reports as deletions,
	// of 100 linked objects.
	deleted int
	held    []activities.HeldInput
	// refuse makes the target reject every call's credentials.
	refuse bool
	// mappingVersion is what the validation activity reports.
	mappingVersion func(config.Job) string
	// mu guards the recordings: the test environment runs activities concurrently.
	mu sync.Mutex
}

func TestJobSuite(t *testing.T) { suite.Run(t, new(jobSuite)) }

func testJob() config.Job {
	return config.Job{
		Name:     "hr",
		Interval: config.Duration(10 * time.Minute),
		Target:   config.Target{Application: "app"},
		Objects: []config.Object{{ObjectMapping: mapping.ObjectMapping{SourceObject: "User", TargetObject: "User",
			Attributes: []mapping.AttributeMapping{{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1}}}}},
		Options: config.Options{BatchSize: 10, Batches: 2},
	}
}

func (s *jobSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterWorkflow(workflows.ProvisioningCycle)
	s.fetches, s.batches, s.resets, s.finishes, s.refuse, s.deleted, s.held = nil, nil, nil, nil, false, 0, nil
	s.exports = nil
	s.indexes, s.indexedAfter, s.unlinked = nil, nil, 0
	s.staged = 25
	s.mappingVersion = func(config.Job) string { return "v1" }
	s.env.OnActivity(acts.ValidateJob, mock.Anything, mock.Anything).Return(func(_ context.Context, cfg config.Job) (activities.ValidatedJob, error) {
		return activities.ValidatedJob{MappingVersion: s.mappingVersion(cfg)}, nil
	})
	s.env.OnActivity(acts.FetchChanges, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FetchInput) (activities.FetchResult, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fetches = append(s.fetches, in)
		res := activities.FetchResult{Staged: s.staged, Read: s.staged - s.deleted, Deleted: s.deleted, Unlinked: s.unlinked, Removals: s.deleted}
		res.Hold = in.Job.Options.DeletionThreshold.Hold([]config.Removals{{Type: "User", Removals: s.deleted, Linked: 100}})
		return res, nil
	})
	s.env.OnActivity(acts.ListHeldRemovals, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.HeldInput) (activities.HeldResult, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.held = append(s.held, in)
		return activities.HeldResult{Next: in.To + 1}, nil
	})
	s.env.OnActivity(acts.IndexTarget, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.IndexInput) (activities.IndexResult, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.indexes = append(s.indexes, in)
		s.indexedAfter = append(s.indexedAfter, len(s.batches))
		return activities.IndexResult{}, nil
	})
	s.env.OnActivity(acts.ProvisionBatch, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BatchInput) (activities.BatchResult, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.batches = append(s.batches, in)
		var res activities.BatchResult
		for i := in.From; i <= in.To; i++ {
			e := audit.Entry{SourceID: fmt.Sprint(i), Action: audit.Create, Status: audit.Success}
			if s.refuse {
				e.Status, e.ErrorCode, e.Reason = audit.Failure, "Unauthorized", "401"
			}
			res.Entries = append(res.Entries, e)
		}
		return res, nil
	})
	s.env.OnActivity(acts.FinishCycle, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FinishInput) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.finishes = append(s.finishes, in)
		return nil
	})
	s.env.OnActivity(acts.ResetJob, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ResetInput) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.resets = append(s.resets, in)
		return nil
	})
	s.env.OnActivity(acts.ExportLog, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ExportInput) (activities.ExportResult, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.exports = append(s.exports, in)
		return activities.ExportResult{}, nil
	})
}

func (s *jobSuite) status() api.Status {
	v, err := s.env.QueryWorkflow(api.QueryStatus)
	s.Require().NoError(err)
	var st api.Status
	s.Require().NoError(v.Get(&st))
	return st
}

func (s *jobSuite) at(d time.Duration, fn func()) { s.env.RegisterDelayedCallback(fn, d) }

func (s *jobSuite) run() {
	s.env.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: testJob()})
	s.Require().True(s.env.IsWorkflowCompleted())
}

// The job runs an initial cycle at once, then incremental cycles at its interval.
func (s *jobSuite) TestInitialThenIncrementalCycles() {
	var afterFirst, afterThird api.Status
	s.at(time.Minute, func() { afterFirst = s.status() })
	s.at(25*time.Minute, func() { afterThird = s.status(); s.env.CancelWorkflow() })
	s.run()

	s.Equal(api.Running, afterFirst.State)
	s.Equal(1, afterFirst.CycleNumber)
	s.Equal(api.Incremental, afterFirst.NextKind)
	s.Equal(25, afterFirst.LastCycle.Counts.Of(audit.Create, audit.Success))
	s.Equal(3, afterThird.CycleNumber)
	s.Equal(75, afterThird.Totals.Of(audit.Create, audit.Success))
	s.Require().Len(s.fetches, 3)
	s.True(s.fetches[0].Initial)
	s.False(s.fetches[1].Initial)
	// 25 staged items in batches of 10: three batches per cycle, covering every item once.
	s.Len(s.batches, 9)
	ranges := map[[2]int]int{}
	for _, b := range s.batches {
		ranges[[2]int{b.From, b.To}]++
	}
	s.Equal(map[[2]int]int{{1, 10}: 3, {11, 20}: 3, {21, 25}: 3}, ranges)
	s.Len(s.finishes, 3)
}

// An initial cycle with objects to match has the target indexed before
// its batches; a later cycle with few such objects queries the target.
func (s *jobSuite) TestInitialCycleIndexesTarget() {
	s.unlinked = 25
	s.at(25*time.Minute, func() { s.env.CancelWorkflow() })
	s.run()
	s.Require().Len(s.fetches, 3)
	s.Require().Len(s.indexes, 1)
	s.Equal(s.fetches[0].Cycle, s.indexes[0].Cycle)
	s.Equal([]int{0}, s.indexedAfter, "before the batches")
}

// Any cycle with many objects to match has the target indexed.
func (s *jobSuite) TestManyUnlinkedIndexTarget() {
	s.unlinked = 1000
	s.at(25*time.Minute, func() { s.env.CancelWorkflow() })
	s.run()
	s.Len(s.indexes, 3)
	s.Equal([]int{0, 3, 6}, s.indexedAfter)
}

// Stop pauses the job; start resumes it; sync-now runs a cycle before the interval.
func (s *jobSuite) TestStopStartSyncNow() {
	var paused, resumed api.Status
	s.at(time.Minute, func() { s.env.SignalWorkflow(api.SignalStop, nil) })
	s.at(30*time.Minute, func() { paused = s.status(); s.env.SignalWorkflow(api.SignalStart, nil) })
	s.at(31*time.Minute, func() { resumed = s.status(); s.env.SignalWorkflow(api.SignalSyncNow, nil) })
	s.at(32*time.Minute, func() { s.env.CancelWorkflow() })
	s.run()

	s.Equal(api.Paused, paused.State)
	s.Equal(1, paused.CycleNumber, "no cycle runs while paused")
	s.Equal(api.Running, resumed.State)
	s.Require().Len(s.fetches, 3, "start runs the overdue cycle, sync-now one more")
}

// Restart with Full clears the connector data store and runs an initial cycle.
func (s *jobSuite) TestRestartFull() {
	s.at(time.Minute, func() {
		s.env.SignalWorkflow(api.SignalRestart, api.RestartRequest{Scopes: []string{"Full"}})
	})
	s.at(2*time.Minute, func() { s.env.CancelWorkflow() })
	s.run()

	s.Require().Len(s.resets, 1)
	s.Equal(store.ResetScope{Watermark: true, Escrows: true, ConnectorDataStore: true}, s.resets[0].Scope)
	s.Require().Len(s.fetches, 2)
	s.True(s.fetches[1].Initial, "a restart runs an initial cycle")
}

// Quarantine backs cycles off to once a day; release runs one at once.
func (s *jobSuite) TestQuarantineAndRelease() {
	var q api.Status
	s.at(time.Minute, func() { s.env.SignalWorkflow(api.SignalQuarantine, nil) })
	s.at(2*time.Hour, func() { q = s.status(); s.env.SignalWorkflow(api.SignalRelease, nil) })
	s.at(2*time.Hour+time.Minute, func() { s.env.CancelWorkflow() })
	s.run()

	s.Equal(api.Quarantined, q.State)
	s.Require().NotNil(q.Quarantine)
	s.Equal("QuarantinedOnDemand", q.Quarantine.Reason)
	s.Equal(1, q.CycleNumber, "no cycle in quarantine before the daily attempt")
	s.Len(s.fetches, 2)
}

// Rejected credentials quarantine the job.
func (s *jobSuite) TestCredentialsRejectedQuarantines() {
	s.refuse = true
	var st api.Status
	s.at(time.Minute, func() { st = s.status(); s.env.CancelWorkflow() })
	s.run()
	s.Equal(api.Quarantined, st.State)
	s.Contains(st.Quarantine.Reason, "EncounteredQuarantineException")
	s.Empty(s.finishes, "the watermark is not saved")
}

// Between cycles, a job whose history is long continues as new with its state.
func (s *jobSuite) TestContinueAsNewCarriesState() {
	s.env.SetContinueAsNewSuggested(true)
	s.run()
	err := s.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(err, &can), "got %v", err)
	var in workflows.JobInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
	s.Require().NotNil(in.State)
	s.Equal(api.Running, in.State.State)
}

// Signals received just before continue-as-new are not lost.
func (s *jobSuite) TestSignalsDrainedBeforeContinueAsNew() {
	s.env.SetContinueAsNewSuggested(true)
	s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(api.SignalStop, nil) }, 0)
	s.run()
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &can))
	var in workflows.JobInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
	s.Equal(api.Paused, in.State.State)
}

// Provision on demand runs beside the job's cycles and returns the
// activity's steps; a request the job cannot serve is refused before it
// reaches history.
func (s *jobSuite) TestProvisionOnDemand() {
	var got []activities.OnDemandInput
	s.env.OnActivity(acts.ProvisionOnDemand, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.OnDemandInput) (api.OnDemandResult, error) {
		got = append(got, in)
		return api.OnDemandResult{Type: in.Type, SourceID: in.SourceID, Entries: []audit.Entry{{Action: audit.Create, Status: audit.Success}}}, nil
	})
	var res api.OnDemandResult
	var completeErr, rejected error
	s.at(time.Minute, func() {
		s.env.UpdateWorkflow(api.UpdateProvisionOnDemand, "req-1", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { completeErr = err },
			OnComplete: func(v any, err error) {
				completeErr = err
				if err == nil {
					res = v.(api.OnDemandResult)
				}
			},
		}, api.OnDemandRequest{Type: "User", ID: "E1"})
		s.env.UpdateWorkflow(api.UpdateProvisionOnDemand, "req-2", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { rejected = err },
			OnComplete: func(any, error) {},
		}, api.OnDemandRequest{Type: "Group", ID: "G1"})
	})
	s.at(2*time.Minute, func() { s.env.CancelWorkflow() })
	s.run()
	s.Require().NoError(completeErr)
	s.Equal(audit.Create, res.Object().Action)
	s.Require().Len(got, 1, "the refused request ran nothing")
	s.Equal("req-1", got[0].RequestID)
	s.Equal("hr", got[0].Job.Name)
	s.Require().Error(rejected)
	s.Contains(rejected.Error(), "does not provision Group objects")
}

// A rollback is refused while the job runs, and done once it is stopped.
func (s *jobSuite) TestRollbackNeedsAStoppedJob() {
	var ran []activities.RollbackInput
	s.env.OnActivity(acts.RollBack, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RollbackInput) (api.RollbackResult, error) {
		ran = append(ran, in)
		return api.RollbackResult{Entries: []audit.Entry{{Action: audit.Update, Status: audit.Success}}}, nil
	})
	plan := audit.RollbackPlan{Restores: []audit.Restore{{ObjectType: "User", SourceID: "E1", TargetID: "t1", Action: audit.Update}}}
	var refused, completed error
	var res api.RollbackResult
	send := func(id string, onReject func(error)) {
		s.env.UpdateWorkflow(api.UpdateRollback, id, &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: onReject,
			OnComplete: func(v any, err error) {
				completed = err
				if err == nil {
					res = v.(api.RollbackResult)
				}
			},
		}, plan)
	}
	s.at(time.Minute, func() { send("while-running", func(err error) { refused = err }) })
	s.at(2*time.Minute, func() { s.env.SignalWorkflow(api.SignalStop, nil) })
	s.at(3*time.Minute, func() { send("while-stopped", func(err error) { completed = err }) })
	s.at(4*time.Minute, func() { s.env.CancelWorkflow() })
	s.run()
	s.Require().Error(refused)
	s.Contains(refused.Error(), "stop it first")
	s.Require().NoError(completed)
	s.Require().Len(ran, 1)
	s.Equal("while-stopped", ran[0].RequestID)
	s.Len(res.Entries, 1)
}

// Connections are read whatever the job's state; deleting one is refused
// until the job is stopped.
func (s *jobSuite) TestConnections() {
	var ran []activities.ConnectionsInput
	s.env.OnActivity(acts.ObjectConnections, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ConnectionsInput) (api.ConnectionsResult, error) {
		ran = append(ran, in)
		return api.ConnectionsResult{Deleted: in.Delete}, nil
	})
	errs := map[string]error{}
	send := func(id string, r api.ConnectionsRequest) {
		s.env.UpdateWorkflow(api.UpdateConnections, id, &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { errs[id] = err },
			OnComplete: func(_ any, err error) { errs[id] = err },
		}, r)
	}
	s.at(time.Minute, func() {
		send("read", api.ConnectionsRequest{Type: "User", ID: "E1"})
		send("delete-running", api.ConnectionsRequest{Type: "User", ID: "E1", Delete: true})
	})
	s.at(2*time.Minute, func() { s.env.SignalWorkflow(api.SignalStop, nil) })
	s.at(3*time.Minute, func() { send("delete-stopped", api.ConnectionsRequest{Type: "User", ID: "E1", Delete: true}) })
	s.at(4*time.Minute, func() { s.env.CancelWorkflow() })
	s.run()
	s.Require().Len(errs, 3)
	s.NoError(errs["read"])
	s.Require().Error(errs["delete-running"])
	s.Contains(errs["delete-running"].Error(), "stop it before deleting")
	s.NoError(errs["delete-stopped"])
	s.Require().Len(ran, 2)
	s.False(ran[0].Delete)
	s.True(ran[1].Delete)
	s.Equal("hr", ran[1].Job)
}

// An on-demand request in flight when the job continues as new finishes
// first, rather than being dropped with the run.
func (s *jobSuite) TestUpdatesFinishBeforeContinueAsNew() {
	s.env.OnActivity(acts.ProvisionOnDemand, mock.Anything, mock.Anything).After(5*time.Minute).Return(api.OnDemandResult{SourceID: "E1"}, nil)
	done := false
	s.at(time.Minute, func() {
		s.env.UpdateWorkflow(api.UpdateProvisionOnDemand, "req", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(error) {},
			OnComplete: func(_ any, err error) { done = err == nil },
		}, api.OnDemandRequest{Type: "User", ID: "E1"})
	})
	s.at(2*time.Minute, func() {
		s.env.SetContinueAsNewSuggested(true)
		s.env.SignalWorkflow(api.SignalSyncNow, nil)
	})
	s.run()
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &can))
	s.True(done, "the update completed before the run continued as new")
}

type cycleSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
}

func TestCycleSuite(t *testing.T) { suite.Run(t, new(cycleSuite)) }

func (s *cycleSuite) env(batches *[]activities.BatchInput) *testsuite.TestWorkflowEnvironment {
	env := s.NewTestWorkflowEnvironment()
	var mu sync.Mutex
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(acts.FetchChanges, mock.Anything, mock.Anything).Return(activities.FetchResult{Staged: 100, Read: 100}, nil)
	env.OnActivity(acts.ProvisionBatch, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BatchInput) (activities.BatchResult, error) {
		mu.Lock()
		defer mu.Unlock()
		*batches = append(*batches, in)
		return activities.BatchResult{Entries: make([]audit.Entry, in.To-in.From+1)}, nil
	})
	env.OnActivity(acts.FinishCycle, mock.Anything, mock.Anything).Return(nil)
	return env
}

func cycleInput() workflows.CycleInput {
	return workflows.CycleInput{Job: testJob(), Cycle: store.Cycle{Job: "hr", ID: "1-x"}, Number: 1, Kind: api.Initial, Parent: "provisioning-job:hr"}
}

// A cycle whose history is large continues as new after the batches in
// flight, carrying its resume point; nothing is done twice.
func (s *cycleSuite) TestContinueAsNewMidCycle() {
	var batches []activities.BatchInput
	env := s.env(&batches)
	env.SetContinueAsNewSuggested(true)
	env.ExecuteWorkflow(workflows.ProvisioningCycle, cycleInput())
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(env.GetWorkflowError(), &can))
	var next workflows.CycleInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.True(next.State.Fetched, "the next run does not fetch again")
	s.Equal(len(batches)*10+1, next.State.NextSeq)
	s.Equal(len(batches)*10, next.State.Processed)
}

// A stopped cycle returns a resume point after the batches in flight.
func (s *cycleSuite) TestStopReturnsResumePoint() {
	var batches []activities.BatchInput
	env := s.env(&batches)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("cycle-stop", nil) }, 0)
	env.ExecuteWorkflow(workflows.ProvisioningCycle, cycleInput())
	s.Require().NoError(env.GetWorkflowError())
	var res workflows.CycleResult
	s.Require().NoError(env.GetWorkflowResult(&res))
	s.True(res.Paused)
	s.Less(len(batches), 10)
	s.Equal(len(batches)*10+1, res.Resume.State.NextSeq)

	// Resuming runs exactly the remaining batches.
	var rest []activities.BatchInput
	env2 := s.env(&rest)
	env2.ExecuteWorkflow(workflows.ProvisioningCycle, res.Resume)
	s.Require().NoError(env2.GetWorkflowError())
	s.Equal(10, len(batches)+len(rest))
	first := rest[0].From
	for _, b := range rest {
		first = min(first, b.From)
	}
	s.Equal(res.Resume.State.NextSeq, first, "batches run at once finish in any order")
}

// A cycle whose objects fail in numbers stops scheduling batches and asks
// for quarantine, with Azure's reason; malformed source records do not
// count, and failures under the minimum never quarantine.
func (s *cycleSuite) TestEscrowThreshold() {
	run := func(code string, threshold config.EscrowThreshold) (workflows.CycleResult, int) {
		env := s.NewTestWorkflowEnvironment()
		var mu sync.Mutex
		batches := 0
		env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil)
		env.OnActivity(acts.FetchChanges, mock.Anything, mock.Anything).Return(activities.FetchResult{Staged: 100, Read: 100}, nil)
		env.OnActivity(acts.ProvisionBatch, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BatchInput) (activities.BatchResult, error) {
			mu.Lock()
			defer mu.Unlock()
			batches++
			var res activities.BatchResult
			for i := in.From; i <= in.To; i++ {
				e := audit.Entry{Action: audit.Update, Status: audit.Success}
				if i%2 == 0 {
					e = audit.Entry{Action: audit.Update, Status: audit.Failure, ErrorCode: code, Reason: "refused"}
				}
				res.Entries = append(res.Entries, e)
			}
			return res, nil
		})
		env.OnActivity(acts.FinishCycle, mock.Anything, mock.Anything).Return(nil)
		in := cycleInput()
		in.Job.Options.Batches = 1
		in.Job.Options.EscrowThreshold = threshold
		env.ExecuteWorkflow(workflows.ProvisioningCycle, in)
		s.Require().NoError(env.GetWorkflowError())
		var res workflows.CycleResult
		s.Require().NoError(env.GetWorkflowResult(&res))
		return res, batches
	}
	low := config.EscrowThreshold{Minimum: 10}
	res, batches := run("UnprocessableEntity", low)
	s.Contains(res.QuarantineReason, "EncounteredEscrowProportionThreshold: 10 of 20 objects failed this cycle, over 40%")
	s.Equal(2, batches, "no batch after the threshold")

	res, batches = run("UnprocessableEntity", config.EscrowThreshold{Minimum: 10, Percent: 60, Total: 24})
	s.Contains(res.QuarantineReason, "EncounteredTotalEscrowThreshold: 25 objects failed this cycle, over 24")
	s.Equal(5, batches)

	res, batches = run(activities.CodeInvalidSourceRecord, low)
	s.Empty(res.QuarantineReason, "malformed source records are the data's fault, not the target's")
	s.Equal(10, batches)

	res, _ = run("UnprocessableEntity", config.EscrowThreshold{})
	s.Empty(res.QuarantineReason, "50 failures are under Azure's minimum of 5,000")
}

func TestParseRestartScopes(t *testing.T) {
	env := (&testsuite.WorkflowTestSuite{}).NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.ProvisioningCycle)
	env.OnActivity(acts.ValidateJob, mock.Anything, mock.Anything).Return(activities.ValidatedJob{MappingVersion: "v1"}, nil)
	env.OnActivity(acts.FetchChanges, mock.Anything, mock.Anything).Return(activities.FetchResult{}, nil)
	env.OnActivity(acts.FinishCycle, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(acts.ExportLog, mock.Anything, mock.Anything).Return(activities.ExportResult{}, nil)
	var st api.Status
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(api.SignalRestart, api.RestartRequest{Scopes: []string{"Everything"}})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(api.QueryStatus)
		require.NoError(t, err)
		require.NoError(t, v.Get(&st))
		env.CancelWorkflow()
	}, 2*time.Minute)
	env.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: testJob()})
	require.Contains(t, st.LastError, `unknown reset scope "Everything"`)
}

// A configuration update with new mappings starts an initial cycle at once;
// one for another job is rejected.
func (s *jobSuite) TestUpdateConfigurationRestartsInitialCycle() {
	changed := testJob()
	changed.Objects[0].Attributes = append(changed.Objects[0].Attributes, mapping.AttributeMapping{Target: "title", Type: mapping.Constant, Value: "Staff"})
	other := testJob()
	other.Name = "other"
	var rejected error
	var st api.Status
	s.mappingVersion = func(cfg config.Job) string { return fmt.Sprint(len(cfg.Objects[0].Attributes)) }
	s.at(time.Minute, func() {
		s.env.UpdateWorkflow(api.UpdateConfiguration, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejected = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, other)
		s.env.UpdateWorkflow(api.UpdateConfiguration, "u2", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { s.Fail("rejected", err.Error()) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, changed)
	})
	s.at(2*time.Minute, func() { st = s.status(); s.env.CancelWorkflow() })
	s.run()
	s.Require().Error(rejected)
	s.Contains(rejected.Error(), `"other"`)
	s.Require().Len(s.fetches, 2, "the new mappings run at once, not at the next interval")
	s.True(s.fetches[1].Initial)
	s.Len(s.fetches[1].Job.Objects[0].Attributes, 2)
	s.Equal("2", st.MappingVersion)
}

// A job that stays in quarantine for four weeks is disabled; start brings it back.
func (s *jobSuite) TestDisabledAfterFourWeeksInQuarantine() {
	s.refuse = true
	var disabled, started api.Status
	s.at(29*24*time.Hour, func() {
		disabled = s.status()
		s.refuse = false
		s.env.SignalWorkflow(api.SignalStart, nil)
	})
	s.at(29*24*time.Hour+time.Minute, func() { started = s.status(); s.env.CancelWorkflow() })
	s.run()
	s.Equal(api.Disabled, disabled.State)
	s.Contains(disabled.LastError, "disabled after")
	s.Equal(api.Running, started.State)
}

// The default guard weighs a cycle's removals against what the job has
// linked: a few leavers of many go ahead, most of them are held.
func (s *jobSuite) TestDeletionGuardOnByDefault() {
	for _, tc := range []struct {
		deleted int
		held    bool
	}{{deleted: 3}, {deleted: 25, held: true}} {
		s.SetupTest()
		s.deleted = tc.deleted
		var st api.Status
		s.at(time.Minute, func() { st = s.status(); s.env.CancelWorkflow() })
		s.env.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: testJob()})
		if tc.held {
			s.Equal(api.Paused, st.State)
			s.Equal(25, st.HeldDeletes)
			s.Empty(s.batches, "nothing is pushed while removals are held")
			continue
		}
		s.Equal(api.Running, st.State, "%d of 100 linked", tc.deleted)
		s.Zero(st.HeldDeletes)
		s.NotEmpty(s.batches)
		s.Empty(s.held)
	}
}

// More deletions than the threshold hold the cycle before anything is
// pushed and pause the job; restart with ForceDeletes applies them.
func (s *jobSuite) TestDeletionThresholdHoldsDeletes() {
	job := testJob()
	job.Options.DeletionThreshold = &config.DeletionThreshold{Count: 5}
	s.deleted = 10
	var held, approved api.Status
	s.at(time.Minute, func() {
		held = s.status()
		s.env.SignalWorkflow(api.SignalRestart, api.RestartRequest{Scopes: []string{"ForceDeletes"}})
	})
	s.at(2*time.Minute, func() { approved = s.status(); s.env.CancelWorkflow() })
	s.env.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: job})

	s.Equal(api.Paused, held.State)
	s.Equal(10, held.HeldDeletes)
	s.Contains(held.LastError, "TooManyDeletes")
	s.Contains(held.LastError, "at or over the threshold of 5")
	s.NotEmpty(held.HeldCycle)
	s.Require().Len(s.held, 1, "the held removals are listed in the log once")
	s.Equal(1, s.held[0].From)
	s.Equal(25, s.held[0].To)
	s.Contains(s.held[0].Reason, "at or over the threshold of 5")
	s.Equal(api.Running, approved.State)
	s.Zero(approved.HeldDeletes)
	s.Equal(1, approved.CycleNumber, "the held cycle resumed, not a new one")
	s.Equal(25, approved.LastCycle.Counts.Of(audit.Create, audit.Success))
	s.Len(s.resets, 1)
	s.Nil(s.resets[0].Abandon, "the held cycle is kept")
}
