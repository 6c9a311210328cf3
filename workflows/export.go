package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/audit"
)

// exportHeartbeat is how soon an export whose worker died is tried again.
const exportHeartbeat = 20 * time.Second

// exportLog has the worker copy one cycle's, on-demand request's or
// rollback's entries (cycleID) from the history of run ex to its sinks,
// and returns the activity's future; nil when nothing is copied: a dry
// run changed nothing. The export is tried until the sinks take it, so
// no entry is lost when history goes with the namespace's retention; a
// job cancelled meanwhile still waits for it.
func (j *jobImpl) exportLog(ctx workflow.Context, ex workflow.Execution, cycleID, what string) workflow.Future {
	if j.cfg.Options.DryRun || workflow.GetVersion(ctx, auditExportChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	actx, _ := workflow.NewDisconnectedContext(ctx)
	actx = workflow.WithActivityOptions(actx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Hour,
		HeartbeatTimeout:    exportHeartbeat,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: 5 * time.Minute},
		Summary:             "export the log of " + what,
	})
	in := activities.ExportInput{Job: j.cfg.Name, WorkflowID: ex.ID, RunID: ex.RunID, CycleID: cycleID, Time: workflow.Now(ctx)}
	return workflow.ExecuteActivity(actx, a.ExportLog, in)
}

// exportCycleLog exports the log of a cycle that ended, however it ended,
// handling signals while it waits.
func (j *jobImpl) exportCycleLog(ctx workflow.Context, cycle workflow.ChildWorkflowFuture, in *CycleInput) {
	var ex workflow.Execution
	if err := cycle.GetChildWorkflowExecution().Get(ctx, &ex); err != nil {
		return // never started, so it logged nothing
	}
	f := j.exportLog(ctx, ex, in.Cycle.ID, fmt.Sprintf("cycle %d", in.Number))
	if f == nil {
		return
	}
	done := false
	sel := workflow.NewSelector(ctx)
	j.addSignals(ctx, sel)
	sel.AddFuture(f, func(f workflow.Future) {
		done = true
		if err := f.Get(ctx, nil); err != nil {
			j.log.Error("the cycle's log was not exported", "cycle", in.Number, "error", err)
		}
	})
	for !done {
		sel.Select(ctx)
	}
}

// exportUpdateLog exports the entries an update's activity returned,
// which are in the job's history now.
func (j *jobImpl) exportUpdateLog(ctx workflow.Context, entries []audit.Entry, what string) {
	if len(entries) == 0 {
		return
	}
	f := j.exportLog(ctx, workflow.GetInfo(ctx).WorkflowExecution, entries[0].CycleID, what)
	if f == nil {
		return
	}
	if err := f.Get(ctx, nil); err != nil {
		j.log.Error("the log of "+what+" was not exported", "error", err)
	}
}
