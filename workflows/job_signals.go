package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/api"
)

// jobSignals are the signals a job handles, in the order it handles them.
var jobSignals = []string{api.SignalStop, api.SignalStart, api.SignalRestart, api.SignalSyncNow, api.SignalQuarantine, api.SignalRelease, signalCycleProgress}

// receive applies one signal to the job's state.
func (j *jobImpl) receive(ctx workflow.Context, name string, ch workflow.ReceiveChannel) {
	now := workflow.Now(ctx)
	switch name {
	case signalCycleProgress:
		var p api.CycleProgress
		ch.Receive(ctx, &p)
		if j.st.Current != nil && p.Number == j.st.Current.Number {
			p.Workflow = j.st.Current.Workflow
			j.st.Current = &p
			j.publish(ctx)
		}
		return
	case api.SignalRestart:
		var r api.RestartRequest
		ch.Receive(ctx, &r)
		j.restart = &r
	default:
		ch.Receive(ctx, nil)
	}
	j.log.Info("signal received", "signal", name)
	switch name {
	case api.SignalStop:
		j.st.State = api.Paused
	case api.SignalStart:
		j.st.State, j.st.Quarantine = api.Running, nil
	case api.SignalSyncNow:
		j.st.SyncNow = true
	case api.SignalQuarantine:
		j.quarantine(ctx, now, "QuarantinedOnDemand")
	case api.SignalRelease:
		if j.st.State == api.Quarantined || j.st.State == api.Disabled {
			j.st.State, j.st.Quarantine, j.st.SyncNow = api.Running, nil, true
		}
	}
	if j.cycleID != "" && (j.st.State != api.Running || j.restart != nil) {
		workflow.SignalExternalWorkflow(ctx, j.cycleID, "", signalCycleStop, nil)
	}
}
