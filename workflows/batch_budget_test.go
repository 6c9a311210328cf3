package workflows_test

import (
	"context"
	"sync"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/workflows"
)

// fullBatches is a cycle environment whose batches' results fill up after
// three items: each returns three entries and where the rest start. It
// counts how often each item is provisioned.
func (s *cycleSuite) fullBatches(done map[int]int) *testsuite.TestWorkflowEnvironment {
	env := s.NewTestWorkflowEnvironment()
	var mu sync.Mutex
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(acts.FetchChanges, mock.Anything, mock.Anything).Return(activities.FetchResult{Staged: 100, Read: 100}, nil)
	env.OnActivity(acts.ProvisionBatch, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BatchInput) (activities.BatchResult, error) {
		mu.Lock()
		defer mu.Unlock()
		s.Equal(activities.ResultBudget, in.Budget, "a new cycle gives its batches the budget")
		var res activities.BatchResult
		for seq := in.From; seq <= in.To; seq++ {
			if len(res.Entries) == 3 {
				res.Next = seq
				break
			}
			done[seq]++
			res.Entries = append(res.Entries, audit.Entry{Action: audit.Create, Status: audit.Success})
		}
		return res, nil
	})
	env.OnActivity(acts.FinishCycle, mock.Anything, mock.Anything).Return(nil)
	return env
}

// A batch whose result is full leaves the rest of its items, and the
// cycle schedules them: every item is provisioned exactly once.
func (s *cycleSuite) TestFullBatchesLeaveTheRest() {
	done := map[int]int{}
	env := s.fullBatches(done)
	env.ExecuteWorkflow(workflows.ProvisioningCycle, cycleInput())
	s.Require().NoError(env.GetWorkflowError())
	var res workflows.CycleResult
	s.Require().NoError(env.GetWorkflowResult(&res))
	s.Equal(100, res.Summary.Counts.Of(audit.Create, audit.Success))
	s.Len(done, 100)
	for seq, n := range done {
		s.Equal(1, n, "item %d", seq)
	}
}

// Items a full batch left are carried in the resume point of a stopped
// cycle, as through continue-as-new.
func (s *cycleSuite) TestLeftItemsSurviveAStop() {
	done := map[int]int{}
	env := s.fullBatches(done)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("cycle-stop", nil) }, 0)
	env.ExecuteWorkflow(workflows.ProvisioningCycle, cycleInput())
	s.Require().NoError(env.GetWorkflowError())
	var paused workflows.CycleResult
	s.Require().NoError(env.GetWorkflowResult(&paused))
	s.Require().True(paused.Paused)
	s.NotEmpty(paused.Resume.State.Left, "the batches left items")
	s.Equal(len(done), paused.Resume.State.Processed)

	env2 := s.fullBatches(done)
	env2.ExecuteWorkflow(workflows.ProvisioningCycle, paused.Resume)
	s.Require().NoError(env2.GetWorkflowError())
	var res workflows.CycleResult
	s.Require().NoError(env2.GetWorkflowResult(&res))
	s.Len(done, 100)
	for seq, n := range done {
		s.Equal(1, n, "item %d", seq)
	}
}
