package workflows_test

import (
	"context"
	"strings"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/workflows"
)

// Every cycle's log is exported once the cycle has ended, however it
// ended, from the cycle's first run, and named by the time it was asked
// for, which a retried export finds again.
func (s *jobSuite) TestLogExportedAfterEveryCycle() {
	s.at(25*time.Minute, func() { s.env.CancelWorkflow() })
	s.run()
	s.Require().Len(s.finishes, 3)
	s.Require().Len(s.exports, 3)
	for i, ex := range s.exports {
		s.Equal("hr", ex.Job)
		s.Equal(s.finishes[i].Cycle.ID, ex.CycleID)
		s.Regexp(`/cycle-`+string(rune('1'+i))+`$`, ex.WorkflowID)
		s.NotEmpty(ex.RunID)
		s.False(ex.Time.IsZero())
	}
	s.True(s.exports[1].Time.After(s.exports[0].Time))
}

// A cycle that ends in quarantine has pushed changes too: its log is
// exported like any other.
func (s *jobSuite) TestQuarantinedCycleLogExported() {
	s.refuse = true
	var st api.Status
	s.at(time.Minute, func() { st = s.status(); s.env.CancelWorkflow() })
	s.run()
	s.Equal(api.Quarantined, st.State)
	s.Require().Len(s.exports, 1)
	s.Equal(s.fetches[0].Cycle.ID, s.exports[0].CycleID)
}

// The entries of an on-demand request and of a rollback are exported
// from the job's own run, selected by their cycle ID, before the update
// answers.
func (s *jobSuite) TestOnDemandAndRollbackLogsExported() {
	s.env.OnActivity(acts.ProvisionOnDemand, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.OnDemandInput) (api.OnDemandResult, error) {
		return api.OnDemandResult{Entries: []audit.Entry{{CycleID: "on-demand-" + in.RequestID, Action: audit.Create, Status: audit.Success}}}, nil
	})
	s.env.OnActivity(acts.RollBack, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RollbackInput) (api.RollbackResult, error) {
		return api.RollbackResult{Entries: []audit.Entry{{CycleID: "rollback-" + in.RequestID, Action: audit.Update, Status: audit.Success}}}, nil
	})
	var exportsAtAnswer []int
	update := func(name, id string, arg any) {
		s.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { s.Fail("refused", "%s: %v", id, err) },
			OnComplete: func(any, error) { exportsAtAnswer = append(exportsAtAnswer, len(s.exports)) },
		}, arg)
	}
	s.at(time.Minute, func() {
		update(api.UpdateProvisionOnDemand, "req-1", api.OnDemandRequest{Type: "User", ID: "E1"})
	})
	s.at(2*time.Minute, func() { s.env.SignalWorkflow(api.SignalStop, nil) })
	s.at(3*time.Minute, func() {
		update(api.UpdateRollback, "rb-1", audit.RollbackPlan{Restores: []audit.Restore{{ObjectType: "User", SourceID: "E1", TargetID: "t1", Action: audit.Update}}})
	})
	s.at(4*time.Minute, func() { s.env.CancelWorkflow() })
	s.run()
	s.Require().Len(s.exports, 3, "the first cycle, the request and the rollback")
	jobID := strings.TrimSuffix(s.exports[0].WorkflowID, "/cycle-1")
	for i, want := range map[int]string{1: "on-demand-req-1", 2: "rollback-rb-1"} {
		s.Equal(want, s.exports[i].CycleID)
		s.Equal(jobID, s.exports[i].WorkflowID, "read from the job's run")
		s.NotEmpty(s.exports[i].RunID)
	}
	s.Equal([]int{2, 3}, exportsAtAnswer, "each update answers after its export")
}

// A dry run changes nothing, and its log stays in history only.
func (s *jobSuite) TestDryRunExportsNothing() {
	job := testJob()
	job.Options.DryRun = true
	s.at(25*time.Minute, func() { s.env.CancelWorkflow() })
	s.env.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: job})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Len(s.finishes, 3)
	s.Empty(s.exports)
}
