package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/metrics"
)

// jobStates are the states the job's state gauge reports.
var jobStates = []string{string(api.Running), string(api.Paused), string(api.Quarantined), string(api.Disabled)}

// observe records the job's gauges: its state, held deletions and last
// success. The workflow's metrics handler records nothing during replays.
func (j *jobImpl) observe(ctx workflow.Context) {
	metrics.RecordJob(workflow.GetMetricsHandler(ctx), metrics.Job{
		Name: j.cfg.Name, State: string(j.st.State), States: jobStates, HeldDeletions: j.st.HeldDeletes,
		LastSuccess: j.st.LastSuccess, Now: workflow.Now(ctx),
	})
}

// Cycle outcomes, as the cycle duration metric labels them.
const (
	outcomeSucceeded   = "succeeded"
	outcomeFailed      = "failed"
	outcomeStopped     = "stopped"
	outcomeHeld        = "held"
	outcomeQuarantined = "quarantined"
)

// cycleEnded times the cycle that just ended, from its start or resume,
// and notes when it succeeded.
func (j *jobImpl) cycleEnded(ctx workflow.Context, kind api.CycleKind, res CycleResult, err error) {
	now := workflow.Now(ctx)
	outcome := outcomeSucceeded
	switch {
	case err != nil:
		outcome = outcomeFailed
	case res.Paused:
		outcome = outcomeStopped
	case res.HeldDeletes > 0:
		outcome = outcomeHeld
	case res.QuarantineReason != "":
		outcome = outcomeQuarantined
	default:
		j.st.LastSuccess = now
	}
	metrics.RecordCycle(workflow.GetMetricsHandler(ctx), j.cfg.Name, string(kind), outcome, now.Sub(j.st.Current.Started))
}
