package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/openprovisioning/provisioner/notify"
)

// Notify sends a notice of the job's state change to the targets the
// worker's operator configured; none configured, it sends nothing. The
// notice's ID is the job's workflow run and this activity's ID, the same
// for every attempt, and receivers drop an ID they have seen. A retried
// attempt sends only to the targets an earlier attempt did not reach,
// which its heartbeat records.
func (a *Activities) Notify(ctx context.Context, n notify.Notice) error {
	if a.Notifier == nil {
		a.logger(n.Job).WithField("event", n.Event).Info("state change not notified: no notification target configured")
		return nil
	}
	info := activity.GetInfo(ctx)
	n.ID = fmt.Sprintf("%s/%s/%s", info.WorkflowExecution.ID, info.WorkflowExecution.RunID, info.ActivityID)
	var sent notify.Sent
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &sent)
	}
	err := a.Notifier.Send(ctx, n, sent, func(s notify.Sent) { activity.RecordHeartbeat(ctx, s) })
	if err != nil {
		return fmt.Errorf("notify %s of job %s: %w", n.Event, n.Job, err)
	}
	a.logger(n.Job).WithFields(map[string]any{"event": n.Event, "notice": n.ID}).Info("state change notified")
	return nil
}
