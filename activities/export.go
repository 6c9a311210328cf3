package activities

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/audit/sink"
)

// Trail is where the worker copies the provisioning log so that it
// outlives the namespace's retention. The worker's operator configures the
// sinks; a job's configuration cannot, so no job makes the worker write
// files or send data anywhere. Client reads the entries back from history.
type Trail struct {
	Client client.Client
	Sinks  []sink.Sink
}

// ExportInput names entries in history to copy to the worker's sinks.
type ExportInput struct {
	Job string `json:"job"`
	// WorkflowID and RunID name the run whose history holds the entries,
	// followed through continue-as-new: a cycle's first run, or the job's
	// run that provisioned on demand or rolled back.
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	// CycleID selects the entries: the cycle's, or an on-demand request's
	// or a rollback's (the cycle ID of their entries).
	CycleID string `json:"cycleId"`
	// Time is when the workflow asked, after the entries were complete. It
	// names what the sinks write, so a retried export finds what an
	// earlier attempt wrote.
	Time time.Time `json:"time"`
}

// ExportResult says how many entries an export read from history.
type ExportResult struct {
	Exported int `json:"exported"`
}

// ExportLog copies entries from history to the worker's sinks, each sink
// getting them once (see package sink for what a repeat looks like). It
// heartbeats how far each sink got, and a retried attempt goes on from
// there. A worker without sinks copies nothing.
func (a *Activities) ExportLog(ctx context.Context, in ExportInput) (ExportResult, error) {
	if a.Trail == nil || len(a.Trail.Sinks) == 0 {
		return ExportResult{}, nil
	}
	var cp sink.Checkpoint
	if activity.HasHeartbeatDetails(ctx) {
		// A checkpoint that cannot be read starts over, which the sinks
		// tell apart as repeats.
		_ = activity.GetHeartbeatDetails(ctx, &cp)
	}
	var mu sync.Mutex
	last := cp
	stop := heartbeating(ctx, func() any {
		mu.Lock()
		defer mu.Unlock()
		return last
	})
	defer stop()
	saved := func(c sink.Checkpoint) {
		mu.Lock()
		last = c
		mu.Unlock()
		activity.RecordHeartbeat(ctx, c)
	}
	u := sink.Unit{Job: in.Job, ID: sink.UnitID(in.CycleID, in.RunID), Time: in.Time}
	n, err := sink.Export(ctx, a.Trail.Sinks, u, cp, func(fn func(audit.Entry) error) error {
		return history.ReadRun(ctx, a.Trail.Client, in.WorkflowID, in.RunID, func(e audit.Entry) error {
			if e.CycleID != in.CycleID {
				return nil
			}
			return fn(e)
		})
	}, saved)
	if err != nil {
		return ExportResult{}, err
	}
	if n > 0 {
		a.logger(in.Job).WithField("entries", n).WithField("unit", u.ID).Info("provisioning log exported")
	}
	return ExportResult{Exported: n}, nil
}
