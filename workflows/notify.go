package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/notify"
)

// condition is what a job's notices are about: disabled, holding
// deletions, quarantined, or none of these (Recovered).
func condition(st *JobState) notify.Event {
	switch {
	case st.State == api.Disabled:
		return notify.Disabled
	case st.HeldDeletes > 0:
		return notify.DeletionsHeld
	case st.Quarantine != nil:
		return notify.Quarantined
	}
	return notify.Recovered
}

// notify sends a notice when the job's condition changed since its last
// one: one notice per change, however many signals or cycles it took.
// The condition is carried across runs, so a change made while the run
// readied to continue as new is sent by the next. Notices are sent
// beside the job's work, which does not wait for them; the run continues
// as new only once they are sent (see run).
func (j *jobImpl) notify(ctx workflow.Context) {
	now, last := condition(j.st), j.st.Notified
	// A stopped disabled job keeps its quarantine: it is not quarantined anew.
	if now == last || last == notify.Disabled && now == notify.Quarantined {
		return
	}
	j.st.Notified = now
	// A state recorded before notices has no condition to compare with.
	if last == "" || workflow.GetVersion(ctx, notifyChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	n := notify.Notice{
		Event: now, Job: j.cfg.Name, Application: j.cfg.Target.Application, State: string(j.st.State),
		HeldDeletions: j.st.HeldDeletes, Time: workflow.Now(ctx), Workflow: workflow.GetInfo(ctx).WorkflowExecution.ID,
	}
	switch now {
	case notify.Recovered:
		n.From = last
	case notify.Quarantined:
		n.Reason = j.st.Quarantine.Reason
	default:
		n.Reason = j.st.LastError
	}
	// A notice outlives the job's cancellation, and is tried for a day.
	actx, _ := workflow.NewDisconnectedContext(ctx)
	actx = workflow.WithActivityOptions(actx, workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 10 * time.Second, MaximumInterval: 10 * time.Minute},
		Summary:                "notify " + string(now),
	})
	f := workflow.ExecuteActivity(actx, a.Notify, n)
	j.notifying++
	workflow.Go(ctx, func(ctx workflow.Context) {
		if err := f.Get(ctx, nil); err != nil {
			j.log.Error("state change not notified", "event", now, "error", err)
		}
		j.notifying--
	})
}
